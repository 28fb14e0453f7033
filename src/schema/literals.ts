import { Type } from '@sinclair/typebox';

/** A string enum as one schema (one "must be one of …" error, not one per literal as a union of literals gives). */
export const literals = <T extends string>(values: readonly T[], options: { description?: string; default?: T } = {}) =>
  Type.Unsafe<T>({ type: 'string', enum: [...values], ...options });

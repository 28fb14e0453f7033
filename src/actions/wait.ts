import { Type } from '@sinclair/typebox';
import { defineAction } from '../engine/step-definition.ts';
import { Duration, parseDuration } from '../domain/duration.ts';

/**
 * Pauses the run for a duration without holding a worker: the first call returns `pending` with the wake-up time
 * as state; the call after it (or after a crash, whichever comes first) sees the time has passed and finishes.
 */
export const waitAction = defineAction({
  name: 'wait',
  summary: 'Pause the run for a duration without holding a worker slot.',
  params: Type.Object({ duration: Duration({ description: 'How long to wait, e.g. 30s, 2m.' }) }, { additionalProperties: false }),
  async run(ctx) {
    const state = ctx.state as { until: number } | undefined;
    const until = state?.until ?? ctx.clock.now() + parseDuration(ctx.params.duration);
    const left = until - ctx.clock.now();
    if (left > 0) return { status: 'pending', resumeAfterMs: left, state: { until }, summary: `waiting ${Math.ceil(left / 1000)} s` };
    return { status: 'ok', output: { waitedUntil: new Date(until).toISOString() } };
  },
});

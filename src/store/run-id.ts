import { randomBytes } from 'node:crypto';

/** Run ids sort by creation time, are safe as Redis key parts and BullMQ job ids (no ':', never all digits). */
export function newRunId(now = Date.now()): string {
  return `run-${now.toString(36)}-${randomBytes(5).toString('hex')}`;
}

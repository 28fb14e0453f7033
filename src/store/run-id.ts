import { randomFillSync } from 'node:crypto';

/**
 * Random bytes for ids, drawn in blocks: one `randomFillSync` per 1,024 ids instead of a call into the CSPRNG (and a
 * Buffer) for every id. A webhook makes a candidate id for every run it might start, repeats included.
 */
const BYTES = 5;
const pool = Buffer.alloc(BYTES * 1024);
let offset = pool.length;

/** Run ids sort by creation time, are safe as Redis key parts and BullMQ job ids (no ':', never all digits). */
export function newRunId(now = Date.now()): string {
  if (offset + BYTES > pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const random = pool.toString('hex', offset, offset + BYTES);
  offset += BYTES;
  return `run-${now.toString(36)}-${random}`;
}

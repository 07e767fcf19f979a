import { randomFillSync } from 'node:crypto';
import { v7 } from 'uuid';

/** Random bytes for ids, drawn from the CSPRNG 4 KB at a time (one call per 256 ids instead of one per id). */
const POOL = Buffer.alloc(4096);
let poolOffset = POOL.length;

/** Time-ordered id (UUIDv7, RFC 9562 §5.7): inserts stay append-only in B-trees, and sort by creation. */
export const newId = (): string => {
  if (poolOffset + 16 > POOL.length) {
    randomFillSync(POOL);
    poolOffset = 0;
  }
  const random = POOL.subarray(poolOffset, poolOffset + 16);
  poolOffset += 16;
  return v7({ random });
};

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether `value` has the shape of a Tally id (a UUID), checked before it reaches a query. */
export const isTallyId = (value: string): boolean => UUID_PATTERN.test(value);

/** Ids are time-ordered even within one millisecond: ledger pages and cursors sort by id (UUIDv7's monotonic counter, RFC 9562 §6.2). */
import { describe, expect, it } from 'vitest';
import { newId } from '../src/ids';

describe('newId', () => {
  it('orders 10,000 ids made in a tight loop (many per millisecond) as they were made', () => {
    const ids = Array.from({ length: 10_000 }, () => newId());
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

import { v7 } from 'uuid';

/** Time-ordered id (UUIDv7): inserts stay append-only in B-trees, and sort by creation. */
export const newId = (): string => v7();

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether `value` has the shape of a Tally id (a UUID), checked before it reaches a query. */
export const isTallyId = (value: string): boolean => UUID_PATTERN.test(value);

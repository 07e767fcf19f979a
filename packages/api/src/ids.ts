import { v7 } from 'uuid';

/** Time-ordered id (UUIDv7): inserts stay append-only in B-trees, and sort by creation. */
export const newId = (): string => v7();

/** Anything stored in a {@link Collection}: Stripe objects and the emulator's own records. */
export interface Identified {
  id: string;
}

/**
 * An insertion-ordered table of objects keyed by `id`. Every mutation calls `onChange`
 * (the store uses it to schedule persistence). Callers own the objects they get back:
 * store a fresh object with {@link Collection.put} rather than mutating one in place.
 */
export class Collection<T extends Identified> {
  readonly #items = new Map<string, T>();

  constructor(private readonly onChange: () => void) {}

  get(id: string): T | undefined {
    return this.#items.get(id);
  }

  /** Inserts or replaces `item` (replacing keeps its original position in the ordering). */
  put(item: T): T {
    this.#items.set(item.id, item);
    this.onChange();
    return item;
  }

  delete(id: string): boolean {
    const deleted = this.#items.delete(id);
    if (deleted) this.onChange();
    return deleted;
  }

  /** All items, oldest first. */
  all(): T[] {
    return [...this.#items.values()];
  }

  /** All items newest first: the order of every Stripe list endpoint. */
  newestFirst(): T[] {
    return this.all().reverse();
  }

  /** Replaces the whole content without signalling a change (used when loading persisted state). */
  load(items: readonly T[]): void {
    this.#items.clear();
    for (const item of items) this.#items.set(item.id, item);
  }
}

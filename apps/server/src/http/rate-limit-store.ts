/**
 * express-rate-limit's `Store` on Tally's database (`rate_limits`, the fixed-window counters
 * of @tally/api), so every server process shares one count per key: with the default
 * MemoryStore each process would allow the limit again.
 */
import { forgiveWindowCounter, hitWindowCounter, peekWindowCounter, resetWindowCounter } from '@tally/api';
import type { Database } from '@tally/db';
import type { ClientRateLimitInfo, Options, Store } from 'express-rate-limit';

/**
 * A fixed-window store: `increment` is one atomic upsert (`hitWindowCounter`), so concurrent
 * hits from several processes are all counted. Keys are stored as `<prefix><key>`
 * (e.g. `mut-ip:203.0.113.7`), apart from better-auth's keys in the same table. The window
 * length comes from the limiter's `windowMs` (milliseconds) at `init`.
 */
export class WindowCounterStore implements Store {
  /** Counts are shared with every process using the same database. */
  readonly localKeys = false;
  private windowMs = 60_000;

  constructor(
    private readonly db: Database,
    /** Prepended to every key; also tells express-rate-limit's double-count check stores apart. */
    readonly prefix: string,
  ) {}

  init(options: Options): void {
    this.windowMs = options.windowMs;
  }

  async get(key: string): Promise<ClientRateLimitInfo | undefined> {
    const { count, resetAt } = await peekWindowCounter(this.db, { key: this.prefix + key, windowMs: this.windowMs });
    return count > 0 ? { totalHits: count, resetTime: resetAt } : undefined;
  }

  async increment(key: string): Promise<ClientRateLimitInfo> {
    const { count, resetAt } = await hitWindowCounter(this.db, { key: this.prefix + key, windowMs: this.windowMs });
    return { totalHits: count, resetTime: resetAt };
  }

  async decrement(key: string): Promise<void> {
    await forgiveWindowCounter(this.db, { key: this.prefix + key });
  }

  async resetKey(key: string): Promise<void> {
    await resetWindowCounter(this.db, { key: this.prefix + key });
  }
}

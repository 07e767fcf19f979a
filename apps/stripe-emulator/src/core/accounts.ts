import { createHash } from 'node:crypto';
import type { BillingSettings } from '../billing/settings';
import { EMULATOR_DEV_API_KEY } from '../defaults';
import { nowSeconds } from './clock';
import type { AccountInfo, EmulatorContext } from './context';
import { EventPublisher, type EventSink } from './events';
import { Store, type PersistedAccount, type PersistedState } from './store';

/**
 * The emulator's Stripe accounts. Each has its own {@link Store} (customers, sessions, events,
 * webhook endpoints, idempotency keys: everything) and so its own event stream; a secret key
 * belongs to exactly one account:
 * - a key listed in the `accounts` option belongs to that entry's account;
 * - `EMULATOR_DEV_API_KEY` belongs to the default account (unless an entry lists it, which then is
 *   the default account);
 * - any other key: with `accountPerKey`, to an account of its own made on first use, whose id
 *   is derived from the key (`acct_1` + 16 characters of its SHA-256), so the same key reaches
 *   the same account across restarts; without it, to the default account (one account for all,
 *   as the emulator always behaved).
 */

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** The id of the account a key makes for itself: `acct_1` + 16 base-62 characters of the key's SHA-256 (deterministic). */
export function accountIdFromKey(key: string): string {
  const digest = createHash('sha256').update(key).digest();
  let out = 'acct_1';
  for (const byte of digest.subarray(0, 16)) out += ALPHABET[byte % ALPHABET.length];
  return out;
}

/** A key as Stripe shows it in messages and the Dashboard: `sk_test_****…abcd`. */
export const maskKey = (key: string) => `${key.slice(0, 8)}${'*'.repeat(Math.max(0, key.length - 12))}${key.slice(-4)}`;

/** An account of the `accounts` option of `startStripeEmulator`. */
export interface AccountOptions {
  /** `acct_…`; default: derived from the first key (as {@link accountIdFromKey}). */
  id?: string;
  /** The secret/restricted keys that reach this account (e.g. an `sk_test_` and an `rk_test_`). */
  keys: string[];
  /** Endpoints that receive every event of this account (like the top-level `webhookEndpoints` for the default account). */
  webhookEndpoints?: { url: string; secret: string }[];
  /** `settings.dashboard.display_name` and `business_profile.name` of `GET /v1/account`. */
  displayName?: string;
  /** `email` of `GET /v1/account`. */
  email?: string;
}

/** One account: who it is, the keys seen for it (masked) and its state. */
export interface Account {
  readonly info: AccountInfo;
  readonly id: string;
  readonly isDefault: boolean;
  readonly store: Store;
  readonly events: EventPublisher;
  /** What handlers of this account's requests get. */
  readonly ctx: EmulatorContext;
  /** The account's keys as shown on the dashboard (masked), configured or seen so far. */
  readonly maskedKeys: Set<string>;
}

/** What an account's state is made with. */
export interface AccountsOptions {
  accountPerKey: boolean;
  accounts: readonly AccountOptions[];
  /** Where an account's published events go (the webhook dispatcher). */
  sinkFor: (account: string) => EventSink;
  baseUrl: () => string;
  billing?: Partial<BillingSettings> | undefined;
}

/** Every account of a running emulator (see the module comment). */
export class Accounts {
  /** Called after every change of any account (persistence hooks in here). */
  onChange: () => void = () => {};

  readonly #options: AccountsOptions;
  readonly #byId = new Map<string, Account>();
  /** Configured keys → account id. */
  readonly #keys = new Map<string, string>();
  readonly #defaultId: string;

  constructor(options: AccountsOptions) {
    this.#options = options;
    const ids = new Set<string>();
    for (const entry of options.accounts) {
      if (entry.keys.length === 0) throw new Error('stripe-emulator: each entry of `accounts` needs at least one key');
      const id = entry.id ?? accountIdFromKey(entry.keys[0]!);
      if (!/^acct_[A-Za-z0-9]+$/.test(id)) throw new Error(`stripe-emulator: invalid account id ${JSON.stringify(id)} (expected acct_…)`);
      if (ids.has(id)) throw new Error(`stripe-emulator: account ${id} is listed twice in \`accounts\``);
      ids.add(id);
      for (const key of entry.keys) {
        if (this.#keys.has(key)) throw new Error(`stripe-emulator: key ${maskKey(key)} is listed for two accounts`);
        this.#keys.set(key, id);
      }
    }
    this.#defaultId = this.#keys.get(EMULATOR_DEV_API_KEY) ?? accountIdFromKey(EMULATOR_DEV_API_KEY);
    const defaultEntry = options.accounts.find((entry) => entry.keys.includes(EMULATOR_DEV_API_KEY));
    if (!defaultEntry && ids.has(this.#defaultId)) throw new Error(`stripe-emulator: account id ${this.#defaultId} is the default account's (EMULATOR_DEV_API_KEY's)`);
    this.#create(this.#defaultId, defaultEntry ?? { keys: [EMULATOR_DEV_API_KEY] });
    for (const entry of options.accounts) if (entry !== defaultEntry) this.#create(this.#keys.get(entry.keys[0]!)!, entry);
  }

  /** The default account: `EMULATOR_DEV_API_KEY`'s, and that of the configured `webhookEndpoints`. */
  get default(): Account {
    return this.#byId.get(this.#defaultId)!;
  }

  /** Every account, the default one first, then in creation order. */
  all(): Account[] {
    return [...this.#byId.values()];
  }

  get(id: string): Account | undefined {
    return this.#byId.get(id);
  }

  /** The id of the account `key` reaches (whether or not it exists yet). */
  idForKey(key: string): string {
    const configured = this.#keys.get(key);
    if (configured) return configured;
    if (key === EMULATOR_DEV_API_KEY || !this.#options.accountPerKey) return this.#defaultId;
    return accountIdFromKey(key);
  }

  /** The account of an accepted API key, made on first use. */
  forKey(key: string): Account {
    const id = this.idForKey(key);
    const account = this.#byId.get(id) ?? this.#create(id, {});
    const masked = maskKey(key);
    if (!account.maskedKeys.has(masked)) {
      account.maskedKeys.add(masked);
      this.onChange();
    }
    return account;
  }

  /**
   * The account given as an id (`acct_…`; `undefined` if there is none) or by one of its keys
   * (made on first use, like an API request with the key would); the default account when
   * `accountOrKey` is `undefined`.
   */
  resolve(accountOrKey?: string): Account | undefined {
    if (accountOrKey === undefined) return this.default;
    return accountOrKey.startsWith('acct_') ? this.#byId.get(accountOrKey) : this.forKey(accountOrKey);
  }

  /** The first account (default first) for which `owns` is true: where a hosted page's object lives. */
  find(owns: (ctx: EmulatorContext) => boolean): Account | undefined {
    return this.all().find((account) => owns(account.ctx));
  }

  /**
   * The state file's document: the default account's tables at the top (as before accounts
   * existed, so older emulators still read it), the other accounts under `accounts`.
   */
  snapshot(): PersistedState {
    const meta = (account: Account): Omit<PersistedAccount, 'tables'> => ({
      id: account.id,
      created: account.info.created,
      displayName: account.info.displayName,
      email: account.info.email,
      keys: [...account.maskedKeys],
    });
    const others = this.all().filter((account) => !account.isDefault);
    return {
      ...this.default.store.snapshot(),
      account: meta(this.default),
      accounts: others.map((account) => ({ ...meta(account), tables: account.store.snapshot().tables })),
    };
  }

  /** Loads a state file's document: top-level tables into the default account (also for files from before accounts), the rest by id. */
  restore(state: PersistedState): void {
    this.default.store.restore(state);
    if (state.account?.id === this.#defaultId) this.default.info.created = state.account.created;
    for (const key of state.account?.keys ?? []) this.default.maskedKeys.add(key);
    for (const saved of state.accounts ?? []) {
      if (saved.id === this.#defaultId) continue; // the default account's state is the top-level one
      const account = this.#byId.get(saved.id) ?? this.#create(saved.id, {}, saved);
      account.store.restore({ version: 1, tables: saved.tables });
      for (const key of saved.keys) account.maskedKeys.add(key);
    }
  }

  #create(id: string, entry: Partial<AccountOptions>, saved?: Omit<PersistedAccount, 'tables'>): Account {
    const isDefault = id === this.#defaultId;
    const info: AccountInfo = {
      id,
      created: saved?.created ?? nowSeconds(),
      displayName: entry.displayName ?? saved?.displayName ?? (isDefault ? 'Tally emulator' : `Tally emulator ${id}`),
      email: entry.email ?? saved?.email ?? `${id.toLowerCase()}@stripe-emulator.test`,
    };
    const store = new Store();
    store.onChange = () => this.onChange();
    const events = new EventPublisher(store, this.#options.sinkFor(id));
    const ctx: EmulatorContext = { store, events, baseUrl: this.#options.baseUrl, billing: this.#options.billing, account: info };
    const maskedKeys = new Set<string>([...(entry.keys ?? []).map(maskKey)]);
    const account: Account = { info, id, isDefault, store, events, ctx, maskedKeys };
    this.#byId.set(id, account);
    if (!saved) this.onChange();
    return account;
  }
}

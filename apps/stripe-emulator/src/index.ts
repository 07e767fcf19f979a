import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type Stripe from 'stripe';
import { createApp } from './app';
import { Accounts, type AccountOptions } from './core/accounts';
import { StatePersistence } from './core/persistence';
import { EMULATOR_DEFAULT_PORT } from './defaults';
import { StripeApiError } from './http/errors';
import { submitAuthentication, submitCheckoutForm, type SubmitResult } from './payments/checkout-form';
import { settleProcessingPayments } from './payments/async-payments';
import { sweepBilling } from './billing/scheduler';
import { reportMeterEventErrors } from './billing/meter-error-reports';
import { handleConnect } from './http/meter-events-proxy';
import type { BillingSettings } from './billing/settings';
import { expireDueSessions } from './resources/checkout-sessions';
import { WebhookDispatcher, type DeliveryAttempt, type WebhookEndpoint } from './webhooks/dispatcher';

export type { AccountOptions, DeliveryAttempt, WebhookEndpoint };
export { accountIdFromKey } from './core/accounts';

/** Retry delays (ms) between webhook attempts by default: 5 s, 30 s, 2 min, 10 min, 1 h (6 attempts in all). */
export const DEFAULT_RETRY_SCHEDULE_MS: readonly number[] = [5_000, 30_000, 120_000, 600_000, 3_600_000];

export interface StripeEmulatorOptions {
  /** TCP port; `0` picks a free one. Default 12111. */
  port?: number;
  /** Interface to listen on. Default `127.0.0.1`. */
  host?: string;
  /** Endpoints every event of the default account is POSTed to (other accounts' events go to their own endpoints only). */
  webhookEndpoints?: WebhookEndpoint[];
  /**
   * Whether every API key has an account of its own (made on first use; id derived from the key,
   * see {@link accountIdFromKey}), as with Stripe. Default `false`: keys not listed in `accounts`
   * all reach the default account, as before accounts existed (`pnpm dev` turns it on).
   */
  accountPerKey?: boolean;
  /**
   * Accounts with several keys (e.g. an `sk_test_` and an `rk_test_`), a chosen id, their own
   * configured webhook endpoints or name. An entry listing `EMULATOR_DEV_API_KEY` is the default account.
   */
  accounts?: AccountOptions[];
  /** Delays in ms between delivery attempts (`[50, 100, 200]` → 4 attempts). Default {@link DEFAULT_RETRY_SCHEDULE_MS}. */
  retryScheduleMs?: number[];
  /** JSON file to load state from and save it to (debounced, atomic); `null`/absent keeps state in memory only. */
  statePath?: string | null;
  /** Receives one line per request, delivery attempt and notable happening. Default: silent. */
  log?: (line: string) => void;
  /** Billing engine settings: payment retry schedule, what happens after the last retry, renewal finalization delay... (see `billing/settings.ts`). */
  billing?: Partial<BillingSettings>;
}

/** Options of {@link StripeEmulator.completeCheckoutSession}. */
export interface CompleteCheckoutOptions {
  /** Test card number (spaces allowed). Default `4242424242424242`. */
  card?: string;
  /** Email typed in the form when the session needs one. Default `jenny.rosen@example.com`. */
  email?: string;
  /** How the 3-D Secure challenge of a 3DS card ends. Default `complete`. */
  authentication?: 'complete' | 'fail';
}

export type CompleteCheckoutResult = { ok: true } | { ok: false; code: string; message: string };

/** An account of a running emulator, as {@link StripeEmulator.accounts} lists it. */
export interface EmulatorAccount {
  /** `acct_…` */
  id: string;
  /** Whether it is the default account (`EMULATOR_DEV_API_KEY`'s, which the `webhookEndpoints` option serves). */
  isDefault: boolean;
  /** Its keys configured or used so far, masked (`sk_test_****abcd`). */
  keys: string[];
}

/** A meter event as {@link StripeEmulator.meterEvents} lists it. */
export interface EmulatorMeterEvent {
  event: Stripe.Billing.MeterEvent;
  /** `mtr_...` it counts towards, or `null`. */
  meter: string | null;
  /** Why it counts nowhere (`no_meter`, `meter_event_customer_not_found`, ...), or `null`. */
  error: string | null;
}

/**
 * A running emulator. Helpers that take an optional `account` (an account id `acct_…` or one of
 * the account's API keys) default to the default account.
 */
export interface StripeEmulator {
  /** Base URL, e.g. `http://127.0.0.1:12111`. */
  url: string;
  port: number;
  /** Stops the server and webhook deliveries, and writes the state file if any. */
  close(): Promise<void>;
  /** Every webhook delivery attempt so far of the account's events, oldest first ([] for an unknown account id). */
  deliveries(account?: string): DeliveryAttempt[];
  /** Every event of the account so far, oldest first (copies; [] for an unknown account id). */
  events(account?: string): Stripe.Event[];
  /**
   * Every meter event the account accepted so far (v1 and the v2 stream), in ingestion order:
   * the `billing.meter_event` object Stripe answered (copies), the meter it counts towards
   * (`null` when it counts nowhere) and the asynchronous error code if any. A test helper: Stripe
   * has no API listing meter events ([] for an unknown account id).
   */
  meterEvents(account?: string): EmulatorMeterEvent[];
  /** Resolves when no webhook delivery (of any account) is scheduled or in flight. */
  waitForIdle(): Promise<void>;
  /** Adds a webhook endpoint that receives every event of the account published from now on. */
  addWebhookEndpoint(endpoint: WebhookEndpoint, account?: string): void;
  /**
   * The id of the account an API key reaches (`acct_…`; deterministic, whether or not the key
   * was used yet). Without `accountPerKey`, keys not listed in `accounts` give the default account's id.
   */
  accountIdForKey(key: string): string;
  /** The default account's id (`EMULATOR_DEV_API_KEY`'s account). */
  readonly defaultAccountId: string;
  /** Every account so far, the default one first. */
  accounts(): EmulatorAccount[];
  /**
   * Test helper: pays an open Checkout Session (of any account) through the same code path as
   * the hosted page form (then the 3-D Secure step for 3DS cards). Rejects for an unknown session id.
   * `code` is the decline code (`generic_decline`, `insufficient_funds`) or error code.
   */
  completeCheckoutSession(id: string, options?: CompleteCheckoutOptions): Promise<CompleteCheckoutResult>;
}

const SWEEP_INTERVAL_MS = 1000;

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

function toResult(result: SubmitResult): CompleteCheckoutResult {
  switch (result.status) {
    case 'succeeded':
      return { ok: true };
    case 'failed':
      return { ok: false, code: result.error.decline_code ?? result.error.code ?? 'payment_failed', message: result.error.message };
    case 'invalid':
      return { ok: false, code: result.error.code, message: result.error.message };
    case 'requires_action':
    case 'closed':
      return { ok: false, code: 'checkout_session_not_open', message: `Checkout Session ${result.session.id} is ${String(result.session.status)}.` };
  }
}

/**
 * Starts a local stand-in for the Stripe API that the `stripe` SDK talks to unchanged
 * (`new Stripe(key, { host: '127.0.0.1', port, protocol: 'http' })`), with hosted Checkout
 * pages and signed webhook deliveries. See README.md for what is emulated.
 */
export async function startStripeEmulator(options: StripeEmulatorOptions = {}): Promise<StripeEmulator> {
  const log = options.log ?? (() => {});
  const host = options.host ?? '127.0.0.1';
  let baseUrl = '';
  const accounts: Accounts = new Accounts({
    accountPerKey: options.accountPerKey ?? false,
    accounts: options.accounts ?? [],
    // Called once events are published, after `webhooks` (below) exists.
    sinkFor: (account) => ({
      endpointCountFor: (type) => webhooks.endpointCountFor(type, account),
      enqueue: (event) => webhooks.enqueue(event, account),
    }),
    baseUrl: () => baseUrl,
    billing: options.billing,
  });
  const webhooks: WebhookDispatcher = new WebhookDispatcher({
    endpoints: options.webhookEndpoints ?? [],
    defaultAccount: accounts.default.id,
    retryScheduleMs: options.retryScheduleMs ?? DEFAULT_RETRY_SCHEDULE_MS,
    apiEndpoints: (account) => accounts.get(account)?.store.webhookEndpoints.all() ?? [],
    log,
    onDelivered: (eventId, account) => accounts.get(account)?.events.markDelivered(eventId),
  });
  for (const entry of options.accounts ?? []) {
    const id = accounts.idForKey(entry.keys[0]!);
    for (const endpoint of entry.webhookEndpoints ?? []) webhooks.addEndpoint(endpoint, id);
  }

  const persistence = options.statePath ? new StatePersistence(accounts, options.statePath, (error) => log(`could not save state: ${String(error)}`)) : null;
  if (persistence?.load()) log(`loaded state from ${options.statePath}`);
  if (persistence) accounts.onChange = () => persistence.schedule();

  const server = createServer(createApp(accounts, webhooks, log));
  // `CONNECT meter-events.stripe.com:443` (the Stripe CLI's meter event stream, see `http/meter-events-proxy.ts`).
  server.on('connect', handleConnect(server));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? EMULATOR_DEFAULT_PORT, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  baseUrl = `http://${urlHost(host)}:${port}`;
  const sweeper = setInterval(() => {
    for (const { ctx } of accounts.all()) {
      expireDueSessions(ctx);
      settleProcessingPayments(ctx);
      sweepBilling(ctx, log);
      reportMeterEventErrors(ctx);
    }
  }, SWEEP_INTERVAL_MS);
  sweeper.unref();

  return {
    url: baseUrl,
    port,
    async close() {
      clearInterval(sweeper);
      webhooks.close();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      await persistence?.flush();
    },
    deliveries(account) {
      const id = accounts.resolve(account)?.id;
      return webhooks.attempts().filter((attempt) => attempt.account === id);
    },
    events: (account) => structuredClone(accounts.resolve(account)?.store.events.all() ?? []),
    meterEvents: (account) =>
      (accounts.resolve(account)?.store.meterEvents.all() ?? []).map((record) => ({ event: structuredClone(record.event), meter: record.meterId, error: record.error?.code ?? null })),
    waitForIdle: () => webhooks.waitForIdle(),
    addWebhookEndpoint(endpoint, account) {
      const target = accounts.resolve(account);
      if (!target) throw new Error(`stripe-emulator: no such account: ${String(account)}`);
      webhooks.addEndpoint(endpoint, target.id);
    },
    accountIdForKey: (key) => accounts.idForKey(key),
    defaultAccountId: accounts.default.id,
    accounts: () => accounts.all().map((account) => ({ id: account.id, isDefault: account.isDefault, keys: [...account.maskedKeys] })),
    async completeCheckoutSession(id, completeOptions = {}) {
      const ctx = (accounts.find((candidate) => candidate.store.checkoutSessions.get(id) !== undefined) ?? accounts.default).ctx;
      try {
        const result = submitCheckoutForm(ctx, id, {
          cardNumber: completeOptions.card ?? '4242424242424242',
          cardExpiry: `12 / ${String((new Date().getFullYear() + 1) % 100).padStart(2, '0')}`,
          cardCvc: '123',
          email: completeOptions.email ?? 'jenny.rosen@example.com',
        });
        if (result.status !== 'requires_action') return toResult(result);
        return toResult(submitAuthentication(ctx, id, completeOptions.authentication !== 'fail'));
      } catch (error) {
        if (error instanceof StripeApiError) throw new Error(error.message, { cause: error });
        throw error;
      }
    },
  };
}

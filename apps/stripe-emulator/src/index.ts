import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type Stripe from 'stripe';
import { createApp } from './app';
import type { EmulatorContext } from './core/context';
import { EventPublisher } from './core/events';
import { StatePersistence } from './core/persistence';
import { Store } from './core/store';
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

export type { DeliveryAttempt, WebhookEndpoint };

/** Retry delays (ms) between webhook attempts by default: 5 s, 30 s, 2 min, 10 min, 1 h (6 attempts in all). */
export const DEFAULT_RETRY_SCHEDULE_MS: readonly number[] = [5_000, 30_000, 120_000, 600_000, 3_600_000];

export interface StripeEmulatorOptions {
  /** TCP port; `0` picks a free one. Default 12111. */
  port?: number;
  /** Interface to listen on. Default `127.0.0.1`. */
  host?: string;
  /** Endpoints every event is POSTed to. */
  webhookEndpoints?: WebhookEndpoint[];
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

/** A running emulator. */
export interface StripeEmulator {
  /** Base URL, e.g. `http://127.0.0.1:12111`. */
  url: string;
  port: number;
  /** Stops the server and webhook deliveries, and writes the state file if any. */
  close(): Promise<void>;
  /** Every webhook delivery attempt so far, oldest first. */
  deliveries(): DeliveryAttempt[];
  /** Every event so far, oldest first (copies). */
  events(): Stripe.Event[];
  /** Resolves when no webhook delivery is scheduled or in flight. */
  waitForIdle(): Promise<void>;
  /** Adds a webhook endpoint for events published from now on. */
  addWebhookEndpoint(endpoint: WebhookEndpoint): void;
  /**
   * Test helper: pays an open Checkout Session through the same code path as the hosted page
   * form (then the 3-D Secure step for 3DS cards). Rejects for an unknown session id.
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
  const store = new Store();
  const persistence = options.statePath ? new StatePersistence(store, options.statePath, (error) => log(`could not save state: ${String(error)}`)) : null;
  if (persistence?.load()) log(`loaded state from ${options.statePath}`);
  if (persistence) store.onChange = () => persistence.schedule();

  const webhooks = new WebhookDispatcher({
    endpoints: options.webhookEndpoints ?? [],
    retryScheduleMs: options.retryScheduleMs ?? DEFAULT_RETRY_SCHEDULE_MS,
    apiEndpoints: () => store.webhookEndpoints.all(),
    log,
    onDelivered: (eventId) => events.markDelivered(eventId),
  });
  const events = new EventPublisher(store, webhooks);
  let baseUrl = '';
  const ctx: EmulatorContext = { store, events, baseUrl: () => baseUrl, billing: options.billing };

  const server = createServer(createApp(ctx, webhooks, log));
  // `CONNECT meter-events.stripe.com:443` (the Stripe CLI's meter event stream, see `http/meter-events-proxy.ts`).
  server.on('connect', handleConnect(server));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? EMULATOR_DEFAULT_PORT, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  baseUrl = `http://${urlHost(host)}:${port}`;
  const sweeper = setInterval(() => {
    expireDueSessions(ctx);
    settleProcessingPayments(ctx);
    sweepBilling(ctx, log);
    reportMeterEventErrors(ctx);
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
    deliveries: () => webhooks.attempts(),
    events: () => structuredClone(store.events.all()),
    waitForIdle: () => webhooks.waitForIdle(),
    addWebhookEndpoint: (endpoint) => webhooks.addEndpoint(endpoint),
    async completeCheckoutSession(id, completeOptions = {}) {
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

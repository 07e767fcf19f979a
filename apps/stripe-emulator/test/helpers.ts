import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Stripe from 'stripe';
import { startStripeEmulator, type StripeEmulator, type StripeEmulatorOptions } from '../src/index';

/** Stripe's reference data, next to the repository: `<repo root>/../shared/stripe`. */
export const SHARED_STRIPE_DIR = resolve(fileURLToPath(new URL('../../../', import.meta.url)), '..', 'shared', 'stripe');

/** Reads a JSON file of Stripe's reference data, e.g. `card-errors/...json`. */
export function readSharedJson<T>(relativePath: string): T {
  return JSON.parse(readFileSync(resolve(SHARED_STRIPE_DIR, relativePath), 'utf8')) as T;
}

export const TEST_KEY = 'sk_test_emulator_tests_key';
export const WEBHOOK_SECRET = 'whsec_test_secret_for_emulator_tests';

/** The real SDK pointed at the emulator, without automatic retries (so each call is one request). */
export function stripeFor(emulator: StripeEmulator): Stripe {
  return new Stripe(TEST_KEY, { host: '127.0.0.1', port: emulator.port, protocol: 'http', maxNetworkRetries: 0 });
}

/** An in-memory emulator on a random port and a client for it. */
export async function startTestEmulator(options: StripeEmulatorOptions = {}): Promise<{ emulator: StripeEmulator; stripe: Stripe }> {
  const emulator = await startStripeEmulator({ port: 0, ...options });
  return { emulator, stripe: stripeFor(emulator) };
}

export interface ReceivedWebhook {
  headers: IncomingHttpHeaders;
  body: string;
  /** The event as `stripe.webhooks.constructEvent` verified it, or `null` if verification failed. */
  event: Stripe.Event | null;
}

/**
 * A webhook endpoint on `node:http` that verifies every delivery with the SDK's
 * `constructEvent`. `statuses` scripts the answers (then 200 for the rest).
 */
export async function startWebhookReceiver(secret: string, statuses: number[] = []) {
  const received: ReceivedWebhook[] = [];
  const script = [...statuses];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let event: Stripe.Event | null;
      try {
        event = Stripe.webhooks.constructEvent(body, String(req.headers['stripe-signature']), secret);
      } catch {
        event = null;
      }
      received.push({ headers: req.headers, body, event });
      res.statusCode = script.shift() ?? 200;
      res.end();
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/webhook`,
    received,
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
}

/** A payment-mode session for `amount` cents of one item (price_data). */
export function createSession(stripe: Stripe, params: Partial<Stripe.Checkout.SessionCreateParams> = {}, amount = 1500) {
  return stripe.checkout.sessions.create({
    mode: 'payment',
    line_items: [{ price_data: { currency: 'usd', unit_amount: amount, product_data: { name: 'Pro plan' } }, quantity: 2 }],
    success_url: 'https://merchant.test/success?session_id={CHECKOUT_SESSION_ID}',
    cancel_url: 'https://merchant.test/cancel',
    ...params,
  });
}

/** A card expiry in next year, as typed in the form. */
export const FUTURE_EXPIRY = `12 / ${String((new Date().getFullYear() + 1) % 100).padStart(2, '0')}`;

/** POSTs a form to a hosted page without following redirects. */
export function postForm(url: string, fields: Record<string, string>): Promise<Response> {
  return fetch(url, { method: 'POST', body: new URLSearchParams(fields), redirect: 'manual' });
}

/** The text of the `role="alert"` element of a page, if any. */
export function alertText(html: string): string | null {
  const match = /<div[^>]*role="alert"[^>]*>([\s\S]*?)<\/div>/.exec(html);
  return match ? decodeEntities(match[1]!.trim()) : null;
}

function decodeEntities(text: string): string {
  return text.replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)));
}

/** The types of the emulator's events so far, oldest first. */
export const eventTypes = (emulator: StripeEmulator) => emulator.events().map((event) => event.type);

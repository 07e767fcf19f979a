import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StripeEmulator } from '../src/index';
import { TEST_KEY, startTestEmulator } from './helpers';

let emulator: StripeEmulator;
let stripe: Stripe;

beforeAll(async () => {
  ({ emulator, stripe } = await startTestEmulator());
});
afterAll(() => emulator.close());

const post = (path: string, body: string, key: string) =>
  fetch(`${emulator.url}${path}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${TEST_KEY}`, 'Content-Type': 'application/x-www-form-urlencoded', 'Idempotency-Key': key },
    body,
  });

describe('Idempotency-Key', () => {
  it('replays the first response for the same key and parameters', async () => {
    const first = await stripe.customers.create({ email: 'once@example.com' }, { idempotencyKey: 'key-once' });
    const again = await stripe.customers.create({ email: 'once@example.com' }, { idempotencyKey: 'key-once' });
    expect(again.id).toBe(first.id);
    expect(again.lastResponse.headers['idempotent-replayed']).toBe('true');
    expect(again.lastResponse.requestId).not.toBe(first.lastResponse.requestId);
    expect((await stripe.customers.list({ email: 'once@example.com' })).data).toHaveLength(1);
    expect(emulator.events().filter((event) => event.type === 'customer.created' && (event.data.object as Stripe.Customer).id === first.id)).toHaveLength(1);
  });

  it('does not care about parameter order', async () => {
    const first = await post('/v1/customers', 'email=order@example.com&name=Order', 'key-order');
    const second = await post('/v1/customers', 'name=Order&email=order@example.com', 'key-order');
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(((await second.json()) as { id: string }).id).toBe(((await first.json()) as { id: string }).id);
  });

  it('replays declines (402) too', async () => {
    const session = await stripe.checkout.sessions.create({
      mode: 'payment',
      line_items: [{ price_data: { currency: 'usd', unit_amount: 500, product_data: { name: 'X' } }, quantity: 1 }],
    });
    const first = await post(`/v1/payment_pages/${session.id}/confirm`, 'payment_method=pm_card_chargeDeclined', 'key-decline');
    const second = await post(`/v1/payment_pages/${session.id}/confirm`, 'payment_method=pm_card_chargeDeclined', 'key-decline');
    expect([first.status, second.status]).toEqual([402, 402]);
    expect(await second.json()).toEqual(await first.json());
    expect((await stripe.charges.list({ payment_intent: String((await stripe.checkout.sessions.retrieve(session.id)).payment_intent) })).data).toHaveLength(1);
  });

  it('rejects the same key with different parameters (400 idempotency_error)', async () => {
    await stripe.customers.create({ email: 'a@example.com' }, { idempotencyKey: 'key-conflict' });
    const error = await stripe.customers.create({ email: 'b@example.com' }, { idempotencyKey: 'key-conflict' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
    expect(error).toMatchObject({ statusCode: 400, type: 'StripeIdempotencyError' });
    expect((await stripe.customers.list({ email: 'b@example.com' })).data).toHaveLength(0);
  });

  it('does not save validation errors under the key', async () => {
    const bad = await post('/v1/customers', 'email=not-an-email', 'key-fix');
    expect(bad.status).toBe(400);
    const good = await post('/v1/customers', 'email=fixed@example.com', 'key-fix');
    expect(good.status).toBe(200);
    expect(good.headers.get('idempotent-replayed')).toBeNull();
  });
});

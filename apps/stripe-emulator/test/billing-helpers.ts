import type Stripe from 'stripe';
import type { StripeEmulator } from '../src/index';

/** 2026-01-15T12:00:00Z: test clocks in these tests start here (unix seconds). */
export const T0 = Date.UTC(2026, 0, 15, 12, 0, 0) / 1000;
export const HOUR = 3600;
export const DAY = 86_400;

/** Advances a test clock and waits until it is `ready` again (Stripe's advance is asynchronous). */
export async function advanceClock(stripe: Stripe, clockId: string, frozenTime: number): Promise<Stripe.TestHelpers.TestClock> {
  const advancing = await stripe.testHelpers.testClocks.advance(clockId, { frozen_time: frozenTime });
  if (advancing.status !== 'advancing') throw new Error(`expected advancing, got ${advancing.status}`);
  for (let tries = 0; tries < 400; tries += 1) {
    const clock = await stripe.testHelpers.testClocks.retrieve(clockId);
    if (clock.status === 'ready') return clock;
    if (clock.status === 'internal_failure') throw new Error(`test clock ${clockId} failed`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`test clock ${clockId} never became ready`);
}

/** A product with a monthly (or other) recurring price of `amount` cents. */
export async function recurringPrice(
  stripe: Stripe,
  amount = 1500,
  recurring: Stripe.PriceCreateParams.Recurring = { interval: 'month' },
  product?: string,
): Promise<Stripe.Price> {
  return stripe.prices.create({
    currency: 'usd',
    unit_amount: amount,
    recurring,
    ...(product ? { product } : { product_data: { name: 'Pro plan' } }),
  });
}

/** A customer on a new test clock at `T0` with `card` (a `pm_card_*` alias) attached and set as default. */
export async function clockCustomer(stripe: Stripe, card: string | null = 'pm_card_visa', frozenTime = T0) {
  const clock = await stripe.testHelpers.testClocks.create({ frozen_time: frozenTime, name: 'billing test' });
  const customer = await stripe.customers.create({
    email: 'sub@example.com',
    test_clock: clock.id,
    ...(card ? { payment_method: card, invoice_settings: { default_payment_method: card } } : {}),
  });
  return { clock, customer, paymentMethod: (customer.invoice_settings.default_payment_method as string | null) ?? null };
}

/** Attaches a test card to a customer and makes it the default for invoices. */
export async function switchDefaultCard(stripe: Stripe, customer: string, card: string): Promise<string> {
  const paymentMethod = await stripe.paymentMethods.attach(card, { customer });
  await stripe.customers.update(customer, { invoice_settings: { default_payment_method: paymentMethod.id } });
  return paymentMethod.id;
}

/** The types of the events about object `id` (any type), oldest first. */
export function eventTypesFor(emulator: StripeEmulator, id: string): string[] {
  return emulator
    .events()
    .filter((event) => (event.data.object as { id?: string }).id === id)
    .map((event) => event.type);
}

/** The events of `type`, oldest first. */
export function eventsOf(emulator: StripeEmulator, type: string): Stripe.Event[] {
  return emulator.events().filter((event) => event.type === type);
}

/** The invoices of a subscription, oldest first. */
export async function subscriptionInvoices(stripe: Stripe, subscription: string): Promise<Stripe.Invoice[]> {
  return (await stripe.invoices.list({ subscription, limit: 100 })).data.reverse();
}

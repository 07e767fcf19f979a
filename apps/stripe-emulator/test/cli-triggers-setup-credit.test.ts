import type Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCliHarness, type CliHarness } from './cli';

let harness: CliHarness;

beforeAll(async () => {
  harness = await startCliHarness();
});
afterAll(() => harness.close());

const objectOf = <T>(events: Stripe.Event[], type: string) => events.find((event) => event.type === type)?.data.object as T;

/** The SetupIntent and credit note triggers of the official CLI, the events each must deliver (signed), and checks on their objects. */
const TRIGGERS: { event: string; expected: string[]; check?: (events: Stripe.Event[]) => void }[] = [
  {
    event: 'setup_intent.succeeded',
    expected: ['setup_intent.created', 'setup_intent.succeeded'],
    check: (events) => {
      const setupIntent = objectOf<Stripe.SetupIntent>(events, 'setup_intent.succeeded');
      expect(setupIntent).toMatchObject({ object: 'setup_intent', status: 'succeeded', usage: 'off_session', description: '(created by Stripe CLI)', customer: null });
      expect(setupIntent.payment_method).toMatch(/^pm_/);
      expect(objectOf<Stripe.SetupIntent>(events, 'setup_intent.created')).toMatchObject({ status: 'requires_confirmation' });
    },
  },
  {
    event: 'credit_note.created',
    expected: ['invoice.finalized', 'credit_note.created', 'invoice.updated'],
    check: (events) => {
      const invoice = objectOf<Stripe.Invoice>(events, 'invoice.finalized');
      const note = objectOf<Stripe.CreditNote>(events, 'credit_note.created');
      expect(note).toMatchObject({
        object: 'credit_note',
        invoice: invoice.id,
        status: 'issued',
        total: 1000,
        pre_payment_amount: 1000,
        post_payment_amount: 0,
        type: 'pre_payment',
        number: `${invoice.number}-CN-01`,
        lines: { data: [{ type: 'custom_line_item', amount: 1000, unit_amount: 1000, quantity: 1, description: '(created by Stripe CLI)' }] },
      });
      const updated = events.find((event) => event.type === 'invoice.updated')!;
      expect(updated.data.object).toMatchObject({ id: invoice.id, status: 'open', amount_due: 1000, amount_remaining: 1000, pre_payment_credit_notes_amount: 1000 });
      expect(updated.data.previous_attributes).toMatchObject({ amount_due: 2000, amount_remaining: 2000, pre_payment_credit_notes_amount: 0 });
    },
  },
];

describe('stripe trigger (official CLI): SetupIntents and credit notes', () => {
  it.each(TRIGGERS)('$event', async ({ event, expected, check }) => {
    const since = harness.received.length;
    const result = await harness.trigger(event);
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
    expect(result.stdout).toContain('Trigger succeeded!');
    const events = await harness.waitForEvents(expected, since);
    expect(harness.received.slice(since).every((webhook) => webhook.event !== null)).toBe(true);
    const order = events.map((received) => received.type).filter((type) => expected.includes(type));
    expect([...new Set(order)]).toEqual(expected);
    check?.(events);
  }, 90_000);
});

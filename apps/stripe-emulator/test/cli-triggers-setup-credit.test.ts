import type Stripe from 'stripe';
import { expect } from 'vitest';
import { describeTriggers, objectOf, type TriggerCase } from './cli';

/** The SetupIntent and credit note triggers of the official CLI, the events each must deliver (signed), and checks on their objects. */
const TRIGGERS: TriggerCase[] = [
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

describeTriggers('stripe trigger (official CLI): SetupIntents and credit notes', TRIGGERS);

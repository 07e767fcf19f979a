import type Stripe from 'stripe';
import { expect } from 'vitest';
import { describeTriggers, objectOf, type TriggerCase } from './cli';

/** The billing triggers of the official CLI, the events each must deliver (signed), and checks on their objects. */
const TRIGGERS: TriggerCase[] = [
  {
    event: 'customer.subscription.created',
    expected: ['customer.subscription.created', 'invoice.created', 'invoice.finalized', 'invoice.paid', 'invoice.payment_succeeded'],
    check: (events) => expect(objectOf<Stripe.Subscription>(events, 'customer.subscription.created')).toMatchObject({ status: 'active', items: { data: [{ price: { unit_amount: 1500 } }] } }),
  },
  {
    event: 'customer.subscription.updated',
    expected: ['customer.subscription.created', 'customer.subscription.updated'],
    check: (events) => {
      const updated = events.find((event) => event.type === 'customer.subscription.updated')!;
      expect(updated.data).toMatchObject({ object: { metadata: { foo: 'bar' } }, previous_attributes: { metadata: { foo: null } } });
    },
  },
  {
    event: 'customer.subscription.deleted',
    expected: ['customer.subscription.created', 'customer.subscription.deleted'],
    check: (events) => expect(objectOf<Stripe.Subscription>(events, 'customer.subscription.deleted')).toMatchObject({ status: 'canceled' }),
  },
  {
    event: 'customer.subscription.trial_will_end',
    expected: ['customer.subscription.created', 'customer.subscription.trial_will_end'],
    check: (events) => expect(objectOf<Stripe.Subscription>(events, 'customer.subscription.trial_will_end')).toMatchObject({ status: 'trialing' }),
  },
  {
    event: 'invoice.created',
    expected: ['invoiceitem.created', 'invoice.created'],
    check: (events) => expect(objectOf<Stripe.Invoice>(events, 'invoice.created')).toMatchObject({ status: 'draft', amount_due: 2000, billing_reason: 'manual' }),
  },
  {
    event: 'invoice.finalized',
    expected: ['invoice.created', 'invoice.finalized'],
    check: (events) => expect(objectOf<Stripe.Invoice>(events, 'invoice.finalized')).toMatchObject({ status: 'open', amount_due: 2000, number: expect.stringMatching(/-0001$/) }),
  },
  {
    event: 'invoice.paid',
    expected: ['payment_method.attached', 'invoice.created', 'invoice.finalized', 'invoice.paid', 'invoice.payment_succeeded'],
    check: (events) => expect(objectOf<Stripe.Invoice>(events, 'invoice.paid')).toMatchObject({ status: 'paid', amount_paid: 2000 }),
  },
  {
    event: 'invoice.payment_failed',
    expected: ['invoice.created', 'invoice.finalized', 'charge.failed', 'invoice.payment_failed'],
    check: (events) => expect(objectOf<Stripe.Invoice>(events, 'invoice.payment_failed')).toMatchObject({ status: 'open', attempt_count: 1, amount_paid: 0 }),
  },
  {
    event: 'invoice.payment_action_required',
    expected: ['invoice.created', 'invoice.finalized', 'payment_intent.requires_action', 'invoice.payment_action_required'],
    check: (events) => expect(objectOf<Stripe.Invoice>(events, 'invoice.payment_action_required')).toMatchObject({ status: 'open', amount_remaining: 2000 }),
  },
  { event: 'invoice.updated', expected: ['invoice.created', 'invoice.updated'] },
  { event: 'invoice.voided', expected: ['invoice.finalized', 'invoice.voided'] },
  { event: 'invoice.marked_uncollectible', expected: ['invoice.finalized', 'invoice.marked_uncollectible'] },
  { event: 'subscription.payment_succeeded', expected: ['customer.subscription.created', 'invoice.paid'] },
  {
    event: 'subscription.payment_failed',
    expected: ['customer.subscription.created', 'invoice.payment_failed'],
    check: (events) => expect(objectOf<Stripe.Subscription>(events, 'customer.subscription.created')).toMatchObject({ status: 'incomplete' }),
  },
  { event: 'customer.subscription.paused', expected: ['customer.subscription.created', 'customer.subscription.paused'] },
  { event: 'test_helpers.test_clock.ready', expected: ['test_helpers.test_clock.created', 'test_helpers.test_clock.advancing', 'test_helpers.test_clock.ready'] },
  { event: 'billing_portal.session.created', expected: ['customer.created', 'billing_portal.session.created'] },
  { event: 'billing_portal.configuration.created', expected: ['billing_portal.configuration.created'] },
];

describeTriggers('stripe trigger (official CLI): billing events', TRIGGERS);

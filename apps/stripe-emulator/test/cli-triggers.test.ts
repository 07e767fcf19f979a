import type Stripe from 'stripe';
import { expect } from 'vitest';
import { describeTriggers, objectOf, type TriggerCase } from './cli';

/** Each trigger, the events Stripe sends for it, and what their objects must say. */
const TRIGGERS: TriggerCase[] = [
  {
    event: 'checkout.session.completed',
    expected: ['product.created', 'price.created', 'payment_intent.created', 'charge.succeeded', 'payment_intent.succeeded', 'checkout.session.completed'],
    check: (events) => expect(objectOf<Stripe.Checkout.Session>(events, 'checkout.session.completed')).toMatchObject({ status: 'complete', payment_status: 'paid', amount_total: 3000 }),
  },
  {
    event: 'checkout.session.expired',
    expected: ['product.created', 'price.created', 'checkout.session.expired'],
    check: (events) => expect(objectOf<Stripe.Checkout.Session>(events, 'checkout.session.expired')).toMatchObject({ status: 'expired', url: null }),
  },
  {
    event: 'checkout.session.async_payment_succeeded',
    expected: ['charge.pending', 'payment_intent.processing', 'checkout.session.completed', 'charge.succeeded', 'payment_intent.succeeded', 'checkout.session.async_payment_succeeded'],
    check: (events) => {
      expect(objectOf<Stripe.Checkout.Session>(events, 'checkout.session.completed')).toMatchObject({ payment_status: 'unpaid', payment_method_types: ['sepa_debit'] });
      expect(objectOf<Stripe.Checkout.Session>(events, 'checkout.session.async_payment_succeeded')).toMatchObject({ status: 'complete', payment_status: 'paid' });
      expect(objectOf<Stripe.PaymentIntent>(events, 'payment_intent.succeeded')).toMatchObject({ status: 'succeeded', currency: 'eur', amount_received: 3000 });
    },
  },
  {
    event: 'checkout.session.async_payment_failed',
    expected: ['payment_intent.processing', 'checkout.session.completed', 'charge.failed', 'payment_intent.payment_failed', 'checkout.session.async_payment_failed'],
    check: (events) => {
      expect(objectOf<Stripe.Checkout.Session>(events, 'checkout.session.async_payment_failed')).toMatchObject({ status: 'complete', payment_status: 'unpaid' });
      expect(objectOf<Stripe.PaymentIntent>(events, 'payment_intent.payment_failed')).toMatchObject({
        status: 'requires_payment_method',
        last_payment_error: { code: 'payment_intent_payment_attempt_failed' },
      });
    },
  },
  {
    event: 'payment_intent.succeeded',
    expected: ['payment_intent.created', 'charge.succeeded', 'payment_intent.succeeded'],
    check: (events) => expect(objectOf<Stripe.PaymentIntent>(events, 'payment_intent.succeeded')).toMatchObject({ amount: 2000, amount_received: 2000, shipping: { name: 'Jenny Rosen' } }),
  },
  {
    event: 'payment_intent.payment_failed',
    expected: ['payment_intent.created', 'charge.failed', 'payment_intent.payment_failed'],
    check: (events) => expect(objectOf<Stripe.PaymentIntent>(events, 'payment_intent.payment_failed').last_payment_error).toMatchObject({ code: 'card_declined', decline_code: 'generic_decline' }),
  },
  {
    event: 'charge.refunded',
    expected: ['charge.succeeded', 'charge.refunded', 'refund.created', 'refund.updated', 'charge.refund.updated'],
    check: (events) => {
      const refunded = events.find((event) => event.type === 'charge.refunded')!;
      expect(refunded.data.object).toMatchObject({ amount: 100, amount_refunded: 100, refunded: true });
      expect(refunded.data.previous_attributes).toEqual({ amount_refunded: 0, refunded: false });
      expect(objectOf<Stripe.Refund>(events, 'refund.created')).toMatchObject({ amount: 100, status: 'succeeded' });
    },
  },
  {
    event: 'charge.dispute.created',
    expected: ['charge.succeeded', 'payment_intent.succeeded', 'charge.dispute.created'],
    check: (events) => {
      const dispute = objectOf<Stripe.Dispute>(events, 'charge.dispute.created');
      expect(dispute).toMatchObject({ object: 'dispute', amount: 100, status: 'warning_needs_response', charge: objectOf<Stripe.Charge>(events, 'charge.succeeded').id });
    },
  },
  { event: 'charge.dispute.closed', expected: ['charge.dispute.created', 'charge.dispute.closed'] },
  { event: 'customer.created', expected: ['customer.created'] },
  {
    event: 'customer.updated',
    expected: ['customer.created', 'customer.updated'],
    check: (events) => expect(events.find((event) => event.type === 'customer.updated')!.data).toMatchObject({ object: { metadata: { foo: 'bar' } }, previous_attributes: { metadata: { foo: null } } }),
  },
  { event: 'customer.deleted', expected: ['customer.created', 'customer.deleted'] },
  {
    event: 'payment_intent.created',
    expected: ['payment_intent.created'],
    check: (events) => expect(objectOf<Stripe.PaymentIntent>(events, 'payment_intent.created')).toMatchObject({ status: 'requires_payment_method' }),
  },
  {
    event: 'payment_intent.requires_action',
    expected: ['payment_intent.created', 'payment_intent.requires_action'],
    check: (events) => expect(objectOf<Stripe.PaymentIntent>(events, 'payment_intent.requires_action')).toMatchObject({ status: 'requires_action', next_action: { type: 'use_stripe_sdk' } }),
  },
  { event: 'charge.succeeded', expected: ['payment_intent.created', 'charge.succeeded', 'payment_intent.succeeded'] },
  {
    event: 'charge.failed',
    expected: ['payment_intent.created', 'charge.failed', 'payment_intent.payment_failed'],
    check: (events) => expect(objectOf<Stripe.Charge>(events, 'charge.failed')).toMatchObject({ status: 'failed', failure_code: 'card_declined' }),
  },
  {
    event: 'payment_method.attached',
    expected: ['customer.created', 'payment_method.attached'],
    check: (events) => {
      const attached = objectOf<Stripe.PaymentMethod>(events, 'payment_method.attached');
      expect(attached.id).toMatch(/^pm_(?!card_)/);
      expect(attached.customer).toBe(objectOf<Stripe.Customer>(events, 'customer.created').id);
    },
  },
  { event: 'product.created', expected: ['product.created'] },
  { event: 'price.created', expected: ['product.created', 'price.created'] },
];

describeTriggers('stripe trigger (official CLI) against the emulator', TRIGGERS);

import type Stripe from 'stripe';
import type { z } from 'zod';
import { nowSeconds } from '../core/clock';
import type { EmulatorContext } from '../core/context';
import { previousAttributes } from '../core/events';
import { newId } from '../core/ids';
import { StripeApiError, docUrl, invalidRequest, resourceMissing } from '../http/errors';
import { paginate } from '../http/lists';
import { listParams, p, parseParams } from '../http/params';
import { reference, type ApiHandler, type ResourceModule } from '../http/route';
import { cardFingerprint, testCardByAlias, testCardByNumber, type TestCard } from '../payments/test-cards';
import { ibanFingerprint, testIban } from '../payments/test-ibans';
import { requireCustomer } from './customers';
import { addressParam, mergeMetadata, noParams } from './shared';

/** Raw card details, as typed into the hosted page or sent as `card[number]`. */
export interface CardDetails {
  /** Digits only. */
  number: string;
  expMonth: number;
  /** Four digits. */
  expYear: number;
}

/** PaymentMethod types the emulator knows. */
const TYPES = ['card', 'sepa_debit'] as const;

const billingDetailsParam = p.object({
  address: addressParam.optional(),
  email: p.email({ emptyable: true }).optional(),
  name: p.nullableString().optional(),
  phone: p.nullableString().optional(),
});

const createParams = p.object({
  type: p.oneOf(TYPES),
  card: p
    .object({
      token: p.string().optional(),
      number: p.string(19).optional(),
      exp_month: p.integer({ min: 1, max: 12 }).optional(),
      exp_year: p.integer().optional(),
      cvc: p.string(4).optional(),
    })
    .optional(),
  sepa_debit: p.object({ iban: p.string(34) }).optional(),
  billing_details: billingDetailsParam.optional(),
  metadata: p.metadata().optional(),
});
const attachParams = p.object({ customer: p.string() });
const listQuery = p.object({ ...listParams, customer: p.string().optional(), type: p.oneOf(TYPES).optional() });
const customerListQuery = p.object({ ...listParams, type: p.oneOf(TYPES).optional() });

type BillingDetailsInput = z.output<typeof billingDetailsParam>;

/** A 402 `incorrect_number` card error, Stripe's answer for a card number it cannot use. */
function incorrectNumber(param?: string): StripeApiError {
  return new StripeApiError(402, {
    type: 'card_error',
    code: 'incorrect_number',
    doc_url: docUrl('incorrect_number'),
    message: 'Your card number is incorrect.',
    ...(param ? { param } : {}),
  });
}

const missing = (param: string) => invalidRequest(`Missing required param: ${param}.`, { param, code: 'parameter_missing' });

/** The common part of every PaymentMethod (https://docs.stripe.com/api/payment_methods/object). */
function basePaymentMethod(billing: BillingDetailsInput, metadata: Stripe.Metadata | undefined) {
  return {
    id: newId('pm'),
    object: 'payment_method' as const,
    allow_redisplay: 'unspecified' as const,
    billing_details: { address: billing.address ?? null, email: billing.email ?? null, name: billing.name ?? null, phone: billing.phone ?? null, tax_id: null },
    created: nowSeconds(),
    customer: null,
    customer_account: null,
    livemode: false,
    metadata: metadata ?? {},
  };
}

/** Stores a card PaymentMethod for a test card. */
export function createCardPaymentMethod(ctx: EmulatorContext, card: CardDetails, billing: BillingDetailsInput = {}, metadata?: Stripe.Metadata): Stripe.PaymentMethod {
  return ctx.store.paymentMethods.put({
    ...basePaymentMethod(billing, metadata),
    type: 'card',
    card: {
      brand: 'visa',
      checks: { address_line1_check: null, address_postal_code_check: null, cvc_check: 'pass' },
      country: 'US',
      display_brand: 'visa',
      exp_month: card.expMonth,
      exp_year: card.expYear,
      fingerprint: cardFingerprint(card.number),
      funding: 'credit',
      generated_from: null,
      last4: card.number.slice(-4),
      networks: { available: ['visa'], preferred: null },
      regulated_status: 'unregulated',
      three_d_secure_usage: { supported: true },
      wallet: null,
    },
  });
}

/**
 * Stores a `sepa_debit` PaymentMethod for a test IBAN (normalised: no spaces, upper case).
 * Bank and branch codes are read where the IBAN's country puts them (Austria, Italy).
 */
function createSepaPaymentMethod(ctx: EmulatorContext, iban: string, billing: BillingDetailsInput, metadata: Stripe.Metadata | undefined): Stripe.PaymentMethod {
  const country = iban.slice(0, 2);
  const codes = country === 'IT' ? { bank_code: iban.slice(5, 10), branch_code: iban.slice(10, 15) } : { bank_code: iban.slice(4, 9), branch_code: '' };
  return ctx.store.paymentMethods.put({
    ...basePaymentMethod(billing, metadata),
    type: 'sepa_debit',
    sepa_debit: { ...codes, country, fingerprint: ibanFingerprint(iban), generated_from: { charge: null, setup_attempt: null }, last4: iban.slice(-4) },
  });
}

/** Expiry Stripe gives cards created from `pm_card_*`/`tok_*` aliases: December of next year. */
function aliasCard(card: TestCard): CardDetails {
  return { number: card.number, expMonth: 12, expYear: new Date().getUTCFullYear() + 1 };
}

/**
 * The PaymentMethod for `id`: a stored one, or a new one for a test alias such as
 * `pm_card_visa` (Stripe makes a fresh PaymentMethod each time an alias is used).
 * Otherwise 400 `resource_missing` naming `param` (404 when `param` is `id`).
 */
export function resolvePaymentMethod(ctx: EmulatorContext, id: string, param: string): Stripe.PaymentMethod {
  const stored = ctx.store.paymentMethods.get(id);
  if (stored) return stored;
  const card = id.startsWith('pm_') ? testCardByAlias(id) : undefined;
  if (!card) throw resourceMissing('PaymentMethod', id, param);
  return createCardPaymentMethod(ctx, aliasCard(card));
}

/**
 * Refuses (400, nothing changed) to attach `paymentMethod` to `customer` when it already
 * belongs to another customer (https://docs.stripe.com/api/payment_methods/attach).
 */
function checkAttachable(paymentMethod: Stripe.PaymentMethod, customer: string): void {
  if (paymentMethod.customer !== null && paymentMethod.customer !== customer) {
    throw invalidRequest('The payment method you provided has already been attached to a customer.', { code: 'payment_method_unexpected_state' });
  }
}

/** Attaches `paymentMethod` to `customer` (no-op if it already is) and publishes `payment_method.attached`. */
export function attachPaymentMethod(ctx: EmulatorContext, paymentMethod: Stripe.PaymentMethod, customer: string, request: Stripe.Event.Request): Stripe.PaymentMethod {
  checkAttachable(paymentMethod, customer);
  if (paymentMethod.customer === customer) return paymentMethod;
  const attached = ctx.store.paymentMethods.put({ ...paymentMethod, customer });
  ctx.events.publish({ type: 'payment_method.attached', object: attached, request });
  return attached;
}

/**
 * Detaches a PaymentMethod from its customer and publishes `payment_method.detached`; if it was
 * the customer's `invoice_settings.default_payment_method`, that is cleared (`customer.updated`).
 */
export function detachPaymentMethod(ctx: EmulatorContext, paymentMethod: Stripe.PaymentMethod, request: Stripe.Event.Request): Stripe.PaymentMethod {
  const detached = ctx.store.paymentMethods.put({ ...paymentMethod, customer: null });
  ctx.events.publish({ type: 'payment_method.detached', object: detached, previousAttributes: { customer: paymentMethod.customer }, request });
  const customer = ctx.store.customers.get(String(paymentMethod.customer));
  if (customer && customer.invoice_settings.default_payment_method === paymentMethod.id) {
    const updated = ctx.store.customers.put({ ...customer, invoice_settings: { ...customer.invoice_settings, default_payment_method: null } });
    ctx.events.publish({ type: 'customer.updated', object: updated, previousAttributes: previousAttributes(customer, updated), request });
  }
  return detached;
}

/**
 * POST /v1/payment_methods (https://docs.stripe.com/api/payment_methods/create): `type=card`
 * with `card[token]` (e.g. `tok_visa`) or raw test card details, or `type=sepa_debit` with a test
 * `sepa_debit[iban]` and the account holder's `billing_details[name]` and `[email]`, which SEPA
 * requires (https://docs.stripe.com/payments/sepa-debit/accept-a-payment).
 */
const create: ApiHandler = (req, ctx) => {
  const params = parseParams(createParams, req.params);
  const metadata = mergeMetadata({}, params.metadata);
  const billing = params.billing_details ?? {};
  if (params.type === 'sepa_debit') {
    if (params.card !== undefined) throw invalidRequest('Received unknown parameter: card', { param: 'card', code: 'parameter_unknown' });
    if (params.sepa_debit === undefined) throw missing('sepa_debit[iban]');
    const test = testIban(params.sepa_debit.iban);
    if (!test) {
      throw invalidRequest(`The IBAN you provided (${params.sepa_debit.iban}) is not one of Stripe's test IBANs; the emulator accepts only those.`, {
        param: 'sepa_debit[iban]',
        code: 'invalid_bank_account_iban',
      });
    }
    if (!billing.name) throw missing('billing_details[name]');
    if (!billing.email) throw missing('billing_details[email]');
    return createSepaPaymentMethod(ctx, test.iban, billing, metadata);
  }
  if (params.sepa_debit !== undefined) throw invalidRequest('Received unknown parameter: sepa_debit', { param: 'sepa_debit', code: 'parameter_unknown' });
  if (params.card === undefined) throw missing('card');
  const { token, number, exp_month, exp_year } = params.card;
  let card: CardDetails;
  if (token !== undefined) {
    const testCard = testCardByAlias(token);
    if (!testCard || !token.startsWith('tok_')) throw resourceMissing('token', token, 'card[token]');
    card = aliasCard(testCard);
  } else {
    if (number === undefined) throw missing('card[number]');
    if (exp_month === undefined) throw missing('card[exp_month]');
    if (exp_year === undefined) throw missing('card[exp_year]');
    const digits = number.replace(/\s/g, '');
    if (!testCardByNumber(digits)) throw incorrectNumber('card[number]');
    card = { number: digits, expMonth: exp_month, expYear: exp_year < 100 ? 2000 + exp_year : exp_year };
  }
  return createCardPaymentMethod(ctx, card, billing, metadata);
};

/** GET /v1/payment_methods/:id */
const retrieve: ApiHandler = (req, ctx) => {
  parseParams(noParams, req.params);
  const paymentMethod = ctx.store.paymentMethods.get(req.path.id ?? '');
  if (!paymentMethod) throw resourceMissing('PaymentMethod', req.path.id ?? '');
  return paymentMethod;
};

/**
 * POST /v1/payment_methods/:id/attach (https://docs.stripe.com/api/payment_methods/attach).
 * A test alias (`pm_card_visa`) makes a new PaymentMethod, attached. Attaching to the customer it
 * already belongs to changes nothing; to another customer is refused.
 */
const attach: ApiHandler = (req, ctx) => {
  const { customer } = parseParams(attachParams, req.params);
  const id = req.path.id ?? '';
  const stored = ctx.store.paymentMethods.get(id);
  if (!stored && !testCardByAlias(id)) throw resourceMissing('PaymentMethod', id);
  requireCustomer(ctx, customer, 'customer');
  if (stored) checkAttachable(stored, customer);
  return attachPaymentMethod(ctx, stored ?? resolvePaymentMethod(ctx, id, 'id'), customer, req.request);
};

/** POST /v1/payment_methods/:id/detach (https://docs.stripe.com/api/payment_methods/detach). */
const detach: ApiHandler = (req, ctx) => {
  parseParams(noParams, req.params);
  const paymentMethod = ctx.store.paymentMethods.get(req.path.id ?? '');
  if (!paymentMethod) throw resourceMissing('PaymentMethod', req.path.id ?? '');
  if (paymentMethod.customer === null) {
    throw invalidRequest('The payment method you provided is not attached to a customer so detachment is impossible.', { code: 'payment_method_unexpected_state' });
  }
  return detachPaymentMethod(ctx, paymentMethod, req.request);
};

/** PaymentMethods newest first, of `customer` if given (otherwise all) and of `type` if given. */
function listOf(ctx: EmulatorContext, customer: string | undefined, type: string | undefined): Stripe.PaymentMethod[] {
  return ctx.store.paymentMethods
    .newestFirst()
    .filter((paymentMethod) => (customer === undefined || paymentMethod.customer === customer) && (type === undefined || paymentMethod.type === type));
}

/** GET /v1/payment_methods — filters `customer` and `type` (https://docs.stripe.com/api/payment_methods/list). */
const list: ApiHandler = (req, ctx) => {
  const query = parseParams(listQuery, req.params);
  if (query.customer !== undefined) requireCustomer(ctx, query.customer, 'customer');
  return paginate(listOf(ctx, query.customer, query.type), query, '/v1/payment_methods');
};

/** GET /v1/customers/:id/payment_methods — a customer's PaymentMethods, filter `type` (https://docs.stripe.com/api/payment_methods/customer_list). */
const listForCustomer: ApiHandler = (req, ctx) => {
  const query = parseParams(customerListQuery, req.params);
  const customer = requireCustomer(ctx, req.path.id ?? '');
  return paginate(listOf(ctx, customer.id, query.type), query, `/v1/customers/${customer.id}/payment_methods`);
};

/** GET /v1/customers/:customer/payment_methods/:id — 404 unless attached to that customer. */
const retrieveForCustomer: ApiHandler = (req, ctx) => {
  parseParams(noParams, req.params);
  const customer = requireCustomer(ctx, req.path.customer ?? '');
  const paymentMethod = ctx.store.paymentMethods.get(req.path.id ?? '');
  if (!paymentMethod || paymentMethod.customer !== customer.id) throw resourceMissing('PaymentMethod', req.path.id ?? '');
  return paymentMethod;
};

/** PaymentMethods: test cards and test IBANs; attach, detach, list (also per customer). */
export const paymentMethods: ResourceModule = {
  routes: [
    { method: 'post', path: '/v1/payment_methods', returns: 'payment_method', handler: create },
    { method: 'get', path: '/v1/payment_methods', returns: 'payment_method', list: true, handler: list },
    { method: 'get', path: '/v1/payment_methods/:id', returns: 'payment_method', handler: retrieve },
    { method: 'post', path: '/v1/payment_methods/:id/attach', returns: 'payment_method', handler: attach },
    { method: 'post', path: '/v1/payment_methods/:id/detach', returns: 'payment_method', handler: detach },
    { method: 'get', path: '/v1/customers/:id/payment_methods', returns: 'payment_method', list: true, handler: listForCustomer },
    { method: 'get', path: '/v1/customers/:customer/payment_methods/:id', returns: 'payment_method', handler: retrieveForCustomer },
  ],
  expandable: {
    payment_method: { customer: reference('customer', (store) => store.customers) },
  },
};

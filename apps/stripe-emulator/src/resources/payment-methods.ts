import type Stripe from 'stripe';
import type { z } from 'zod';
import { nowSeconds } from '../core/clock';
import type { EmulatorContext } from '../core/context';
import { newId } from '../core/ids';
import { StripeApiError, docUrl, invalidRequest, resourceMissing } from '../http/errors';
import { p, parseParams } from '../http/params';
import type { ApiHandler, ResourceModule } from '../http/route';
import { cardFingerprint, testCardByAlias, testCardByNumber, type TestCard } from '../payments/test-cards';
import { addressParam, mergeMetadata, noParams } from './shared';

/** Raw card details, as typed into the hosted page or sent as `card[number]`. */
export interface CardDetails {
  /** Digits only. */
  number: string;
  expMonth: number;
  /** Four digits. */
  expYear: number;
}

const billingDetailsParam = p.object({
  address: addressParam.optional(),
  email: p.email({ emptyable: true }).optional(),
  name: p.nullableString().optional(),
  phone: p.nullableString().optional(),
});

const createParams = p.object({
  type: p.oneOf(['card']),
  card: p.object({
    token: p.string().optional(),
    number: p.string(19).optional(),
    exp_month: p.integer({ min: 1, max: 12 }).optional(),
    exp_year: p.integer().optional(),
    cvc: p.string(4).optional(),
  }),
  billing_details: billingDetailsParam.optional(),
  metadata: p.metadata().optional(),
});

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

/** Stores a card PaymentMethod for a test card (https://docs.stripe.com/api/payment_methods/object). */
export function createCardPaymentMethod(ctx: EmulatorContext, card: CardDetails, billing: BillingDetailsInput = {}, metadata?: Stripe.Metadata): Stripe.PaymentMethod {
  const paymentMethod: Stripe.PaymentMethod = {
    id: newId('pm'),
    object: 'payment_method',
    allow_redisplay: 'unspecified',
    billing_details: {
      address: billing.address ?? null,
      email: billing.email ?? null,
      name: billing.name ?? null,
      phone: billing.phone ?? null,
      tax_id: null,
    },
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
    created: nowSeconds(),
    customer: null,
    customer_account: null,
    livemode: false,
    metadata: metadata ?? {},
    type: 'card',
  };
  return ctx.store.paymentMethods.put(paymentMethod);
}

/** Expiry Stripe gives cards created from `pm_card_*`/`tok_*` aliases: December of next year. */
function aliasCard(card: TestCard): CardDetails {
  return { number: card.number, expMonth: 12, expYear: new Date().getUTCFullYear() + 1 };
}

/**
 * The PaymentMethod for `id`: a stored one, or a new one for a test alias such as
 * `pm_card_visa` (Stripe makes a fresh PaymentMethod each time an alias is used).
 * Otherwise 400 `resource_missing` naming `param`.
 */
export function resolvePaymentMethod(ctx: EmulatorContext, id: string, param: string): Stripe.PaymentMethod {
  const stored = ctx.store.paymentMethods.get(id);
  if (stored) return stored;
  const card = id.startsWith('pm_') ? testCardByAlias(id) : undefined;
  if (!card) throw resourceMissing('PaymentMethod', id, param);
  return createCardPaymentMethod(ctx, aliasCard(card));
}

/** POST /v1/payment_methods — `type=card` with `card[token]` (e.g. `tok_visa`) or raw test card details. */
const create: ApiHandler = (req, ctx) => {
  const params = parseParams(createParams, req.params);
  const { token, number, exp_month, exp_year } = params.card;
  let card: CardDetails;
  if (token !== undefined) {
    const testCard = testCardByAlias(token);
    if (!testCard || !token.startsWith('tok_')) throw resourceMissing('token', token, 'card[token]');
    card = aliasCard(testCard);
  } else {
    if (number === undefined) throw invalidRequest('Missing required param: card[number].', { param: 'card[number]', code: 'parameter_missing' });
    if (exp_month === undefined) throw invalidRequest('Missing required param: card[exp_month].', { param: 'card[exp_month]', code: 'parameter_missing' });
    if (exp_year === undefined) throw invalidRequest('Missing required param: card[exp_year].', { param: 'card[exp_year]', code: 'parameter_missing' });
    const digits = number.replace(/\s/g, '');
    if (!testCardByNumber(digits)) throw incorrectNumber('card[number]');
    card = { number: digits, expMonth: exp_month, expYear: exp_year < 100 ? 2000 + exp_year : exp_year };
  }
  return createCardPaymentMethod(ctx, card, params.billing_details, mergeMetadata({}, params.metadata));
};

/** GET /v1/payment_methods/:id */
const retrieve: ApiHandler = (req, ctx) => {
  parseParams(noParams, req.params);
  const paymentMethod = ctx.store.paymentMethods.get(req.path.id ?? '');
  if (!paymentMethod) throw resourceMissing('PaymentMethod', req.path.id ?? '');
  return paymentMethod;
};

/** PaymentMethods: cards only, from test tokens or test card numbers. */
export const paymentMethods: ResourceModule = {
  routes: [
    { method: 'post', path: '/v1/payment_methods', returns: 'payment_method', handler: create },
    { method: 'get', path: '/v1/payment_methods/:id', returns: 'payment_method', handler: retrieve },
  ],
};

import { createHash } from 'node:crypto';

/** Decline codes the test cards produce (https://docs.stripe.com/declines/codes). */
export type DeclineCode = 'generic_decline' | 'insufficient_funds' | 'authentication_required';

/**
 * What happens when a test card is charged (https://docs.stripe.com/testing#cards):
 * - `succeed`: approved; with `dispute`, the charge is then disputed (https://docs.stripe.com/testing#disputes).
 * - `decline`: the issuer declines with `declineCode`.
 * - `authenticate`: 3-D Secure is required on-session (the PaymentIntent goes to `requires_action`).
 *   Off-session, `always` cards decline with `authentication_required`; `unless_set_up` cards
 *   succeed once they were set up for future use with an authenticated payment
 *   (https://docs.stripe.com/testing#authentication-and-setup).
 */
export type CardBehaviour =
  | { kind: 'succeed'; dispute?: DisputeKind }
  /** `attaches`: saving the card (a SetupIntent) still succeeds; only charges are declined. */
  | { kind: 'decline'; declineCode: DeclineCode; attaches?: true }
  | { kind: 'authenticate'; offSession: 'always' | 'unless_set_up' };

/** Disputes the test cards open (https://docs.stripe.com/testing#disputes). */
export type DisputeKind = 'inquiry' | 'fraudulent';

/** A Stripe test card and its ready-made PaymentMethod (`pm_card_*`) and token (`tok_*`) aliases. */
export interface TestCard {
  number: string;
  /** Every `pm_card_*` alias of the card; the first is the canonical one. */
  paymentMethods: readonly string[];
  /** Every `tok_*` alias of the card. */
  tokens: readonly string[];
  behaviour: CardBehaviour;
  /** What the hosted page's card table says about it. */
  description: string;
}

/** The supported test cards; all are Visa. Any other number is refused as `incorrect_number`. */
export const TEST_CARDS: readonly TestCard[] = [
  { number: '4242424242424242', paymentMethods: ['pm_card_visa'], tokens: ['tok_visa'], behaviour: { kind: 'succeed' }, description: 'Succeeds' },
  {
    number: '4000000000000002',
    paymentMethods: ['pm_card_chargeDeclined', 'pm_card_visa_chargeDeclined'],
    tokens: ['tok_chargeDeclined', 'tok_visa_chargeDeclined'],
    behaviour: { kind: 'decline', declineCode: 'generic_decline' },
    description: 'Declined (generic_decline)',
  },
  {
    number: '4000000000009995',
    paymentMethods: ['pm_card_visa_chargeDeclinedInsufficientFunds', 'pm_card_chargeDeclinedInsufficientFunds'],
    tokens: ['tok_visa_chargeDeclinedInsufficientFunds', 'tok_chargeDeclinedInsufficientFunds'],
    behaviour: { kind: 'decline', declineCode: 'insufficient_funds' },
    description: 'Declined (insufficient_funds)',
  },
  {
    number: '4000002500003155',
    paymentMethods: ['pm_card_authenticationRequiredOnSetup'],
    tokens: ['tok_authenticationRequiredOnSetup'],
    behaviour: { kind: 'authenticate', offSession: 'unless_set_up' },
    description: 'Requires 3-D Secure, unless set up for off-session use',
  },
  {
    number: '4000002760003184',
    paymentMethods: ['pm_card_authenticationRequired'],
    tokens: ['tok_authenticationRequired'],
    behaviour: { kind: 'authenticate', offSession: 'always' },
    description: 'Requires 3-D Secure on every payment',
  },
  {
    number: '4000000000003220',
    paymentMethods: ['pm_card_threeDSecure2Required'],
    tokens: ['tok_threeDSecure2Required'],
    behaviour: { kind: 'authenticate', offSession: 'always' },
    description: 'Requires 3-D Secure 2',
  },
  // Attaches to a customer fine; every charge is declined (https://docs.stripe.com/testing#declined-payments).
  {
    number: '4000000000000341',
    paymentMethods: ['pm_card_chargeCustomerFail'],
    tokens: ['tok_chargeCustomerFail'],
    behaviour: { kind: 'decline', declineCode: 'generic_decline', attaches: true },
    description: 'Attaches, then every charge is declined',
  },
  {
    number: '4000000000001976',
    paymentMethods: ['pm_card_createDisputeInquiry'],
    tokens: ['tok_createDisputeInquiry'],
    behaviour: { kind: 'succeed', dispute: 'inquiry' },
    description: 'Succeeds, then an inquiry is opened',
  },
  {
    number: '4000000000000259',
    paymentMethods: ['pm_card_createDispute'],
    tokens: ['tok_createDispute'],
    behaviour: { kind: 'succeed', dispute: 'fraudulent' },
    description: 'Succeeds, then a fraudulent dispute is opened',
  },
];

/** A card's stable fingerprint (the same number always gives the same one, as in Stripe). */
export function cardFingerprint(number: string): string {
  return createHash('sha256').update(`card:${number}`).digest('base64url').slice(0, 16);
}

/** The test card with this number (digits only), if any. */
export function testCardByNumber(number: string): TestCard | undefined {
  return TEST_CARDS.find((card) => card.number === number);
}

/** The test card behind a `pm_card_*` or `tok_*` alias, if any. */
export function testCardByAlias(alias: string): TestCard | undefined {
  return TEST_CARDS.find((card) => card.paymentMethods.includes(alias) || card.tokens.includes(alias));
}

/** The test card a stored PaymentMethod was made from, recognised by fingerprint. */
export function testCardByFingerprint(fingerprint: string | null | undefined): TestCard | undefined {
  return TEST_CARDS.find((card) => cardFingerprint(card.number) === fingerprint);
}

import { createHash } from 'node:crypto';

/** What happens when a test card is charged (https://docs.stripe.com/testing#cards). */
export type CardBehaviour =
  | { kind: 'succeed' }
  | { kind: 'decline'; declineCode: DeclineCode }
  /** 3-D Secure required: the PaymentIntent goes to `requires_action` until the customer authenticates. */
  | { kind: 'authenticate' };

export type DeclineCode = 'generic_decline' | 'insufficient_funds';

/** A Stripe test card and its ready-made PaymentMethod (`pm_card_*`) and token (`tok_*`) aliases. */
export interface TestCard {
  number: string;
  paymentMethod: string;
  token: string;
  behaviour: CardBehaviour;
}

const succeed = { kind: 'succeed' } as const;
const authenticate = { kind: 'authenticate' } as const;
const decline = (declineCode: DeclineCode) => ({ kind: 'decline', declineCode }) as const;

/** The supported test cards; all are Visa. Any other number is refused as `incorrect_number`. */
export const TEST_CARDS: readonly TestCard[] = [
  { number: '4242424242424242', paymentMethod: 'pm_card_visa', token: 'tok_visa', behaviour: succeed },
  { number: '4000000000000002', paymentMethod: 'pm_card_chargeDeclined', token: 'tok_chargeDeclined', behaviour: decline('generic_decline') },
  {
    number: '4000000000009995',
    paymentMethod: 'pm_card_visa_chargeDeclinedInsufficientFunds',
    token: 'tok_visa_chargeDeclinedInsufficientFunds',
    behaviour: decline('insufficient_funds'),
  },
  {
    number: '4000002500003155',
    paymentMethod: 'pm_card_authenticationRequiredOnSetup',
    token: 'tok_authenticationRequiredOnSetup',
    behaviour: authenticate,
  },
  { number: '4000000000003220', paymentMethod: 'pm_card_threeDSecure2Required', token: 'tok_threeDSecure2Required', behaviour: authenticate },
  // Attaches fine but every charge fails; a Checkout payment charges at once, so it declines there.
  { number: '4000000000000341', paymentMethod: 'pm_card_chargeCustomerFail', token: 'tok_chargeCustomerFail', behaviour: decline('generic_decline') },
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
  return TEST_CARDS.find((card) => card.paymentMethod === alias || card.token === alias);
}

/** The test card a stored PaymentMethod was made from, recognised by fingerprint. */
export function testCardByFingerprint(fingerprint: string | null | undefined): TestCard | undefined {
  return TEST_CARDS.find((card) => cardFingerprint(card.number) === fingerprint);
}

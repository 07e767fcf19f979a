import type Stripe from 'stripe';
import { docUrl, type StripeErrorBody } from '../http/errors';
import type { DeclineCode } from './test-cards';

interface Decline {
  message: string;
  outcome: Stripe.Charge.Outcome;
}

/**
 * Card declines as Stripe reports them. The `generic_decline` wording is that of the real 402
 * bodies in `shared/stripe/card-errors/`; `insufficient_funds` follows Stripe's decline-code docs
 * (https://docs.stripe.com/declines/codes).
 */
const DECLINES: Record<DeclineCode, Decline> = {
  generic_decline: {
    message: 'Your card was declined.',
    outcome: {
      advice_code: 'try_again_later',
      network_advice_code: null,
      network_decline_code: null,
      network_status: 'declined_by_network',
      reason: 'generic_decline',
      risk_level: 'normal',
      risk_score: 33,
      seller_message: 'The bank did not return any further details with this decline.',
      type: 'issuer_declined',
    },
  },
  insufficient_funds: {
    message: 'Your card has insufficient funds.',
    outcome: {
      advice_code: 'try_again_later',
      network_advice_code: null,
      network_decline_code: '51',
      network_status: 'declined_by_network',
      reason: 'insufficient_funds',
      risk_level: 'normal',
      risk_score: 33,
      seller_message: 'The bank returned the decline code `insufficient_funds`.',
      type: 'issuer_declined',
    },
  },
};

/** `outcome` of a charge the issuer approved. */
export const APPROVED_OUTCOME: Stripe.Charge.Outcome = {
  advice_code: null,
  network_advice_code: null,
  network_decline_code: null,
  network_status: 'approved_by_network',
  reason: null,
  risk_level: 'normal',
  risk_score: 20,
  seller_message: 'Payment complete.',
  type: 'authorized',
};

/** The customer-facing message of a decline, e.g. `Your card was declined.` */
export function declineMessage(code: DeclineCode): string {
  return DECLINES[code].message;
}

/** The charge `outcome` of a decline. */
export function declineOutcome(code: DeclineCode): Stripe.Charge.Outcome {
  return DECLINES[code].outcome;
}

/** The error of a declined charge (`last_payment_error`, and the 402 body of a declined confirm). */
export function declineError(code: DeclineCode, chargeId: string, paymentMethod: Stripe.PaymentMethod): StripeErrorBody {
  const { advice_code } = DECLINES[code].outcome;
  return {
    type: 'card_error',
    code: 'card_declined',
    decline_code: code,
    ...(advice_code ? { advice_code } : {}),
    doc_url: docUrl('card_declined'),
    message: declineMessage(code),
    charge: chargeId,
    payment_method: paymentMethod,
  };
}

/** `last_payment_error` after the customer failed 3-D Secure (no charge is attempted). */
export function authenticationFailure(paymentMethod: Stripe.PaymentMethod): StripeErrorBody {
  return {
    type: 'invalid_request_error',
    code: 'payment_intent_authentication_failure',
    doc_url: docUrl('payment_intent_authentication_failure'),
    message: 'We are unable to authenticate your payment method. Please choose a different payment method and try again.',
    payment_method: paymentMethod,
  };
}

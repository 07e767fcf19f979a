import type Stripe from 'stripe';
import { docUrl, type StripeErrorBody } from '../http/errors';
import type { DeclineCode } from './test-cards';

interface Decline {
  /** The error `code` and charge `failure_code`. */
  code: 'card_declined' | 'authentication_required';
  message: string;
  outcome: Stripe.Charge.Outcome;
}

/**
 * Card declines as Stripe reports them. The `generic_decline` wording is that of the real 402
 * bodies in `shared/stripe/card-errors/`, as are the charge `failure_message` and `outcome` of
 * `authentication_required` (an off-session payment of a card that needs 3-D Secure);
 * `insufficient_funds` follows Stripe's decline-code docs (https://docs.stripe.com/declines/codes).
 */
const DECLINES: Record<DeclineCode, Decline> = {
  generic_decline: {
    code: 'card_declined',
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
    code: 'card_declined',
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
  authentication_required: {
    code: 'authentication_required',
    message: 'Your card was declined. This transaction requires authentication.',
    outcome: {
      advice_code: null,
      network_advice_code: null,
      network_decline_code: null,
      network_status: 'declined_by_network',
      reason: 'authentication_required',
      risk_level: 'normal',
      risk_score: 33,
      seller_message: 'The bank returned the decline code `authentication_required`.',
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

/** `outcome` of a debit charge while it is `pending` (https://docs.stripe.com/api/charges/object#charge_object-outcome). */
export const PENDING_OUTCOME: Stripe.Charge.Outcome = {
  advice_code: null,
  network_advice_code: null,
  network_decline_code: null,
  network_status: 'approved_by_network',
  reason: null,
  risk_level: 'not_assessed',
  seller_message: 'Payment complete.',
  type: 'authorized',
};

/** The customer-facing message of a decline, e.g. `Your card was declined.` */
export function declineMessage(code: DeclineCode): string {
  return DECLINES[code].message;
}

/** The charge `failure_code` of a decline: `card_declined`, or `authentication_required`. */
export function declineFailureCode(code: DeclineCode): string {
  return DECLINES[code].code;
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
    code: DECLINES[code].code,
    decline_code: code,
    ...(advice_code ? { advice_code } : {}),
    doc_url: docUrl(DECLINES[code].code),
    message: declineMessage(code),
    charge: chargeId,
    payment_method: paymentMethod,
  };
}

/**
 * `last_setup_error` (and the 402 body) of a SetupIntent whose card the issuer declined: the
 * card error of a decline, without a charge (setting up a card charges nothing).
 */
export function setupDeclineError(code: DeclineCode, paymentMethod: Stripe.PaymentMethod): StripeErrorBody {
  const { charge: _charge, ...error } = declineError(code, '', paymentMethod);
  return error;
}

/** `last_setup_error` after the customer failed 3-D Secure on a SetupIntent. */
export function setupAuthenticationFailure(paymentMethod: Stripe.PaymentMethod): StripeErrorBody {
  return {
    type: 'invalid_request_error',
    code: 'setup_intent_authentication_failure',
    doc_url: docUrl('setup_intent_authentication_failure'),
    message: 'We are unable to authenticate your payment method. Please choose a different payment method and try again.',
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

/**
 * `last_payment_error` of a SEPA debit that failed after `processing`: the attempt failed and
 * its PaymentMethod was removed from the PaymentIntent (https://docs.stripe.com/error-codes#payment-intent-payment-attempt-failed).
 */
export function asyncPaymentFailure(paymentMethod: Stripe.PaymentMethod): StripeErrorBody {
  return {
    type: 'invalid_request_error',
    code: 'payment_intent_payment_attempt_failed',
    doc_url: docUrl('payment_intent_payment_attempt_failed'),
    message:
      'The latest payment attempt of this PaymentIntent has failed or been canceled, and the attached payment method has been removed. You can try confirming again with a new payment method.',
    payment_method: paymentMethod,
  };
}

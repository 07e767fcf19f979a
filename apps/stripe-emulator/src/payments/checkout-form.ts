import type Stripe from 'stripe';
import type { EmulatorContext } from '../core/context';
import { NO_REQUEST } from '../core/events';
import { requireSession } from '../resources/checkout-sessions';
import { createCardPaymentMethod, type CardDetails } from '../resources/payment-methods';
import { authenticateCheckoutPayment, payCheckoutSession, pendingAuthentication, type PaymentOutcome } from './checkout-payment';
import { testCardByNumber } from './test-cards';

/** The fields of the hosted checkout form (`name` attributes of its inputs). */
export interface CheckoutForm {
  email?: string | undefined;
  cardNumber?: string | undefined;
  /** `MM / YY` (also `MM/YY`, `MM/YYYY`). */
  cardExpiry?: string | undefined;
  cardCvc?: string | undefined;
}

/** A problem with what was typed, reported next to the form like Stripe.js does; no state changed. */
export interface FormError {
  field: keyof CheckoutForm;
  code: string;
  message: string;
}

/** The result of submitting the form: a payment outcome, a form error, or a session that is no longer open. */
export type SubmitResult = PaymentOutcome | { status: 'invalid'; session: Stripe.Checkout.Session; error: FormError } | { status: 'closed'; session: Stripe.Checkout.Session };

/** Whether the form must ask for an email (the session knows no customer and no `customer_email`). */
export function needsEmail(session: Stripe.Checkout.Session): boolean {
  return session.customer === null && session.customer_email === null;
}

function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let index = 0; index < digits.length; index += 1) {
    let digit = Number(digits[digits.length - 1 - index]);
    if (index % 2 === 1) digit = digit * 2 > 9 ? digit * 2 - 9 : digit * 2;
    sum += digit;
  }
  return sum % 10 === 0;
}

/**
 * Validates the typed card (spaces ignored; expiry a current or future `MM / YY`; 3–4 digit
 * CVC) and the email when required (it is ignored otherwise), with Stripe.js's messages.
 */
export function readCardForm(form: CheckoutForm, emailRequired: boolean, now = new Date()): { card: CardDetails; email: string | null } | { error: FormError } {
  const email = form.email?.trim() || null;
  if (emailRequired && (email === null || !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email))) {
    return { error: { field: 'email', code: 'email_invalid', message: email === null ? 'Your email is incomplete.' : 'Your email address is invalid.' } };
  }
  const number = (form.cardNumber ?? '').replace(/\s+/g, '');
  if (number === '') return { error: { field: 'cardNumber', code: 'incomplete_number', message: 'Your card number is incomplete.' } };
  if (!/^\d{12,19}$/.test(number) || !luhnValid(number)) {
    return { error: { field: 'cardNumber', code: 'invalid_number', message: 'Your card number is invalid.' } };
  }
  const expiry = /^\s*(\d{1,2})\s*\/\s*(\d{2}|\d{4})\s*$/.exec(form.cardExpiry ?? '');
  if (!expiry) return { error: { field: 'cardExpiry', code: 'incomplete_expiry', message: "Your card's expiration date is incomplete." } };
  const expMonth = Number(expiry[1]);
  const expYear = expiry[2]!.length === 2 ? 2000 + Number(expiry[2]) : Number(expiry[2]);
  if (expMonth < 1 || expMonth > 12) return { error: { field: 'cardExpiry', code: 'invalid_expiry_month', message: "Your card's expiration month is invalid." } };
  if (expYear * 12 + expMonth < now.getFullYear() * 12 + now.getMonth() + 1) {
    return { error: { field: 'cardExpiry', code: 'invalid_expiry_year_past', message: "Your card's expiration date is in the past." } };
  }
  if (!/^\d{3,4}$/.test((form.cardCvc ?? '').trim())) {
    return { error: { field: 'cardCvc', code: 'incomplete_cvc', message: "Your card's security code is incomplete." } };
  }
  return { card: { number, expMonth, expYear }, email: emailRequired ? email : null };
}

/**
 * Submits the hosted checkout form for session `sessionId` (404 if unknown): validates it,
 * turns the card into a PaymentMethod (an unknown number is Stripe's `incorrect_number`) and
 * pays the session. This is the one code path of the hosted page and `completeCheckoutSession`.
 */
export function submitCheckoutForm(ctx: EmulatorContext, sessionId: string, form: CheckoutForm): SubmitResult {
  const session = requireSession(ctx, sessionId);
  if (session.status !== 'open') return { status: 'closed', session };
  const read = readCardForm(form, needsEmail(session));
  if ('error' in read) return { status: 'invalid', session, error: read.error };
  if (!testCardByNumber(read.card.number)) {
    return { status: 'invalid', session, error: { field: 'cardNumber', code: 'incorrect_number', message: 'Your card number is incorrect.' } };
  }
  const paymentMethod = createCardPaymentMethod(ctx, read.card, { email: read.email });
  return payCheckoutSession(ctx, session, { paymentMethod, email: read.email, request: NO_REQUEST });
}

/** Submits the 3-D Secure challenge of session `sessionId`: `approve` completes the payment, otherwise it fails. */
export function submitAuthentication(ctx: EmulatorContext, sessionId: string, approve: boolean): SubmitResult {
  const session = requireSession(ctx, sessionId);
  const intent = session.status === 'open' ? pendingAuthentication(ctx, session) : undefined;
  if (!intent) return { status: 'closed', session };
  return authenticateCheckoutPayment(ctx, session, intent, { approve, request: NO_REQUEST });
}

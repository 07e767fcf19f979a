/**
 * The text of the dunning notices (plain text only, so nothing from a payload can become
 * markup). Every value is passed in already shape-checked; `oneLine` strips control
 * characters from names so a subject stays one header line.
 */
import { formatMinor } from '../schemas';

export interface NoticeContext {
  workspaceName: string;
  customerName: string;
  /** e.g. "INV-0012" or `in_...` when the invoice has no (valid) number. */
  invoiceLabel: string;
  /** The plan's name when the invoice belongs to a subscription of a known plan. */
  planName: string | null;
  /** Stripe's hosted invoice page (pay, see the invoice, complete 3-D Secure), when valid. */
  hostedInvoiceUrl: string | null;
  /** The SPA's billing page (`<webUrl>/subscription`, "Manage billing" opens the Stripe portal), when known. */
  billingUrl: string | null;
}

export interface NoticeText {
  subject: string;
  text: string;
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]+/g;

/** `value` on one line (control characters become spaces), trimmed, at most `max` characters. */
export function oneLine(value: string, max = 120): string {
  return value.replace(CONTROL, ' ').replace(/\s+/g, ' ').trim().slice(0, max);
}

/** A Stripe timestamp as `2026-01-05 14:00 UTC`. */
export function formatUtc(date: Date): string {
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

const what = (c: NoticeContext) => (c.planName ? `your ${c.planName} subscription (invoice ${c.invoiceLabel})` : `invoice ${c.invoiceLabel}`);
const greeting = (c: NoticeContext) => (c.customerName ? `Hello ${c.customerName},` : 'Hello,');
const signature = (c: NoticeContext) => `-- ${c.workspaceName}`;

/** `invoice.payment_failed`: what failed, the retry date Stripe gives, and how to fix it. */
export function paymentFailedNotice(c: NoticeContext, n: { amountMinor: number; currency: string; attempt: number; nextPaymentAttempt: Date | null }): NoticeText {
  const amount = formatMinor(n.amountMinor, n.currency, 'en-US');
  const fixes = [
    c.billingUrl
      ? `- Update your payment method: open ${c.billingUrl} and choose "Update payment method" (Manage billing). Stripe retries the payment with the new card.`
      : `- Update your payment method: sign in to ${c.workspaceName}, open Billing and choose "Update payment method" (Manage billing). Stripe retries the payment with the new card.`,
  ];
  if (c.hostedInvoiceUrl) fixes.push(`- Or pay this invoice now with any card: ${c.hostedInvoiceUrl}`);
  const retry = n.nextPaymentAttempt
    ? `Stripe will retry the payment automatically on ${formatUtc(n.nextPaymentAttempt)}.`
    : 'No further retries: Stripe will not try this payment again automatically.';
  return {
    subject: oneLine(`${c.workspaceName}: payment of ${amount} failed (invoice ${c.invoiceLabel})`, 200),
    text: [
      greeting(c),
      '',
      `We could not collect the payment of ${amount} for ${what(c)}. This was attempt ${n.attempt}.`,
      '',
      'What failed: the automatic charge to the payment method on file did not go through (declined, or no usable payment method).',
      `Next retry: ${retry}`,
      '',
      'How to fix it:',
      ...fixes,
      '',
      'If you have already updated your payment method, you can ignore this message.',
      '',
      signature(c),
    ].join('\n'),
  };
}

/** `invoice.payment_action_required`: the hosted invoice link to complete 3-D Secure. */
export function actionRequiredNotice(c: NoticeContext, n: { amountMinor: number; currency: string }): NoticeText {
  const amount = formatMinor(n.amountMinor, n.currency, 'en-US');
  const where = c.hostedInvoiceUrl
    ? [`Complete the payment here: ${c.hostedInvoiceUrl}`]
    : c.billingUrl
      ? [`Open ${c.billingUrl} to complete the payment.`]
      : [`Sign in to ${c.workspaceName} and open Billing to complete the payment.`];
  return {
    subject: oneLine(`${c.workspaceName}: confirm your payment of ${amount} (invoice ${c.invoiceLabel})`, 200),
    text: [
      greeting(c),
      '',
      `Your bank asks you to confirm the payment of ${amount} for ${what(c)} with 3-D Secure.`,
      'The payment is not complete until you confirm it.',
      '',
      ...where,
      '',
      signature(c),
    ].join('\n'),
  };
}

/** `invoice.paid` after a failed attempt or an authentication request: payment received. */
export function paymentReceivedNotice(c: NoticeContext, n: { amountMinor: number; currency: string }): NoticeText {
  const amount = formatMinor(n.amountMinor, n.currency, 'en-US');
  return {
    subject: oneLine(`${c.workspaceName}: payment received (invoice ${c.invoiceLabel})`, 200),
    text: [
      greeting(c),
      '',
      `We received your payment of ${amount} for ${what(c)}. Thank you.`,
      'Nothing more is needed from you; earlier payment reminders for this invoice no longer apply.',
      ...(c.hostedInvoiceUrl ? ['', `Your receipt and invoice: ${c.hostedInvoiceUrl}`] : []),
      '',
      signature(c),
    ].join('\n'),
  };
}

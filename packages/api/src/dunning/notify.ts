/**
 * Dunning notices (issue 8 item 5): after an invoice event's mirror write, the customer's
 * billing contacts get the notice it calls for, through the email outbox, exactly once.
 *
 * Exactly once rests on the outbox's unique `reference` (insert ... on conflict do nothing),
 * never on a read-then-write: duplicate events, redeliveries and two processes handling the
 * same event at once all land on the same reference, and only the first insert is kept.
 * References (recipient lowercased):
 * - `dunning:<workspaceId>:<in_...>:failed:<attempt_count>:<recipient>`
 * - `dunning:<workspaceId>:<in_...>:action_required:<attempt_count>:<recipient>`
 * - `dunning:<workspaceId>:<in_...>:paid:<recipient>` (`invoice.paid` and
 *   `invoice.payment_succeeded` are one payment: one notice for both)
 *
 * Stripe's fields (stripe.com/docs/api/invoices/object): `attempt_count` (attempts so far,
 * this one included), `next_payment_attempt` (unix seconds of the next automatic retry; null
 * when Stripe will not retry), `amount_due` / `amount_paid` (minor units), `currency`,
 * `number`, `hosted_invoice_url`. Each is shape-checked; a malformed one falls back to the
 * mirror row's value (or is left out). Bodies are plain text (no HTML).
 */
import { and, eq, inArray, sql, type Database, type Invoice, type Subscription } from '@tally/db';
import type Stripe from 'stripe';
import { z } from 'zod';
import { enqueueEmailInTx, notifyEmailEnqueued } from '../email/enqueue';
import type { Logger } from '../logger';
import { SUBSCRIPTION_PAGE_PATH } from '../schemas/subscriptions';
import { escapeLike } from '../customers/list';
import { actionRequiredNotice, oneLine, paymentFailedNotice, paymentReceivedNotice, type NoticeContext, type NoticeText } from './messages';
import { billingContactsOf } from './recipients';

/** The invoice events that may send a customer notice. */
export type InvoiceNoticeEvent = 'invoice.payment_failed' | 'invoice.payment_action_required' | 'invoice.paid' | 'invoice.payment_succeeded';

/** `email_outbox.kind` of each notice. */
export const DUNNING_EMAIL_KINDS = {
  failed: 'dunning_payment_failed',
  action_required: 'dunning_action_required',
  paid: 'dunning_payment_received',
} as const;

export type InvoiceNoticeKind = keyof typeof DUNNING_EMAIL_KINDS;

/** What `sendInvoiceNotice` did (for the handler's outcome line and tests). */
export interface InvoiceNoticeResult {
  /** The notice this event calls for, or null when it calls for none. */
  notice: InvoiceNoticeKind | null;
  /** Billing contacts found. */
  recipients: number;
  /** Emails stored by this call (0 when an earlier call, or another process, already stored them). */
  enqueued: number;
  /** Why nothing was sent, when nothing was. */
  skipped?: string;
}

const INVOICE_ID = /^in_[A-Za-z0-9_]{1,255}$/;
const INVOICE_NUMBER = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const CURRENCY = /^[a-z]{3}$/;
const MAX_ATTEMPTS = 1_000;

/** A field that may be null (Stripe's "none"); a malformed value reads as missing (`undefined`: the mirror's value is used). */
const lenient = <T extends z.ZodType>(schema: T) => schema.nullish().catch(undefined);
/** The invoice fields a notice reads, each shape-checked on its own. */
const InvoiceNoticePayload = z.object({
  id: z.string().regex(INVOICE_ID),
  attempt_count: lenient(z.number().int().min(0).max(MAX_ATTEMPTS)),
  next_payment_attempt: lenient(z.number().int().min(0).max(253_402_300_799)),
  amount_due: lenient(z.number().int().min(0).max(Number.MAX_SAFE_INTEGER)),
  amount_paid: lenient(z.number().int().min(0).max(Number.MAX_SAFE_INTEGER)),
  currency: lenient(z.string().regex(CURRENCY)),
  number: lenient(z.string().regex(INVOICE_NUMBER)),
  hosted_invoice_url: lenient(z.string().max(2048)),
  status: lenient(z.string().max(40)),
});

/** `value` when it is an absolute http(s) URL without spaces or control characters, else null. */
export function safeLink(value: string | null | undefined): string | null {
  // eslint-disable-next-line no-control-regex
  if (typeof value !== 'string' || value.length > 2048 || /[\s\u0000-\u001f\u007f<>"']/.test(value)) return null;
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : null;
  } catch {
    return null;
  }
}

function noticeFor(type: InvoiceNoticeEvent): InvoiceNoticeKind {
  switch (type) {
    case 'invoice.payment_failed':
      return 'failed';
    case 'invoice.payment_action_required':
      return 'action_required';
    case 'invoice.paid':
    case 'invoice.payment_succeeded':
      return 'paid';
  }
}

/** Whether a failed-payment or authentication notice was already stored for this invoice. */
async function hadEarlierNotice(db: Database, workspaceId: string, stripeInvoiceId: string): Promise<boolean> {
  const { emailOutbox: o } = db.t;
  const prefix = `dunning:${workspaceId}:${stripeInvoiceId}:`;
  const rows = await db.q
    .select({ reference: o.reference })
    .from(o)
    .where(and(eq(o.workspaceId, workspaceId), inArray(o.kind, [DUNNING_EMAIL_KINDS.failed, DUNNING_EMAIL_KINDS.action_required]), sql`${o.reference} like ${`${escapeLike(prefix)}%`} escape '\\'`))
    .limit(20);
  // SQLite's LIKE ignores ASCII case: compare exactly.
  return rows.some((r) => r.reference?.startsWith(prefix));
}

/**
 * After an invoice event's mirror write (`invoice` is the mirror row as it now is), send the
 * customer's billing contacts (`billingContactsOf`: the billing email and the owners' emails)
 * the notice the event calls for, through the email outbox, once per attempt:
 * - `invoice.payment_failed`: one notice per failed attempt (`attempt_count` of the event's
 *   invoice): amount, what failed, the retry date (`next_payment_attempt`, or "no further
 *   retries"), and how to fix it (`<webUrl>/subscription` when `webUrl` is given, and the hosted
 *   invoice page). Skipped when the mirror is already `paid` or `void` (a stale event).
 * - `invoice.payment_action_required`: the hosted invoice link to complete 3-D Secure, once
 *   per attempt; skipped when the mirror is already `paid` or `void`.
 * - `invoice.paid` / `invoice.payment_succeeded`: "payment received", once per invoice, only
 *   when the invoice had trouble before (`attempt_count` > 1, the mirror's `firstFailedAt` or
 *   `paymentActionRequired`, or an earlier dunning notice for it); a first payment that just
 *   worked sends nothing.
 * Never throws for payload problems (a malformed invoice id, an id that is not the mirror's):
 * it logs and sends nothing. Database errors propagate (the handler fails and Stripe retries;
 * the references keep the retry from sending twice).
 * @param webUrl The SPA's URL (ApiConfig.webUrl), for the billing page link; optional.
 */
export async function sendInvoiceNotice(
  db: Database,
  { event, type, invoice, subscription, logger, webUrl }: { event: Stripe.Event; type: InvoiceNoticeEvent; invoice: Invoice; subscription: Subscription | null; logger?: Logger; webUrl?: string | null },
): Promise<InvoiceNoticeResult> {
  const notice = noticeFor(type);
  const log = (skipped: string, recipients = 0): InvoiceNoticeResult => {
    logger?.info({ eventId: event.id, stripeInvoiceId: invoice.stripeInvoiceId, notice, skipped }, 'No dunning notice sent');
    return { notice, recipients, enqueued: 0, skipped };
  };
  const parsed = InvoiceNoticePayload.safeParse(event.data?.object);
  if (!parsed.success) return log('not an invoice payload with a valid id');
  const payload = parsed.data;
  if (payload.id !== invoice.stripeInvoiceId) return log('the event names another invoice than the mirror row');

  const attempt = payload.attempt_count ?? (invoice.attemptCount > 0 ? invoice.attemptCount : null);
  switch (notice) {
    case 'failed':
    case 'action_required':
      // A failure or authentication request that arrives after the payment (or the void) is stale.
      if (invoice.status === 'paid' || invoice.status === 'void') return log(`the invoice is already ${invoice.status}`);
      if (attempt === null || attempt < 1) return log('no attempt count');
      break;
    case 'paid': {
      if (payload.status !== 'paid' && invoice.status !== 'paid') return log('the invoice is not paid');
      const troubled = (attempt ?? 0) > 1 || invoice.firstFailedAt !== null || invoice.paymentActionRequired || (await hadEarlierNotice(db, invoice.workspaceId, invoice.stripeInvoiceId));
      if (!troubled) return log('paid without an earlier failed attempt');
      break;
    }
  }

  const recipients = await billingContactsOf(db, { workspaceId: invoice.workspaceId, customerId: invoice.customerId });
  if (recipients.length === 0) return log('the customer has no billing contact');

  const context = await noticeContext(db, invoice, subscription, {
    number: payload.number ?? null,
    hostedInvoiceUrl: safeLink(payload.hosted_invoice_url) ?? safeLink(invoice.hostedInvoiceUrl),
    webUrl: webUrl ?? null,
  });
  const currency = payload.currency ?? (CURRENCY.test(invoice.currency) ? invoice.currency : 'usd');
  let message: NoticeText;
  let referenceTail: string;
  switch (notice) {
    case 'failed':
      message = paymentFailedNotice(context, {
        amountMinor: payload.amount_due ?? invoice.amountDueMinor,
        currency,
        attempt: attempt!,
        // null: Stripe will not retry; missing or malformed: what the mirror knows.
        nextPaymentAttempt: payload.next_payment_attempt === undefined ? invoice.nextPaymentAttemptAt : payload.next_payment_attempt === null ? null : new Date(payload.next_payment_attempt * 1000),
      });
      referenceTail = `failed:${attempt}`;
      break;
    case 'action_required':
      message = actionRequiredNotice(context, { amountMinor: payload.amount_due ?? invoice.amountDueMinor, currency });
      referenceTail = `action_required:${attempt}`;
      break;
    case 'paid':
      message = paymentReceivedNotice(context, { amountMinor: payload.amount_paid ?? invoice.amountPaidMinor, currency });
      referenceTail = 'paid';
      break;
  }

  const prefix = `dunning:${invoice.workspaceId}:${invoice.stripeInvoiceId}:${referenceTail}`;
  const enqueued = await db.transaction(function* (tx) {
    let stored = 0;
    for (const to of recipients) {
      const { id } = yield* enqueueEmailInTx(tx, db.t, {
        kind: DUNNING_EMAIL_KINDS[notice],
        to,
        subject: message.subject,
        text: message.text,
        workspaceId: invoice.workspaceId,
        reference: `${prefix}:${to}`,
      });
      if (id) stored++;
    }
    return stored;
  });
  if (enqueued > 0) notifyEmailEnqueued(db);
  logger?.info({ eventId: event.id, stripeInvoiceId: invoice.stripeInvoiceId, notice, attempt, recipients: recipients.length, enqueued }, enqueued > 0 ? 'Dunning notice stored' : 'Dunning notice already stored');
  return { notice, recipients: recipients.length, enqueued };
}

/** Names and links for the notice text, from the database (workspace, customer, plan) and the checked payload. */
async function noticeContext(
  db: Database,
  invoice: Invoice,
  subscription: Subscription | null,
  { number, hostedInvoiceUrl, webUrl }: { number: string | null; hostedInvoiceUrl: string | null; webUrl: string | null },
): Promise<NoticeContext> {
  const { workspaces: w, customers: c, plans: p } = db.t;
  const [[workspace], [customer], plan] = await Promise.all([
    db.q.select({ name: w.name }).from(w).where(eq(w.id, invoice.workspaceId)),
    db.q.select({ name: c.name }).from(c).where(eq(c.id, invoice.customerId)),
    subscription?.planId
      ? db.q
          .select({ name: p.name })
          .from(p)
          .where(and(eq(p.id, subscription.planId), eq(p.workspaceId, invoice.workspaceId)))
          .then((rows) => rows[0])
      : Promise.resolve(undefined),
  ]);
  const storedNumber = invoice.number && INVOICE_NUMBER.test(invoice.number) ? invoice.number : null;
  const base = safeLink(webUrl ?? null);
  return {
    workspaceName: oneLine(workspace?.name ?? '', 120) || 'Tally',
    customerName: oneLine(customer?.name ?? '', 120),
    invoiceLabel: number ?? storedNumber ?? invoice.stripeInvoiceId,
    planName: plan ? oneLine(plan.name, 120) || null : null,
    hostedInvoiceUrl,
    billingUrl: base ? `${base.replace(/\/+$/, '')}${SUBSCRIPTION_PAGE_PATH}` : null,
  };
}

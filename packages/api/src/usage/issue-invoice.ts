/**
 * Issuing one Tally usage invoice on Stripe (issue 9 item 5): the customer's Stripe customer,
 * a draft invoice, one invoice item per line attached to it, then finalization. Every call
 * carries an idempotency key derived from workspace, customer and period,
 *
 *   tally-usage:<workspaceId>:<customerId>:<period>:invoice
 *   tally-usage:<workspaceId>:<customerId>:<period>:item:<meterId>
 *   tally-usage:<workspaceId>:<customerId>:<period>:finalize
 *
 * so a retry of any step within Stripe's 24 hours replays the first answer instead of creating
 * a second object (stripe.com/docs/api/idempotent_requests). Resuming does not rest on the
 * keys alone: the Stripe invoice id is stored on the row right after the invoice is created;
 * a resume retrieves that invoice and adds only the items it does not have yet (each item
 * carries `metadata.tally_meter_id`), and a row that failed (or is older than the keys live)
 * without a stored id first looks for its invoice by `metadata.tally_usage_invoice_id` among
 * the customer's invoices. So a crash at any point, or a rerun days later, never bills twice.
 *
 * Collection method: `send_invoice` (due in `USAGE_INVOICE_DAYS_UNTIL_DUE` days). Tally's
 * customers mostly pay by Checkout (top-ups, billing records) and often have no default payment
 * method on their Stripe customer, which `charge_automatically` needs for a one-off invoice (a
 * subscription's card is not used for it): the charge would fail and start dunning for an
 * invoice the customer never saw. `send_invoice` gives every customer the same path: the
 * hosted invoice page (pay link on the Invoices page), whatever they have on file. The invoice
 * is finalized with `auto_advance: true`, so Stripe handles reminders and overdue per the
 * account's settings; Tally sends no mail of its own for it.
 *
 * Before finalizing, the draft's total must equal Tally's `totalMinor` (and after, the finalized
 * one's); otherwise the row is `failed` with a clear `lastError` and the draft is left
 * unfinalized (nothing payable for a wrong amount).
 */
import { and, eq, inArray, isNull, type Customer, type Database, type UsageInvoice } from '@tally/db';
import Stripe from 'stripe';
import { ensureStripeCustomer } from '../customers/ensure-stripe-customer';
import { AppError, notFound } from '../errors';
import type { Logger } from '../logger';
import { formatMinor } from '../schemas';
import type { StripeAccounts, WorkspaceStripe } from '../stripe/accounts';
import { describeError, storableText } from '../webhooks/text';
import { periodBounds } from './periods';

/** Days a usage invoice is due after finalization (Stripe's default for `send_invoice`). */
export const USAGE_INVOICE_DAYS_UNTIL_DUE = 30;

/** Idempotency keys live 24 hours at Stripe; rows older than this look for their invoice before creating one. */
const KEY_LIFETIME_MS = 23 * 60 * 60 * 1000;

/** One line of a usage invoice (`usage_invoices.lines`, JSON). Amounts in the invoice currency's minor units. */
export interface UsageInvoiceLine {
  meterId: string;
  meterKey: string;
  displayName: string;
  unit: string;
  /** The meter's aggregation of the period (sum, count or max), units. */
  quantity: number;
  /** `ceil(quantity / blockSize)`. */
  blocks: number;
  blockSize: number;
  /** Price of one block, minor units. */
  priceMinor: number;
  /** `blocks * priceMinor`, minor units. */
  amountMinor: number;
}

const int = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);
const text = (v: unknown): v is string => typeof v === 'string';

/** The lines stored on a usage invoice; a malformed entry is dropped (never a crash). */
export function parseUsageInvoiceLines(json: string): UsageInvoiceLine[] {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    return [];
  }
  if (!Array.isArray(raw)) return [];
  return raw.flatMap((l: Record<string, unknown> | null): UsageInvoiceLine[] =>
    l && text(l.meterId) && text(l.meterKey) && text(l.displayName) && text(l.unit) && int(l.quantity) && int(l.blocks) && int(l.blockSize) && int(l.priceMinor) && int(l.amountMinor)
      ? [{ meterId: l.meterId, meterKey: l.meterKey, displayName: l.displayName, unit: l.unit, quantity: l.quantity, blocks: l.blocks, blockSize: l.blockSize, priceMinor: l.priceMinor, amountMinor: l.amountMinor }]
      : [],
  );
}

/** The description of a line's invoice item: `Speech-to-text: 12,345 words (13 × 1,000 at $1.00), 2026-05`. */
export function usageLineDescription(line: UsageInvoiceLine, currency: string, period: string): string {
  const n = (v: number) => v.toLocaleString('en-US');
  return storableText(`${line.displayName}: ${n(line.quantity)} ${line.unit}${line.quantity === 1 ? '' : 's'} (${n(line.blocks)} × ${n(line.blockSize)} at ${formatMinor(line.priceMinor, currency, 'en-US')}), ${period}`, 500);
}

/** The idempotency key prefix of one customer's usage invoice for a period. */
export function usageIdempotencyKey(workspaceId: string, customerId: string, period: string, step: 'invoice' | 'finalize' | `item:${string}`): string {
  return `tally-usage:${workspaceId}:${customerId}:${period}:${step}`;
}

/** What happened to one usage invoice. `already_issued`: it was issued before (or by a concurrent issuer); `empty`: nothing to bill, Stripe not called. */
export type IssueUsageInvoiceOutcome = 'issued' | 'already_issued' | 'empty' | 'failed';

export interface IssueUsageInvoiceResult {
  outcome: IssueUsageInvoiceOutcome;
  /** The row as stored afterwards. */
  invoice: UsageInvoice;
  /** Why it failed (also in `invoice.lastError`). */
  error: string | null;
}

/** Thrown inside the issuer to mark the row failed with this exact message. */
class IssueFailure extends Error {}

function describeFailure(step: string, err: unknown): string {
  if (err instanceof IssueFailure) return storableText(err.message, 1000);
  if (err instanceof Stripe.errors.StripeError) {
    const parts = [err.type, err.code, err.statusCode ? `HTTP ${err.statusCode}` : null].filter(Boolean).join(', ');
    return storableText(`Stripe ${step} failed (${parts}): ${err.message}${err.requestId ? ` [${err.requestId}]` : ''}`, 1000);
  }
  if (err instanceof AppError) return storableText(`${step} failed: ${err.message}`, 1000);
  return storableText(`${step} failed: ${describeError(err)}`, 1000);
}

/** The customer's invoice carrying `metadata.tally_usage_invoice_id`, if Stripe has one (newest first; at most 1,000 looked at). */
async function findTallyInvoice(stripe: Stripe, stripeCustomerId: string, usageInvoiceId: string): Promise<Stripe.Invoice | null> {
  let seen = 0;
  for await (const invoice of stripe.invoices.list({ customer: stripeCustomerId, limit: 100 })) {
    if (invoice.metadata?.tally_usage_invoice_id === usageInvoiceId) return invoice;
    if (++seen >= 1000) break;
  }
  return null;
}

const idOf = (v: string | { id: string } | null | undefined): string | null => (v === null || v === undefined ? null : typeof v === 'string' ? v : v.id);

/**
 * Issue one `draft` or `failed` usage invoice on the workspace's Stripe (see the module doc).
 * Never throws for a Stripe or data problem: the row becomes `failed` with `lastError` (Stripe's
 * error type, code, status, message and request id: admins only, never shown to customers) and
 * the outcome says so; a later call retries from where it stopped. An `issued` row is returned
 * as is (`already_issued`), an `empty` one (total 0) is never sent to Stripe.
 *
 * @param stripe the workspace's Stripe when the caller already resolved it (a period close
 *   issuing thousands of invoices); else `stripeAccounts.forWorkspace` is asked.
 * @param customer the customer row when the caller has it (saves a query).
 * @throws AppError NOT_FOUND when the usage invoice is not one of `workspaceId`'s; database errors.
 */
export async function issueUsageInvoice({
  db,
  stripeAccounts,
  workspaceId,
  usageInvoiceId,
  stripe,
  customer,
  logger,
  now = () => new Date(),
}: {
  db: Database;
  stripeAccounts: StripeAccounts;
  workspaceId: string;
  usageInvoiceId: string;
  stripe?: WorkspaceStripe;
  customer?: Customer;
  logger?: Logger;
  now?: () => Date;
}): Promise<IssueUsageInvoiceResult> {
  const u = db.t.usageInvoices;
  const load = async () => (await db.q.select().from(u).where(and(eq(u.id, usageInvoiceId), eq(u.workspaceId, workspaceId))).limit(1))[0];
  const row = await load();
  if (!row) throw notFound('Usage invoice');
  if (row.status === 'issued') return { outcome: 'already_issued', invoice: row, error: null };
  if (row.status === 'empty') return { outcome: 'empty', invoice: row, error: null };
  if (row.totalMinor <= 0) {
    const [empty] = await db.q.update(u).set({ status: 'empty', updatedAt: now() }).where(and(eq(u.id, row.id), inArray(u.status, ['draft', 'failed']))).returning();
    return { outcome: 'empty', invoice: empty ?? (await load())!, error: null };
  }

  let step = 'stripe';
  try {
    const ws = stripe ?? (await stripeAccounts.forWorkspace(db, workspaceId));
    if (!ws.configured) throw new IssueFailure(`Stripe is not usable for this workspace: ${ws.reason}`);
    const client = ws.client;
    step = 'customer';
    const c = customer ?? (await db.q.select().from(db.t.customers).where(and(eq(db.t.customers.id, row.customerId), eq(db.t.customers.workspaceId, workspaceId))).limit(1))[0];
    if (!c) throw new IssueFailure(`customer ${row.customerId} not found in this workspace`);
    step = 'customers.create';
    const stripeCustomerId = await ensureStripeCustomer({ db, stripe: client, customer: c });

    const lines = parseUsageInvoiceLines(row.lines);
    const linesTotal = lines.reduce((s, l) => s + l.amountMinor, 0);
    if (lines.length === 0 || linesTotal !== row.totalMinor) throw new IssueFailure(`the usage invoice's lines (${lines.length}, totalling ${linesTotal}) do not add up to its total ${row.totalMinor}; not sent to Stripe`);
    const key = (s: Parameters<typeof usageIdempotencyKey>[3]) => usageIdempotencyKey(workspaceId, row.customerId, row.period, s);
    const metadata = { tally_usage_invoice_id: row.id, tally_workspace_id: workspaceId, tally_customer_id: row.customerId, tally_period: row.period };

    // 1. The Stripe invoice: the stored one, one found by metadata, or a new draft.
    let invoice: Stripe.Invoice | null = null;
    let fresh = false;
    if (row.stripeInvoiceId) {
      step = 'invoices.retrieve';
      invoice = await client.invoices.retrieve(row.stripeInvoiceId);
    } else if (row.status === 'failed' || now().getTime() - row.createdAt.getTime() > KEY_LIFETIME_MS) {
      step = 'invoices.list';
      invoice = await findTallyInvoice(client, stripeCustomerId, row.id);
    }
    if (!invoice) {
      step = 'invoices.create';
      invoice = await client.invoices.create(
        {
          customer: stripeCustomerId,
          currency: row.currency,
          collection_method: 'send_invoice',
          days_until_due: USAGE_INVOICE_DAYS_UNTIL_DUE,
          auto_advance: false,
          pending_invoice_items_behavior: 'exclude',
          description: `Usage for ${row.period}`,
          metadata,
        },
        { idempotencyKey: key('invoice') },
      );
      fresh = true;
    }
    if (!row.stripeInvoiceId) {
      // Stored at once, so a crash from here on resumes with this invoice.
      await db.q.update(u).set({ stripeInvoiceId: invoice.id, updatedAt: now() }).where(and(eq(u.id, row.id), isNull(u.stripeInvoiceId)));
    }
    if (invoice.metadata?.tally_usage_invoice_id !== row.id) throw new IssueFailure(`Stripe invoice ${invoice.id} is not this usage invoice's (its metadata names another); not issued`);
    if (idOf(invoice.customer) !== stripeCustomerId) throw new IssueFailure(`Stripe invoice ${invoice.id} belongs to another Stripe customer than ${stripeCustomerId}; not issued`);
    if (invoice.currency !== row.currency) throw new IssueFailure(`Stripe invoice ${invoice.id} is in ${invoice.currency}, the usage invoice in ${row.currency}; not issued`);

    // 2. Items and finalization, while it is a draft.
    if (invoice.status === 'draft') {
      const present = new Set<string>();
      if (!fresh) {
        step = 'invoiceItems.list';
        for await (const item of client.invoiceItems.list({ invoice: invoice.id, limit: 100 })) {
          const meterId = item.metadata?.tally_meter_id;
          if (meterId) present.add(meterId);
        }
      }
      const { start, end } = periodBounds(row.period);
      for (const line of lines) {
        if (present.has(line.meterId)) continue;
        step = 'invoiceItems.create';
        await client.invoiceItems.create(
          {
            customer: stripeCustomerId,
            invoice: invoice.id,
            amount: line.amountMinor,
            currency: row.currency,
            description: usageLineDescription(line, row.currency, row.period),
            period: { start: Math.floor(start.getTime() / 1000), end: Math.floor(end.getTime() / 1000) - 1 },
            metadata: { tally_usage_invoice_id: row.id, tally_meter_id: line.meterId, tally_period: row.period },
          },
          { idempotencyKey: key(`item:${line.meterId}`) },
        );
      }
      step = 'invoices.retrieve';
      const draft = await client.invoices.retrieve(invoice.id);
      if (draft.total !== row.totalMinor) {
        throw new IssueFailure(`Stripe's draft invoice ${invoice.id} totals ${draft.total} ${draft.currency} but Tally's usage invoice totals ${row.totalMinor} ${row.currency}; left as a draft, not finalized (check its items in Stripe)`);
      }
      step = 'invoices.finalizeInvoice';
      invoice = await client.invoices.finalizeInvoice(invoice.id, { auto_advance: true }, { idempotencyKey: key('finalize') });
    }
    if (invoice.status === 'void') throw new IssueFailure(`Stripe invoice ${invoice.id} was voided in Stripe; not marked issued`);
    if (invoice.status === 'draft') throw new IssueFailure(`Stripe invoice ${invoice.id} is still a draft after finalizing`);
    if (invoice.total !== row.totalMinor) {
      throw new IssueFailure(`Stripe invoice ${invoice.id} totals ${invoice.total} ${invoice.currency} but Tally's usage invoice totals ${row.totalMinor} ${row.currency}; not marked issued (void it in Stripe if it is wrong)`);
    }

    // 3. Issued.
    const at = now();
    const [issued] = await db.q
      .update(u)
      .set({ status: 'issued', stripeInvoiceId: invoice.id, stripeTotalMinor: invoice.total, stripeHostedInvoiceUrl: invoice.hosted_invoice_url ?? null, issuedAt: at, lastError: null, updatedAt: at })
      .where(and(eq(u.id, row.id), inArray(u.status, ['draft', 'failed'])))
      .returning();
    if (issued) return { outcome: 'issued', invoice: issued, error: null };
    const after = (await load())!;
    return { outcome: after.status === 'issued' ? 'already_issued' : 'failed', invoice: after, error: after.lastError };
  } catch (err) {
    const error = describeFailure(step, err);
    logger?.warn({ workspaceId, usageInvoiceId: row.id, customerId: row.customerId, period: row.period, step, err: error.slice(0, 300) }, 'Issuing a usage invoice on Stripe failed; it is retried on the next run');
    const [failed] = await db.q
      .update(u)
      .set({ status: 'failed', lastError: error, updatedAt: now() })
      .where(and(eq(u.id, row.id), inArray(u.status, ['draft', 'failed'])))
      .returning();
    const after = failed ?? (await load())!;
    return { outcome: after.status === 'issued' ? 'already_issued' : 'failed', invoice: after, error: after.status === 'issued' ? null : error };
  }
}

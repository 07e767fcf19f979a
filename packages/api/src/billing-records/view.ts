import { and, eq, inArray, type BillingRecord, type Database } from '@tally/db';
import { utcDate, type BillingRecordStatus } from '../schemas/billing-records';

/** A `billing_records` row as Drizzle reads it. */
export type BillingRecordRow = BillingRecord;

/** A payment for a record already PAID or VOID, credited to the customer's balance (ledger kind `overpayment`). */
export interface BillingRecordOverpayment {
  entryId: string;
  /** Minor units, > 0. */
  amountMinor: number;
  currency: string;
  createdAt: Date;
}

/**
 * What `billingRecord.create | get | list | markPaid | void` return. Amounts are integer minor
 * units with a lowercase ISO 4217 currency; `dueDate`/`manualPaidOn` are `YYYY-MM-DD`.
 * `overdue` is derived: DUE and today's UTC date is after `dueDate`. `payUrl` is set for the
 * admin audience only (`<webUrl>/pay/<token>`; the token is a bearer credential).
 */
export interface BillingRecordView {
  id: string;
  customerId: string;
  customerName: string;
  description: string;
  amountMinor: number;
  currency: string;
  dueDate: string;
  status: BillingRecordStatus;
  overdue: boolean;
  paidAt: Date | null;
  paymentMethod: BillingRecordRow['paymentMethod'];
  paymentReference: string | null;
  manualPaidOn: string | null;
  stripeCheckoutSessionId: string | null;
  stripePaymentIntentId: string | null;
  stripePaymentStatus: string | null;
  stripeLastEventAt: Date | null;
  voidedAt: Date | null;
  voidReason: string | null;
  createdAt: Date;
  payUrl: string | null;
  overpayments: BillingRecordOverpayment[];
}

export type BillingRecordAudience = 'admin' | 'customer';

/** Whether a record is overdue on `today` (`YYYY-MM-DD`, UTC): still DUE and its due date has passed. */
export function isOverdue(record: { status: string; dueDate: string }, today: string = utcDate()): boolean {
  return record.status === 'DUE' && today > record.dueDate;
}

/** The pay link of a token: `<webUrl>/pay/<token>`. */
export const payUrlOf = (webUrl: string, token: string) => `${webUrl}/pay/${token}`;

/** A row as a `BillingRecordView`. */
export function toBillingRecordView(
  row: BillingRecordRow,
  opts: { customerName: string; audience: BillingRecordAudience; webUrl: string; overpayments: BillingRecordOverpayment[]; today?: string },
): BillingRecordView {
  return {
    id: row.id,
    customerId: row.customerId,
    customerName: opts.customerName,
    description: row.description,
    amountMinor: row.amountMinor,
    currency: row.currency,
    dueDate: row.dueDate,
    status: row.status,
    overdue: isOverdue(row, opts.today),
    paidAt: row.paidAt ?? null,
    paymentMethod: row.paymentMethod ?? null,
    paymentReference: row.paymentReference ?? null,
    manualPaidOn: row.manualPaidOn ?? null,
    stripeCheckoutSessionId: row.stripeCheckoutSessionId ?? null,
    stripePaymentIntentId: row.stripePaymentIntentId ?? null,
    stripePaymentStatus: row.stripePaymentStatus ?? null,
    stripeLastEventAt: row.stripeLastEventAt ?? null,
    voidedAt: row.voidedAt ?? null,
    voidReason: row.voidReason ?? null,
    createdAt: row.createdAt,
    payUrl: opts.audience === 'admin' ? payUrlOf(opts.webUrl, row.payToken) : null,
    overpayments: opts.overpayments,
  };
}

/** Overpayment ledger entries of the given records, oldest first, keyed by record id. */
export async function overpaymentsOf(db: Database, recordIds: readonly string[]): Promise<Map<string, BillingRecordOverpayment[]>> {
  const out = new Map<string, BillingRecordOverpayment[]>();
  if (recordIds.length === 0) return out;
  const { ledgerEntries: l } = db.t;
  const rows = await db.q
    .select({ id: l.id, billingRecordId: l.billingRecordId, amountMinor: l.amountMinor, currency: l.currency, createdAt: l.createdAt })
    .from(l)
    .where(and(eq(l.kind, 'overpayment'), inArray(l.billingRecordId, [...recordIds])))
    .orderBy(l.id);
  for (const r of rows) {
    if (!r.billingRecordId) continue;
    const list = out.get(r.billingRecordId) ?? [];
    list.push({ entryId: r.id, amountMinor: r.amountMinor, currency: r.currency, createdAt: r.createdAt });
    out.set(r.billingRecordId, list);
  }
  return out;
}

/** Views of rows already authorized for `audience`, with customer names and overpayments. */
export async function viewsOf(
  db: Database,
  rows: readonly { record: BillingRecordRow; customerName: string }[],
  opts: { audience: BillingRecordAudience; webUrl: string; today?: string },
): Promise<BillingRecordView[]> {
  const overpayments = await overpaymentsOf(
    db,
    rows.map((r) => r.record.id),
  );
  const today = opts.today ?? utcDate();
  return rows.map(({ record, customerName }) =>
    toBillingRecordView(record, { customerName, audience: opts.audience, webUrl: opts.webUrl, overpayments: overpayments.get(record.id) ?? [], today }),
  );
}

import type { Database, Invoice, Subscription } from '@tally/db';
import type Stripe from 'stripe';
import type { Logger } from '../logger';

/** The invoice events that may send a customer notice. */
export type InvoiceNoticeEvent = 'invoice.payment_failed' | 'invoice.payment_action_required' | 'invoice.paid' | 'invoice.payment_succeeded';

/**
 * STUB (owned by the dunning work): after an invoice event's mirror write, send the customer's
 * billing contacts the notice it calls for through the email outbox (once per attempt).
 */
export async function sendInvoiceNotice(_db: Database, _opts: { event: Stripe.Event; type: InvoiceNoticeEvent; invoice: Invoice; subscription: Subscription | null; logger?: Logger }): Promise<void> {}

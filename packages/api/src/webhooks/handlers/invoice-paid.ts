import { invoiceEventHandler } from '../../invoices/handle-invoice-event';
import type { StripeEventHandler } from '../types';

/**
 * `invoice.paid`: the invoice is `paid` (charged, or paid out of band); the "payment received" notice follows.
 * Mirrors the invoice (`syncInvoice`: re-read from Stripe when possible, ordering-guarded and
 * forward-only, see invoices/sync-invoice.ts), then its subscription's `pastDueSince` and licenses.
 * Foreign customers and unparsable payloads are `ignored`.
 * Source: stripe.com/docs/api/events/types#event_types-invoice.paid
 */
export const handleInvoicePaid: StripeEventHandler = invoiceEventHandler('invoice.paid');

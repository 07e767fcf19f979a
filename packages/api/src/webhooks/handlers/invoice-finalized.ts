import { invoiceEventHandler } from '../../invoices/handle-invoice-event';
import type { StripeEventHandler } from '../types';

/**
 * `invoice.finalized`: the invoice is `open`: numbered, with its hosted page and PDF.
 * Mirrors the invoice (`syncInvoice`: re-read from Stripe when possible, ordering-guarded and
 * forward-only, see invoices/sync-invoice.ts), then its subscription's `pastDueSince` and licenses.
 * Foreign customers and unparsable payloads are `ignored`.
 * Source: stripe.com/docs/api/events/types#event_types-invoice.finalized
 */
export const handleInvoiceFinalized: StripeEventHandler = invoiceEventHandler();

import { invoiceEventHandler } from '../../invoices/handle-invoice-event';
import type { StripeEventHandler } from '../types';

/**
 * `invoice.voided`: the invoice is `void` (final).
 * Mirrors the invoice (`syncInvoice`: re-read from Stripe when possible, ordering-guarded and
 * forward-only, see invoices/sync-invoice.ts), then its subscription's `pastDueSince` and licenses.
 * Foreign customers and unparsable payloads are `ignored`.
 * Source: stripe.com/docs/api/events/types#event_types-invoice.voided
 */
export const handleInvoiceVoided: StripeEventHandler = invoiceEventHandler();

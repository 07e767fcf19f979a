import { invoiceEventHandler } from '../../invoices/handle-invoice-event';
import type { StripeEventHandler } from '../types';

/**
 * `invoice.payment_succeeded`: a payment attempt succeeded (sent with `invoice.paid`).
 * Mirrors the invoice (`syncInvoice`: re-read from Stripe when possible, ordering-guarded and
 * forward-only, see invoices/sync-invoice.ts), then its subscription's `pastDueSince` and licenses.
 * Foreign customers and unparsable payloads are `ignored`.
 * Source: stripe.com/docs/api/events/types#event_types-invoice.payment_succeeded
 */
export const handleInvoicePaymentSucceeded: StripeEventHandler = invoiceEventHandler('invoice.payment_succeeded');

import { invoiceEventHandler } from '../../invoices/handle-invoice-event';
import type { StripeEventHandler } from '../types';

/**
 * `invoice.payment_failed`: a payment attempt failed: `firstFailedAt` is set once (Stripe's clock), the subscription's `pastDueSince` follows it, and a dunning notice is sent for the attempt.
 * Mirrors the invoice (`syncInvoice`: re-read from Stripe when possible, ordering-guarded and
 * forward-only, see invoices/sync-invoice.ts), then its subscription's `pastDueSince` and licenses.
 * Foreign customers and unparsable payloads are `ignored`.
 * Source: stripe.com/docs/api/events/types#event_types-invoice.payment_failed
 */
export const handleInvoicePaymentFailed: StripeEventHandler = invoiceEventHandler('invoice.payment_failed');

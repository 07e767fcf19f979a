import { invoiceEventHandler } from '../../invoices/handle-invoice-event';
import type { StripeEventHandler } from '../types';

/**
 * `invoice.payment_action_required`: the attempt needs 3-D Secure: `paymentActionRequired` until the invoice is paid, and the hosted invoice link is sent.
 * Mirrors the invoice (`syncInvoice`: re-read from Stripe when possible, ordering-guarded and
 * forward-only, see invoices/sync-invoice.ts), then its subscription's `pastDueSince` and licenses.
 * Foreign customers and unparsable payloads are `ignored`.
 * Source: stripe.com/docs/api/events/types#event_types-invoice.payment_action_required
 */
export const handleInvoicePaymentActionRequired: StripeEventHandler = invoiceEventHandler('invoice.payment_action_required');

import { sendInvoiceNotice, type InvoiceNoticeEvent } from '../dunning/notify';
import type { HandlerOutcome, StripeEventHandler } from '../webhooks/types';
import { syncInvoice } from './sync-invoice';

/**
 * An `invoice.*` event handler: mirror `event.data.object` (`syncInvoice`: re-read from Stripe
 * when possible, ordering-guarded), then, for the notice events (`invoice.payment_failed`,
 * `payment_action_required`, `paid`, `payment_succeeded`), hand the mirror row as it now is
 * (possibly newer than the event, when a later version was already mirrored) and its
 * subscription to `sendInvoiceNotice`, which decides what to send, once per attempt.
 * Ignored: foreign customers and payloads Tally cannot parse (the outcome names the id).
 */
export function invoiceEventHandler(notice?: InvoiceNoticeEvent): StripeEventHandler {
  return async (args): Promise<HandlerOutcome> => {
    const result = await syncInvoice(args, args.event.data?.object, { wantSubscription: notice !== undefined });
    if (result.kind === 'ignored') return { status: 'ignored', outcome: result.outcome };
    if (result.kind === 'synced' && notice) {
      await sendInvoiceNotice(args.db, { event: args.event, type: notice, invoice: result.row, subscription: result.subscription, ...(args.logger ? { logger: args.logger } : {}), ...(args.webUrl ? { webUrl: args.webUrl } : {}) });
    }
    return { status: 'processed', outcome: result.outcome, workspaceId: result.workspaceId };
  };
}

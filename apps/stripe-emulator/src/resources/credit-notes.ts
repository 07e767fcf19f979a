import type Stripe from 'stripe';
import type { z } from 'zod';
import { issueCreditNote, planCreditNote, voidCreditNote, type CreditNoteRequest } from '../billing/credit-notes';
import { idOf, opFor, saveUpdate } from '../billing/op';
import type { EmulatorContext } from '../core/context';
import { resourceMissing } from '../http/errors';
import { paginate } from '../http/lists';
import { listParams, p, parseParams } from '../http/params';
import { reference, type ApiHandler, type ResourceModule } from '../http/route';
import { requireInvoice } from './invoices';
import { mergeMetadata, noParams } from './shared';

/**
 * Credit notes (https://docs.stripe.com/api/credit_notes): create, preview, retrieve, update,
 * list, void, lines. What they do to invoices and customer balances is in `billing/credit-notes.ts`.
 */

const lineParam = p.object({
  type: p.oneOf(['custom_line_item', 'invoice_line_item']),
  amount: p.integer({ min: 0 }).optional(),
  description: p.string().optional(),
  invoice_line_item: p.string().optional(),
  metadata: p.metadata().optional(),
  quantity: p.integer({ min: 0 }).optional(),
  unit_amount: p.integer({ min: 0 }).optional(),
});

/** Parameters of create and preview (preview takes them in the query string). */
const noteFields = {
  invoice: p.string(),
  amount: p.integer({ min: 0 }).optional(),
  credit_amount: p.integer({ min: 0 }).optional(),
  effective_at: p.integer({ min: 0 }).optional(),
  lines: p.array(lineParam).optional(),
  memo: p.string().optional(),
  metadata: p.metadata().optional(),
  out_of_band_amount: p.integer({ min: 0 }).optional(),
  reason: p.oneOf(['duplicate', 'fraudulent', 'order_change', 'product_unsatisfactory']).optional(),
  refund_amount: p.integer({ min: 0 }).optional(),
};
const createParams = p.object(noteFields);
const previewLinesParams = p.object({ ...noteFields, ...listParams });
const updateParams = p.object({ memo: p.string().optional(), metadata: p.metadata().optional() });
const listQuery = p.object({ ...listParams, customer: p.string().optional(), invoice: p.string().optional() });

/** The credit note `id`, or a 404 `resource_missing`. */
function requireCreditNote(ctx: EmulatorContext, id: string): Stripe.CreditNote {
  const note = ctx.store.creditNotes.get(id);
  if (!note) throw resourceMissing('credit_note', id);
  return note;
}

/** The parsed parameters as a {@link CreditNoteRequest} (400 `resource_missing` for an unknown `invoice`). */
function requestOf(ctx: EmulatorContext, params: z.output<typeof createParams>): CreditNoteRequest {
  return {
    invoice: requireInvoice(ctx, params.invoice, 'invoice'),
    amount: params.amount,
    lines: params.lines,
    creditAmount: params.credit_amount,
    refundAmount: params.refund_amount,
    outOfBandAmount: params.out_of_band_amount,
    reason: params.reason,
    memo: params.memo,
    metadata: mergeMetadata({}, params.metadata),
    effectiveAt: params.effective_at,
  };
}

const opForInvoice = (ctx: EmulatorContext, invoice: Stripe.Invoice, request: Stripe.Event.Request) => opFor(ctx, idOf(invoice.customer as string), request);

/**
 * POST /v1/credit_notes (https://docs.stripe.com/api/credit_notes/create) for an `open` or
 * `paid` invoice, with `lines` (`invoice_line_item` by `amount` or `quantity`, or
 * `custom_line_item` by `unit_amount` × `quantity`) or a bare `amount`.
 */
const create: ApiHandler = (req, ctx) => {
  const params = parseParams(createParams, req.params);
  const request = requestOf(ctx, params);
  const op = opForInvoice(ctx, request.invoice, req.request);
  return issueCreditNote(op, planCreditNote(op, request));
};

/** GET /v1/credit_notes/preview — the credit note `POST /v1/credit_notes` would issue, nothing stored. */
const preview: ApiHandler = (req, ctx) => {
  const params = parseParams(createParams, req.params);
  const request = requestOf(ctx, params);
  return planCreditNote(opForInvoice(ctx, request.invoice, req.request), request).creditNote;
};

/** GET /v1/credit_notes/preview/lines — the lines of that preview, paginated. */
const previewLines: ApiHandler = (req, ctx) => {
  const { limit, starting_after, ending_before, ...params } = parseParams(previewLinesParams, req.params);
  const request = requestOf(ctx, params);
  const note = planCreditNote(opForInvoice(ctx, request.invoice, req.request), request).creditNote;
  return paginate(note.lines.data, { limit, starting_after, ending_before }, '/v1/credit_notes/preview/lines');
};

/** GET /v1/credit_notes/:id */
const retrieve: ApiHandler = (req, ctx) => {
  parseParams(noParams, req.params);
  return requireCreditNote(ctx, req.path.id ?? '');
};

/** POST /v1/credit_notes/:id — `memo` and `metadata` only; `credit_note.updated`. */
const update: ApiHandler = (req, ctx) => {
  const params = parseParams(updateParams, req.params);
  const before = requireCreditNote(ctx, req.path.id ?? '');
  const after: Stripe.CreditNote = {
    ...before,
    ...(params.memo !== undefined ? { memo: params.memo } : {}),
    metadata: mergeMetadata(before.metadata ?? {}, params.metadata),
  };
  return saveUpdate(opFor(ctx, String(before.customer), req.request), ctx.store.creditNotes, before, after, 'credit_note.updated');
};

/** POST /v1/credit_notes/:id/void (https://docs.stripe.com/api/credit_notes/void). */
const voidHandler: ApiHandler = (req, ctx) => {
  parseParams(noParams, req.params);
  const note = requireCreditNote(ctx, req.path.id ?? '');
  return voidCreditNote(opFor(ctx, String(note.customer), req.request), note);
};

/** GET /v1/credit_notes — newest first; filters `invoice`, `customer`. */
const list: ApiHandler = (req, ctx) => {
  const query = parseParams(listQuery, req.params);
  const all = ctx.store.creditNotes
    .newestFirst()
    .filter((note) => (query.invoice === undefined || note.invoice === query.invoice) && (query.customer === undefined || note.customer === query.customer));
  return paginate(all, query, '/v1/credit_notes');
};

/** GET /v1/credit_notes/:id/lines */
const lines: ApiHandler = (req, ctx) => {
  const query = parseParams(p.object(listParams), req.params);
  const note = requireCreditNote(ctx, req.path.id ?? '');
  return paginate(note.lines.data, query, `/v1/credit_notes/${note.id}/lines`);
};

/** Credit notes; the preview routes come before `/:id` so that `preview` is not taken for an id. */
export const creditNotes: ResourceModule = {
  routes: [
    { method: 'get', path: '/v1/credit_notes/preview', returns: 'credit_note', handler: preview },
    { method: 'get', path: '/v1/credit_notes/preview/lines', returns: 'credit_note_line_item', list: true, handler: previewLines },
    { method: 'post', path: '/v1/credit_notes', returns: 'credit_note', handler: create },
    { method: 'get', path: '/v1/credit_notes', returns: 'credit_note', list: true, handler: list },
    { method: 'get', path: '/v1/credit_notes/:id', returns: 'credit_note', handler: retrieve },
    { method: 'post', path: '/v1/credit_notes/:id', returns: 'credit_note', handler: update },
    { method: 'post', path: '/v1/credit_notes/:id/void', returns: 'credit_note', handler: voidHandler },
    { method: 'get', path: '/v1/credit_notes/:id/lines', returns: 'credit_note_line_item', list: true, handler: lines },
  ],
  expandable: {
    credit_note: {
      customer: reference('customer', (store) => store.customers),
      invoice: reference('invoice', (store) => store.invoices),
      customer_balance_transaction: reference('customer_balance_transaction', (store) => store.customerBalanceTransactions),
    },
  },
};

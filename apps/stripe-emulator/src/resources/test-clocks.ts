import type Stripe from 'stripe';
import { billingId } from '../billing/ids';
import { idOf } from '../billing/op';
import { runDueBilling } from '../billing/scheduler';
import { nowSeconds } from '../core/clock';
import type { EmulatorContext } from '../core/context';
import { NO_REQUEST } from '../core/events';
import { invalidRequest, resourceMissing } from '../http/errors';
import { paginate } from '../http/lists';
import { listParams, p, parseParams } from '../http/params';
import type { ApiHandler, ResourceModule } from '../http/route';
import { noParams } from './shared';

/**
 * Test clocks (https://docs.stripe.com/api/test_clocks): a frozen time that customers created
 * with `test_clock` live in. Advancing runs, in time order, everything billing would do up to
 * the new time (see `billing/scheduler.ts`). Like Stripe's, the advance is asynchronous: the
 * response says `advancing`, then `test_helpers.test_clock.ready` follows (poll `retrieve`).
 */

const createParams = p.object({ frozen_time: p.integer({ min: 0 }), name: p.string(300).optional() });
const advanceParams = p.object({ frozen_time: p.integer({ min: 0 }) });
const listQuery = p.object(listParams);

/** Stripe deletes test clocks 30 days after creation. */
const CLOCK_LIFETIME = 30 * 24 * 3600;

/** The test clock `id`, or a 404 `resource_missing` naming `param`. */
export function requireTestClock(ctx: EmulatorContext, id: string, param = 'id'): Stripe.TestHelpers.TestClock {
  const clock = ctx.store.testClocks.get(id);
  if (!clock) throw resourceMissing('test_helpers.test_clock', id, param);
  return clock;
}

/** POST /v1/test_helpers/test_clocks — publishes `test_helpers.test_clock.created`. */
const create: ApiHandler = (req, ctx) => {
  const params = parseParams(createParams, req.params);
  const created = nowSeconds();
  const clock: Stripe.TestHelpers.TestClock = {
    id: billingId('clock'),
    object: 'test_helpers.test_clock',
    created,
    deletes_after: created + CLOCK_LIFETIME,
    frozen_time: params.frozen_time,
    livemode: false,
    name: params.name ?? null,
    status: 'ready',
    status_details: {},
  };
  ctx.store.testClocks.put(clock);
  ctx.events.publish({ type: 'test_helpers.test_clock.created', object: clock, request: req.request });
  return clock;
};

/** GET /v1/test_helpers/test_clocks/:id */
const retrieve: ApiHandler = (req, ctx) => {
  parseParams(noParams, req.params);
  return requireTestClock(ctx, req.path.id ?? '');
};

/** GET /v1/test_helpers/test_clocks — newest first. */
const list: ApiHandler = (req, ctx) => {
  const query = parseParams(listQuery, req.params);
  return paginate(ctx.store.testClocks.newestFirst(), query, '/v1/test_helpers/test_clocks');
};

/**
 * DELETE /v1/test_helpers/test_clocks/:id — deletes the clock and, as Stripe does, the
 * customers in it with their subscriptions, invoices and invoice items; publishes
 * `test_helpers.test_clock.deleted`.
 */
const remove: ApiHandler = (req, ctx) => {
  parseParams(noParams, req.params);
  const clock = requireTestClock(ctx, req.path.id ?? '');
  const { store } = ctx;
  const customers = new Set(store.customers.all().filter((customer) => customer.test_clock === clock.id).map((customer) => customer.id));
  const owned = (value: unknown) => customers.has(String(idOf(value as string)));
  for (const subscription of store.subscriptions.all()) if (owned(subscription.customer)) store.subscriptions.delete(subscription.id);
  for (const invoice of store.invoices.all()) if (owned(invoice.customer)) store.invoices.delete(invoice.id);
  for (const item of store.invoiceItems.all()) if (owned(item.customer)) store.invoiceItems.delete(item.id);
  for (const id of customers) store.customers.delete(id);
  store.testClocks.delete(clock.id);
  ctx.events.publish({ type: 'test_helpers.test_clock.deleted', object: clock, request: req.request });
  return { id: clock.id, object: 'test_helpers.test_clock', deleted: true } satisfies Stripe.TestHelpers.DeletedTestClock;
};

/**
 * Moves a clock to `target` (unix seconds) now, synchronously: runs every billing task due in
 * between at its own time, then marks the clock `ready` and publishes
 * `test_helpers.test_clock.ready`. A failure leaves it `internal_failure`, as Stripe reports it.
 */
export function runClockAdvance(ctx: EmulatorContext, clockId: string, target: number, log?: (line: string) => void): void {
  const setTime = (at: number) => {
    const clock = ctx.store.testClocks.get(clockId);
    if (clock && at > clock.frozen_time) ctx.store.testClocks.put({ ...clock, frozen_time: at });
  };
  try {
    runDueBilling(ctx, { clock: clockId }, target, { setTime, log });
  } catch (error) {
    log?.(`test clock ${clockId}: ${error instanceof Error ? error.message : String(error)}`);
    const clock = ctx.store.testClocks.get(clockId);
    if (clock) ctx.store.testClocks.put({ ...clock, status: 'internal_failure', status_details: {} });
    return;
  }
  const clock = ctx.store.testClocks.get(clockId);
  if (!clock) return;
  const ready = ctx.store.testClocks.put({ ...clock, frozen_time: target, status: 'ready', status_details: {} });
  ctx.events.publish({ type: 'test_helpers.test_clock.ready', object: ready, request: NO_REQUEST });
}

/**
 * POST /v1/test_helpers/test_clocks/:id/advance (https://docs.stripe.com/api/test_clocks/advance):
 * `frozen_time` must be later than the clock's. Answers the clock `advancing` (with
 * `status_details.advancing.target_frozen_time`) and publishes
 * `test_helpers.test_clock.advancing`; the advance itself runs right after the response.
 */
const advance: ApiHandler = (req, ctx) => {
  const params = parseParams(advanceParams, req.params);
  const clock = requireTestClock(ctx, req.path.id ?? '');
  if (clock.status === 'advancing') {
    throw invalidRequest(`The test clock ${clock.id} is already advancing. Wait until its status is \`ready\` before advancing it again.`, {
      code: 'test_clock_not_ready',
    });
  }
  if (params.frozen_time <= clock.frozen_time) {
    throw invalidRequest(`The frozen_time (${params.frozen_time}) must be later than the test clock's current frozen_time (${clock.frozen_time}).`, {
      param: 'frozen_time',
    });
  }
  const advancing = ctx.store.testClocks.put({ ...clock, status: 'advancing', status_details: { advancing: { target_frozen_time: params.frozen_time } } });
  ctx.events.publish({ type: 'test_helpers.test_clock.advancing', object: advancing, request: req.request });
  setImmediate(() => runClockAdvance(ctx, clock.id, params.frozen_time));
  return advancing;
};

/** Test clocks: create, retrieve, list, delete, advance. */
export const testClocks: ResourceModule = {
  routes: [
    { method: 'post', path: '/v1/test_helpers/test_clocks', returns: 'test_helpers.test_clock', handler: create },
    { method: 'get', path: '/v1/test_helpers/test_clocks', returns: 'test_helpers.test_clock', list: true, handler: list },
    { method: 'get', path: '/v1/test_helpers/test_clocks/:id', returns: 'test_helpers.test_clock', handler: retrieve },
    { method: 'delete', path: '/v1/test_helpers/test_clocks/:id', returns: 'test_helpers.test_clock', handler: remove },
    { method: 'post', path: '/v1/test_helpers/test_clocks/:id/advance', returns: 'test_helpers.test_clock', handler: advance },
  ],
};

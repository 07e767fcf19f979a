import type { AppRouter, BillingStreamMessage } from '@tally/api';
import { QueryClient } from '@tanstack/react-query';
import { createTRPCReact, getQueryKey } from '@trpc/react-query';
import { describe, expect, it } from 'vitest';
import {
  allBillingStreamTargets,
  BILLING_STREAM_LABELS,
  billingStreamTargets,
  BillingStreamStore,
  isFinalStreamError,
  queryKeyOf,
  reconnectDelayMs,
  refetchIntervalWhileNotLive,
  type BillingStreamHandlers,
  type BillingStreamInput,
  type BillingStreamViewer,
} from './billing-stream';

const CUSTOMER_A = '0190a1b2-0000-7000-8000-00000000000a';
const CUSTOMER_B = '0190a1b2-0000-7000-8000-00000000000b';
const WORKSPACE = '0190a1b2-0000-7000-8000-0000000000f1';
const RECORD = '0190a1b2-0000-7000-8000-0000000000c1';

const admin: BillingStreamViewer = { admin: true, ownCustomerIds: new Set() };
const customerA: BillingStreamViewer = { admin: false, ownCustomerIds: new Set([CUSTOMER_A]) };

function msg(change: Record<string, unknown>, id = '1700000000000-0'): BillingStreamMessage {
  return { workspaceId: WORKSPACE, id, at: '2024-01-01T00:00:00.000Z', ...change } as BillingStreamMessage;
}

/** A query cache holding the queries the SPA's pages make, keyed exactly as @trpc/react-query keys them. */
function seededCache() {
  const t = createTRPCReact<AppRouter>();
  const keys = {
    adminTopups: getQueryKey(t.admin.topups, { limit: 20 }, 'infinite'),
    adminTopupsPaid: getQueryKey(t.admin.topups, { status: 'paid', limit: 20 }, 'infinite'),
    adminEvents: getQueryKey(t.admin.events, { limit: 20 }, 'infinite'),
    customerA: getQueryKey(t.customers.get, { customerId: CUSTOMER_A }, 'query'),
    customerB: getQueryKey(t.customers.get, { customerId: CUSTOMER_B }, 'query'),
    ledgerA: getQueryKey(t.customers.ledger, { customerId: CUSTOMER_A, limit: 20 }, 'infinite'),
    ledgerB: getQueryKey(t.customers.ledger, { customerId: CUSTOMER_B, limit: 20 }, 'infinite'),
    customersList: getQueryKey(t.customers.list, { limit: 20 }, 'infinite'),
    balance: getQueryKey(t.balance.get, undefined, 'query'),
    ownLedger: getQueryKey(t.ledger.list, { limit: 5 }, 'query'),
    ownLedgerPages: getQueryKey(t.ledger.list, { limit: 20 }, 'infinite'),
    record: getQueryKey(t.billingRecord.get, { recordId: RECORD, audience: 'admin' }, 'query'),
    otherRecord: getQueryKey(t.billingRecord.get, { recordId: CUSTOMER_B, audience: 'admin' }, 'query'),
    recordsAll: getQueryKey(t.billingRecord.list, { audience: 'admin', limit: 20 }, 'infinite'),
    plans: getQueryKey(t.plan.adminList, undefined, 'query'),
    me: getQueryKey(t.me.get, undefined, 'query'),
  };
  const client = new QueryClient();
  for (const key of Object.values(keys)) client.setQueryData(key, { seeded: true });
  return { client, keys };
}

/** Which seeded queries a message invalidates for a viewer (names, sorted). */
async function invalidatedBy(message: BillingStreamMessage, viewer: BillingStreamViewer): Promise<string[]> {
  const { client, keys } = seededCache();
  for (const target of billingStreamTargets(message, viewer)) await client.invalidateQueries({ queryKey: queryKeyOf(target) });
  return Object.entries(keys)
    .filter(([, key]) => client.getQueryState(key)?.isInvalidated)
    .map(([name]) => name)
    .sort();
}

describe('billingStreamTargets: exactly the queries a message affects', () => {
  it('a credited top-up refreshes the admin top-ups and that customer, not the events or another customer', async () => {
    const m = msg({ kind: 'topup.credited', customerId: CUSTOMER_A, topupId: RECORD, amountMinor: 2500, currency: 'usd' });
    expect(await invalidatedBy(m, admin)).toEqual(['adminTopups', 'adminTopupsPaid', 'customerA', 'customersList', 'ledgerA']);
  });

  it("the same top-up refreshes a customer member's own balance and ledger", async () => {
    const m = msg({ kind: 'topup.credited', customerId: CUSTOMER_A, topupId: RECORD, amountMinor: 2500, currency: 'usd' });
    expect(await invalidatedBy(m, customerA)).toEqual(['balance', 'ownLedger', 'ownLedgerPages']);
  });

  it('an admin who is also the customer gets both views', async () => {
    const m = msg({ kind: 'balance.changed', customerId: CUSTOMER_A, balanceMinor: 100, currency: 'usd' });
    const both = { admin: true, ownCustomerIds: new Set([CUSTOMER_A]) };
    expect(await invalidatedBy(m, both)).toEqual(['balance', 'customerA', 'customersList', 'ledgerA', 'ownLedger', 'ownLedgerPages']);
  });

  it("another customer's change leaves a customer member's pages alone", async () => {
    const m = msg({ kind: 'balance.changed', customerId: CUSTOMER_B, balanceMinor: 100, currency: 'usd' });
    expect(await invalidatedBy(m, customerA)).toEqual([]);
  });

  it('a Stripe event refreshes only the events table, and only for admins', async () => {
    const m = msg({ kind: 'event.failed', eventId: 'evt_1', type: 'checkout.session.completed' });
    expect(await invalidatedBy(m, admin)).toEqual(['adminEvents']);
    expect(await invalidatedBy(m, customerA)).toEqual([]);
  });

  it('a created top-up refreshes the top-ups list but no balance', async () => {
    const m = msg({ kind: 'topup.created', customerId: CUSTOMER_A, topupId: RECORD, amountMinor: 2500, currency: 'usd' });
    expect(await invalidatedBy(m, admin)).toEqual(['adminTopups', 'adminTopupsPaid']);
  });

  it('a paid billing record refreshes the record lists, that record and its customer, not another record', async () => {
    const m = msg({ kind: 'billing_record.paid', customerId: CUSTOMER_A, billingRecordId: RECORD, amountMinor: 900, currency: 'usd' });
    expect(await invalidatedBy(m, admin)).toEqual(['customerA', 'customersList', 'record', 'recordsAll']);
  });

  it('an unknown kind (a newer server) invalidates nothing', async () => {
    const m = msg({ kind: 'something.new', customerId: CUSTOMER_A });
    expect(await invalidatedBy(m, { admin: true, ownCustomerIds: new Set([CUSTOMER_A]) })).toEqual([]);
  });

  it('after a gap, everything the stream covers is refreshed, never me.get or plans', async () => {
    const { client, keys } = seededCache();
    for (const target of allBillingStreamTargets({ admin: true, ownCustomerIds: new Set([CUSTOMER_A]) })) {
      await client.invalidateQueries({ queryKey: queryKeyOf(target) });
    }
    const untouched = Object.entries(keys).filter(([, key]) => !client.getQueryState(key)?.isInvalidated).map(([name]) => name);
    expect(untouched.sort()).toEqual(['me', 'plans']);
  });

  it('targets carry no duplicates', () => {
    const m = msg({ kind: 'billing_record.paid', customerId: CUSTOMER_A, billingRecordId: RECORD, amountMinor: 900, currency: 'usd' });
    const targets = billingStreamTargets(m, { admin: true, ownCustomerIds: new Set([CUSTOMER_A]) });
    const keys = targets.map((t) => JSON.stringify(queryKeyOf(t)));
    expect(new Set(keys).size).toBe(keys.length);
  });
});

describe('polling fallback and errors', () => {
  it('polls only while the stream is not live', () => {
    expect(refetchIntervalWhileNotLive('live', 3000)).toBe(false);
    expect(refetchIntervalWhileNotLive('live', 3000, 60_000)).toBe(60_000);
    expect(refetchIntervalWhileNotLive('reconnecting', 3000)).toBe(3000);
    expect(refetchIntervalWhileNotLive('off', 3000)).toBe(3000);
    expect(refetchIntervalWhileNotLive('connecting', false)).toBe(false);
  });

  it('names each state in words', () => {
    expect(BILLING_STREAM_LABELS).toEqual({ connecting: 'Connecting…', live: 'Live', reconnecting: 'Reconnecting…', off: 'Live updates off' });
  });

  it('treats "no stream here" and refusals as final, outages as transient', () => {
    for (const code of ['PRECONDITION_FAILED', 'UNAUTHORIZED', 'FORBIDDEN', 'NOT_FOUND', 'BAD_REQUEST']) expect(isFinalStreamError(code)).toBe(true);
    for (const code of [undefined, 'SERVICE_UNAVAILABLE', 'INTERNAL_SERVER_ERROR', 'BAD_GATEWAY']) expect(isFinalStreamError(code)).toBe(false);
  });

  it('backs off and caps the reconnect delay', () => {
    expect([0, 1, 2, 3, 4, 5, 50].map(reconnectDelayMs)).toEqual([1000, 2000, 5000, 10_000, 30_000, 30_000, 30_000]);
    expect(reconnectDelayMs(-1)).toBe(1000);
  });
});

/** A store wired to a fake subscription and fake timers. */
function harness() {
  const calls: { input: BillingStreamInput; handlers: BillingStreamHandlers; unsubscribed: boolean }[] = [];
  const timers: { fn: () => void; ms: number; cleared: boolean }[] = [];
  const messages: string[] = [];
  let resumed = 0;
  const store = new BillingStreamStore({
    subscribe: (input, handlers) => {
      const call = { input, handlers, unsubscribed: false };
      calls.push(call);
      return { unsubscribe: () => void (call.unsubscribed = true) };
    },
    onMessage: (m) => messages.push(m.id),
    onResumed: () => void (resumed += 1),
    setTimeout: (fn, ms) => {
      const timer = { fn, ms, cleared: false };
      timers.push(timer);
      return timer;
    },
    clearTimeout: (handle) => void ((handle as { cleared: boolean }).cleared = true),
  });
  const states: string[] = [];
  store.subscribe(() => states.push(store.getState()));
  const last = () => calls[calls.length - 1]!;
  return { store, calls, timers, messages, states, last, resumed: () => resumed };
}

describe('BillingStreamStore', () => {
  it('connects, goes live, passes messages on and remembers the last id', () => {
    const h = harness();
    h.store.start({ workspaceId: WORKSPACE });
    expect(h.store.getState()).toBe('connecting');
    expect(h.last().input).toEqual({ workspaceId: WORKSPACE, lastEventId: null });
    h.last().handlers.onConnectionStateChange({ state: 'pending', error: null });
    expect(h.store.getState()).toBe('live');
    h.last().handlers.onData({ id: '1700000000000-0', data: msg({ kind: 'event.received', eventId: 'evt_1', type: 'x' }, '1700000000000-0') });
    h.last().handlers.onData({ id: '1700000000001-3', data: msg({ kind: 'event.processed', eventId: 'evt_1', type: 'x' }, '1700000000001-3') });
    expect(h.messages).toEqual(['1700000000000-0', '1700000000001-3']);
    expect(h.store.resumeFrom).toBe('1700000000001-3');
    expect(h.resumed()).toBe(0);
  });

  it('shows reconnecting while the link reopens, and refetches once when live again', () => {
    const h = harness();
    h.store.start({ workspaceId: WORKSPACE });
    h.last().handlers.onConnectionStateChange({ state: 'pending', error: null });
    h.last().handlers.onConnectionStateChange({ state: 'connecting', error: new Error('Redis away') });
    expect(h.store.getState()).toBe('reconnecting');
    h.last().handlers.onConnectionStateChange({ state: 'pending', error: null });
    expect(h.store.getState()).toBe('live');
    expect(h.resumed()).toBe(1);
    expect(h.calls).toHaveLength(1);
    expect(h.states).toEqual(['connecting', 'live', 'reconnecting', 'live']);
  });

  it('reopens after a transient error with backoff, resuming from the last id', () => {
    const h = harness();
    h.store.start({ workspaceId: WORKSPACE });
    h.last().handlers.onConnectionStateChange({ state: 'pending', error: null });
    h.last().handlers.onData({ id: '1700000000005-1', data: msg({ kind: 'event.received', eventId: 'evt_1', type: 'x' }) });
    h.last().handlers.onError({ code: undefined });
    expect(h.store.getState()).toBe('reconnecting');
    expect(h.timers.map((t) => t.ms)).toEqual([1000]);
    h.timers[0]!.fn();
    expect(h.calls).toHaveLength(2);
    expect(h.last().input).toEqual({ workspaceId: WORKSPACE, lastEventId: '1700000000005-1' });
    expect(h.store.getState()).toBe('reconnecting');
    h.last().handlers.onError({ code: 'SERVICE_UNAVAILABLE' });
    expect(h.timers.map((t) => t.ms)).toEqual([1000, 2000]);
    h.timers[1]!.fn();
    h.last().handlers.onConnectionStateChange({ state: 'pending', error: null });
    expect(h.store.getState()).toBe('live');
    expect(h.resumed()).toBe(1);
  });

  it('a first connection that fails says reconnecting, not connecting forever', () => {
    const h = harness();
    h.store.start({ workspaceId: null });
    h.last().handlers.onConnectionStateChange({ state: 'connecting', error: new Error('refused') });
    expect(h.store.getState()).toBe('reconnecting');
  });

  it('stays off after a final error (no stream in this deployment) and never retries', () => {
    const h = harness();
    h.store.start({ workspaceId: WORKSPACE });
    h.last().handlers.onError({ code: 'PRECONDITION_FAILED' });
    expect(h.store.getState()).toBe('off');
    expect(h.timers).toHaveLength(0);
    expect(h.calls).toHaveLength(1);
  });

  it('stop closes the subscription, cancels a pending reconnect and ignores late callbacks', () => {
    const h = harness();
    h.store.start({ workspaceId: WORKSPACE });
    const first = h.last();
    first.handlers.onConnectionStateChange({ state: 'pending', error: null });
    first.handlers.onError({ code: undefined });
    h.store.stop();
    expect(h.store.getState()).toBe('off');
    expect(h.timers[0]!.cleared).toBe(true);
    h.timers[0]!.fn();
    first.handlers.onData({ id: '1700000000009-0', data: msg({ kind: 'event.received', eventId: 'evt_2', type: 'x' }, '1700000000009-0') });
    first.handlers.onConnectionStateChange({ state: 'pending', error: null });
    expect(h.calls).toHaveLength(1);
    expect(h.messages).toEqual([]);
    expect(h.store.getState()).toBe('off');
  });

  it('a new start (another workspace) closes the old subscription and does not resume its ids', () => {
    const h = harness();
    h.store.start({ workspaceId: WORKSPACE });
    const first = h.last();
    first.handlers.onData({ id: '1700000000009-0', data: msg({ kind: 'event.received', eventId: 'evt_2', type: 'x' }, '1700000000009-0') });
    h.store.start({ workspaceId: CUSTOMER_B });
    expect(first.unsubscribed).toBe(true);
    expect(h.last().input).toEqual({ workspaceId: CUSTOMER_B, lastEventId: null });
    first.handlers.onData({ id: '1700000000010-0', data: msg({ kind: 'event.received', eventId: 'evt_3', type: 'x' }, '1700000000010-0') });
    expect(h.messages).toEqual(['1700000000009-0']);
  });
});

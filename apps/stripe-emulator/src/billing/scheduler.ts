import type Stripe from 'stripe';
import { nowSeconds } from '../core/clock';
import type { EmulatorContext } from '../core/context';
import { NO_REQUEST } from '../core/events';
import { attemptInvoicePayment, reconcileInvoicePayments } from './collection';
import { idOf, type BillingOp } from './op';
import { billingSettings } from './settings';
import { currentPeriod, endTrial, expireIncomplete, finalizeAndCollect, renewSubscription, sendTrialWillEndIfDue, trialWillEndAt } from './subscriptions';
import { customerClock, customerNow } from './time';

/**
 * The billing engine's timeline: everything that happens by itself at a given time (trial
 * reminders and ends, renewals, cancellations at period end, automatic finalization, payment
 * retries, expiry of incomplete subscriptions), run in time order up to a target time. Test
 * clocks run it for their customers when advanced; a sweep runs it every second in real time
 * for customers without a clock.
 */

/** Something due at `at` (unix seconds). */
interface Task {
  at: number;
  /** Tie-breaker among tasks due at the same second (lower first), then creation order. */
  rank: number;
  describe: string;
  run: (op: BillingOp) => void;
}

/** Which customers a run covers: those of one test clock, or those without one (real time). */
export type Scope = { clock: string } | 'realtime';

function inScope(ctx: EmulatorContext, customer: string | null, scope: Scope): boolean {
  const clock = customerClock(ctx, customer);
  return scope === 'realtime' ? clock === null : clock === scope.clock;
}

function subscriptionTasks(ctx: EmulatorContext, subscription: Stripe.Subscription): Task[] {
  const tasks: Task[] = [];
  const at = (time: number, rank: number, describe: string, run: Task['run']) => tasks.push({ at: time, rank, describe: `${describe} ${subscription.id}`, run });
  const fresh = (op: BillingOp) => op.ctx.store.subscriptions.get(subscription.id)!;
  switch (subscription.status) {
    case 'trialing': {
      const reminder = trialWillEndAt(ctx, subscription);
      if (reminder !== null) at(reminder, 0, 'trial_will_end', (op) => sendTrialWillEndIfDue(op, fresh(op)));
      if (subscription.trial_end !== null) at(subscription.trial_end, 2, 'trial end', (op) => endTrial(op, fresh(op)));
      break;
    }
    case 'incomplete':
      at(subscription.created + billingSettings(ctx).incompleteExpirySeconds, 1, 'incomplete expiry', (op) => expireIncomplete(op, fresh(op)));
      break;
    case 'active':
    case 'past_due':
    case 'unpaid': {
      const periodEnd = currentPeriod(subscription).end;
      const due = subscription.cancel_at !== null ? Math.min(subscription.cancel_at, periodEnd) : periodEnd;
      at(due, 2, 'period end', (op) => renewSubscription(op, fresh(op)));
      break;
    }
  }
  return tasks;
}

function invoiceTasks(invoice: Stripe.Invoice): Task[] {
  if (invoice.status === 'draft' && invoice.auto_advance && invoice.automatically_finalizes_at !== null) {
    return [
      {
        at: invoice.automatically_finalizes_at,
        rank: 3,
        describe: `finalize ${invoice.id}`,
        run: (op) => {
          const draft = op.ctx.store.invoices.get(invoice.id);
          if (draft?.status === 'draft') finalizeAndCollect(op, draft, true);
        },
      },
    ];
  }
  if (invoice.status === 'open' && invoice.collection_method === 'charge_automatically' && invoice.auto_advance && invoice.next_payment_attempt !== null) {
    return [
      {
        at: invoice.next_payment_attempt,
        rank: 4,
        describe: `payment attempt ${invoice.id}`,
        run: (op) => {
          const open = op.ctx.store.invoices.get(invoice.id);
          if (open?.status === 'open') attemptInvoicePayment(op, { ...open, next_payment_attempt: null }, { offSession: true, automatic: true });
        },
      },
    ];
  }
  return [];
}

/** The earliest task due at or before `until` for the customers of `scope`. */
function nextTask(ctx: EmulatorContext, scope: Scope, until: number, skip: ReadonlySet<string>): Task | undefined {
  let best: Task | undefined;
  const consider = (task: Task) => {
    if (task.at > until || skip.has(task.describe)) return;
    if (!best || task.at < best.at || (task.at === best.at && task.rank < best.rank)) best = task;
  };
  for (const subscription of ctx.store.subscriptions.all()) {
    if (inScope(ctx, idOf(subscription.customer as string), scope)) subscriptionTasks(ctx, subscription).forEach(consider);
  }
  for (const invoice of ctx.store.invoices.all()) {
    if (inScope(ctx, idOf(invoice.customer as string), scope)) invoiceTasks(invoice).forEach(consider);
  }
  return best;
}

/** More steps than this in one run means a bug (a task that does not move its object on). */
const MAX_STEPS = 10_000;

/**
 * Runs every task due up to `until` (unix seconds) for `scope`, in time order, each at its own
 * time (`op.now` = when it was due; for a test clock, its `frozen_time` moves along with
 * `setTime`). A task that throws is logged and skipped for the rest of the run (an invoice's
 * automatic collection is switched off).
 */
export function runDueBilling(ctx: EmulatorContext, scope: Scope, until: number, options: { setTime?: (at: number) => void; log?: (line: string) => void } = {}): number {
  let steps = 0;
  const failed = new Set<string>();
  for (let task = nextTask(ctx, scope, until, failed); task; task = nextTask(ctx, scope, until, failed)) {
    if ((steps += 1) > MAX_STEPS) throw new Error(`billing: more than ${MAX_STEPS} steps up to ${until}; last: ${task.describe}`);
    options.setTime?.(task.at);
    const op: BillingOp = { ctx, request: NO_REQUEST, now: task.at };
    try {
      task.run(op);
    } catch (error) {
      options.log?.(`billing: ${task.describe} failed: ${error instanceof Error ? error.message : String(error)}`);
      failed.add(task.describe);
      stopInvoice(ctx, task);
    }
  }
  return steps;
}

/** Keeps a failing invoice task from running again (the invoice stops advancing automatically). */
function stopInvoice(ctx: EmulatorContext, task: Task): void {
  const invoice = ctx.store.invoices.get(task.describe.split(' ').at(-1) ?? '');
  if (invoice) ctx.store.invoices.put({ ...invoice, auto_advance: false, next_payment_attempt: null, automatically_finalizes_at: null });
}

/**
 * The real-time sweep: runs what is due for customers without a test clock, and pays invoices
 * whose PaymentIntent succeeded elsewhere (3-D Secure page, settled debits).
 */
export function sweepBilling(ctx: EmulatorContext, log?: (line: string) => void): void {
  reconcileInvoicePayments(ctx, (customer) => ({ ctx, request: NO_REQUEST, now: customerNow(ctx, customer) }));
  runDueBilling(ctx, 'realtime', nowSeconds(), { log });
}

import { SEATS_MAX } from '@tally/api/schemas';
import { useEffect, useId, useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { Dialog } from '../components/Dialog';
import { ErrorMessage } from '../components/ErrorMessage';
import { Loading } from '../components/Loading';
import { StatusBadge } from '../components/StatusBadge';
import { Day, isLive, SubscriptionDetails, type SubscriptionState, type SubscriptionView } from '../components/SubscriptionParts';
import { PORTAL_OPENED_KEY, usePortal } from '../components/usePortal';
import { formatDate, money, signedMoney } from '../lib/format';
import { trpc, type RouterOutputs } from '../trpc';
import { priceLabel } from './AdminPlansPage';

type Plan = RouterOutputs['plan']['list'][number];
type Interval = 'month' | 'year';

/** The interval a plan is billed at when `chosen` is selected: yearly only when it has a yearly price. */
const intervalFor = (plan: Plan, chosen: Interval): Interval => (chosen === 'year' && plan.yearlyPrice ? 'year' : 'month');
/** The plan's price at `interval` (the yearly one, or the monthly one). */
const priceFor = (plan: Plan, interval: Interval) => (interval === 'year' ? plan.yearlyPrice : plan.price);

const POLL_MS = 1_000;
/** After Checkout: how long the page polls for the webhook to mirror the new subscription. */
const CHECKOUT_WAIT_MS = 60_000;
/** After a change made here, or a return from the portal: how long the page polls for the mirror to follow. */
const CHANGE_WAIT_MS = 20_000;
/** A portal visit this recent counts as "just came back from it". */
const PORTAL_RETURN_MS = 30 * 60_000;
/** The page refreshes now and then (a renewal or a change made elsewhere shows up). */
const REFRESH_MS = 30_000;

/**
 * Poll `subscription.get` until `done` holds for its answer (or `until`). `shown` is what the
 * page displays meanwhile: Stripe's answer to a change made here (`override`), since the mirror
 * follows only when the webhook arrives.
 */
interface Wait {
  until: number;
  done: (state: SubscriptionState) => boolean;
  override?: SubscriptionView;
  /** Waiting for Checkout's subscription (the notice says so). */
  checkout?: boolean;
}

/** Checkout's subscription has reached the mirror. */
const subscribed = (s: SubscriptionState) => isLive(s.subscription) && s.subscription.status !== 'incomplete';

function portalJustVisited(): boolean {
  try {
    const at = Number(sessionStorage.getItem(PORTAL_OPENED_KEY));
    sessionStorage.removeItem(PORTAL_OPENED_KEY);
    return Number.isFinite(at) && at > 0 && Date.now() - at < PORTAL_RETURN_MS;
  } catch {
    return false;
  }
}

/**
 * The customer's *Plans & subscription* page (`/subscription`, where Stripe Checkout and the
 * portal return): the current subscription (plan, status, access, trial end, renewal or
 * cancellation date, seats) with Manage billing and Cancel / Resume, and the plan cards to
 * subscribe (Checkout) or change plan, seats or billing interval (previewed with the proration
 * first). A Monthly / Yearly toggle shows when some plan has a yearly price (default: monthly,
 * or yearly for a yearly subscriber); trials are offered only while `trialEligible`.
 */
export function SubscriptionPage() {
  const [params, setParams] = useSearchParams();
  const checkout = params.get('checkout');
  const [wait, setWait] = useState<Wait | null>(() => {
    const now = Date.now();
    if (checkout === 'success') return { until: now + CHECKOUT_WAIT_MS, done: subscribed, checkout: true };
    if (portalJustVisited()) return { until: now + CHANGE_WAIT_MS / 2, done: () => false };
    return null;
  });
  const [now, setNow] = useState(() => Date.now());
  const state = trpc.subscription.get.useQuery(undefined, {
    refetchInterval: (q) => (wait && Date.now() < wait.until && !(q.state.data && wait.done(q.state.data)) ? POLL_MS : REFRESH_MS),
  });
  // Time moves on with each answer too (no render without one, or the timer below).
  const waiting = (data: SubscriptionState | undefined) => !!wait && Math.max(now, state.dataUpdatedAt) < wait.until && !(data && wait.done(data));
  const plans = trpc.plan.list.useQuery();
  // Re-render when the wait times out (the messages change).
  useEffect(() => {
    if (!wait) return;
    const timer = setTimeout(() => setNow(Date.now()), Math.max(0, wait.until - Date.now()) + 50);
    return () => clearTimeout(timer);
  }, [wait]);

  const stillWaiting = waiting(state.data);
  const checkoutWaiting = stillWaiting && !!wait?.checkout;
  const data: SubscriptionState | undefined =
    state.data && stillWaiting && wait?.override ? { ...state.data, subscription: wait.override } : state.data;
  const sub = data?.subscription ?? null;
  const live = isLive(sub) ? sub : null;
  const [notice, setNotice] = useState<string | null>(null);
  const expect = (done: Wait['done'], override?: SubscriptionView, message?: string) => {
    setWait({ until: Date.now() + CHANGE_WAIT_MS, done, ...(override ? { override } : {}) });
    setNotice(message ?? null);
    // The Checkout notice has served its purpose once the customer acts on the subscription.
    if (checkout) setParams({}, { replace: true });
  };
  const dismiss = () => setParams({}, { replace: true });
  const [chosenInterval, setChosenInterval] = useState<Interval | null>(null);
  const interval: Interval = chosenInterval ?? (live?.interval === 'year' ? 'year' : 'month');
  const hasYearly = !!plans.data?.some((p) => p.yearlyPrice);
  const trialEligible = data?.trialEligible ?? false;

  return (
    <main className="page">
      <div className="page-head">
        <h1 className="page-title">Plans &amp; subscription</h1>
        <p className="muted">Your plan, what it costs and when it renews. Payments, cards and invoices are handled securely by Stripe.</p>
      </div>

      {checkout === 'success' &&
        (live && !checkoutWaiting ? (
          <div className="alert alert-success" role="status" data-testid="checkout-notice">
            <div>
              <strong className="alert-title">You are subscribed to {live.plan?.name ?? 'your plan'}</strong>
              <span>
                {live.status === 'trialing' && live.trialEnd
                  ? `Your free trial runs until ${formatDate(live.trialEnd)}; the first payment is taken then.`
                  : 'Thank you: your payment was received.'}
              </span>
            </div>
            <button type="button" className="button button-small button-ghost" onClick={dismiss}>
              Dismiss
            </button>
          </div>
        ) : checkoutWaiting || state.isPending ? (
          <div className="alert alert-info" role="status" data-testid="checkout-notice">
            <div>
              <strong className="alert-title">Confirming your subscription…</strong>
              <span>Stripe is telling Tally about it. This usually takes a few seconds; this page updates by itself.</span>
            </div>
            <span className="spinner" aria-hidden="true" />
          </div>
        ) : (
          <div className="alert alert-info" role="status" data-testid="checkout-notice">
            <div>
              <strong className="alert-title">Your subscription is not confirmed yet</strong>
              <span>Stripe has not confirmed it so far. It appears here as soon as it does: reload this page in a minute.</span>
            </div>
            <button type="button" className="button button-small" onClick={() => void state.refetch()}>
              Check again
            </button>
          </div>
        ))}
      {checkout === 'cancelled' && (
        <div className="alert alert-info" role="status" data-testid="checkout-notice">
          <div>
            <strong className="alert-title">Checkout cancelled — you were not charged</strong>
            <span>You left Stripe Checkout before subscribing. Pick a plan whenever you are ready.</span>
          </div>
          <button type="button" className="button button-small button-ghost" onClick={dismiss}>
            Dismiss
          </button>
        </div>
      )}
      {notice && (
        <div className="alert alert-success" role="status" data-testid="change-notice">
          <span>{notice}</span>
          <button type="button" className="button button-small button-ghost" onClick={() => setNotice(null)}>
            Dismiss
          </button>
        </div>
      )}

      {state.isPending ? (
        <Loading label="Loading your subscription" />
      ) : state.isError ? (
        <ErrorMessage error={state.error} title="Could not load your subscription" onRetry={() => void state.refetch()} />
      ) : (
        data && sub && <CurrentSubscription state={data} onChanged={expect} />
      )}

      <section className="plans-section" aria-labelledby="plans-title">
        <div className="section-head">
          <h2 id="plans-title" className="card-title">
            {live ? 'Change plan' : 'Choose a plan'}
          </h2>
          {live &&
            (live.cancelAtPeriodEnd || live.cancelAt ? (
              <p className="muted small" data-testid="change-locked">
                Your subscription is scheduled to end, so there is no next invoice to change: resume it first to change the plan or seats.
              </p>
            ) : (
              <p className="muted small">Changes take effect now; Stripe prorates what you pay for the rest of the period. You see the amount before confirming.</p>
            ))}
        </div>
        {plans.isPending ? (
          <Loading label="Loading plans" />
        ) : plans.isError ? (
          <ErrorMessage error={plans.error} title="Could not load the plans" onRetry={() => void plans.refetch()} />
        ) : plans.data.length === 0 ? (
          <div className="card">
            <p className="muted">No plans are offered yet.</p>
          </div>
        ) : (
          <>
            {hasYearly && (
              <div role="group" aria-label="Billing interval" data-testid="interval-toggle" className="interval-toggle">
                {(['month', 'year'] as const).map((value) => (
                  <button key={value} type="button" className="preset" aria-pressed={interval === value} onClick={() => setChosenInterval(value)}>
                    {value === 'month' ? 'Monthly' : 'Yearly'}
                  </button>
                ))}
              </div>
            )}
            <div className="plan-grid">
              {plans.data.map((p) => (
                // Remounted when the subscription's plan or seats change, so the seats field starts from them.
                <PlanCard
                  key={`${p.id}:${live?.plan?.id ?? ''}:${live?.seats ?? ''}`}
                  plan={p}
                  interval={intervalFor(p, interval)}
                  yearlyChosen={interval === 'year'}
                  trialEligible={trialEligible}
                  current={live}
                  onChanged={expect}
                />
              ))}
            </div>
          </>
        )}
      </section>
    </main>
  );
}

/** The current subscription: its facts, Manage billing, Cancel (at period end) or Resume. */
function CurrentSubscription({ state, onChanged }: { state: SubscriptionState; onChanged: (done: Wait['done'], override?: SubscriptionView, message?: string) => void }) {
  const sub = state.subscription!;
  const portal = usePortal();
  const [confirmCancel, setConfirmCancel] = useState(false);
  const utils = trpc.useUtils();
  const resume = trpc.subscription.resume.useMutation({
    onSuccess: (view) => {
      onChanged((s) => s.subscription?.cancelAtPeriodEnd === false, view, `Your subscription continues: it renews on ${formatDate(view.currentPeriodEnd)}.`);
      void utils.subscription.get.invalidate();
    },
  });
  const live = isLive(sub);
  const scheduled = live && (sub.cancelAtPeriodEnd || !!sub.cancelAt);
  return (
    <section className="card" aria-labelledby="current-title" data-testid="current-subscription">
      <div className="card-header">
        <h2 id="current-title" className="card-title">
          Your subscription
        </h2>
        <div className="form-actions">
          <button type="button" className="button button-small" onClick={() => portal.open()} disabled={portal.isPending}>
            {portal.isPending ? 'Opening Stripe…' : 'Manage billing'}
          </button>
          {live &&
            (scheduled ? (
              <button type="button" className="button button-small button-primary" onClick={() => resume.mutate(undefined)} disabled={resume.isPending}>
                {resume.isPending ? 'Resuming…' : 'Resume subscription'}
              </button>
            ) : (
              <button type="button" className="button button-small button-ghost" onClick={() => setConfirmCancel(true)}>
                Cancel subscription
              </button>
            ))}
        </div>
      </div>
      <SubscriptionDetails state={state} />
      {!live && <p className="muted small">This subscription has ended. Choose a plan below to subscribe again.</p>}
      {live && sub.plan?.issuesLicenses && (
        <p className="small">
          Your plan includes license keys: <Link to="/licenses">see your licenses</Link>.
        </p>
      )}
      <p className="muted small">Manage billing opens Stripe: update your card, see receipts, cancel or resume.</p>
      {portal.error && <ErrorMessage error={portal.error} title="Could not open Stripe's billing portal" />}
      {resume.error && <ErrorMessage error={resume.error} title="Could not resume the subscription" />}
      {confirmCancel && (
        <CancelDialog
          sub={sub}
          onClose={() => setConfirmCancel(false)}
          onCanceled={(view) => {
            setConfirmCancel(false);
            onChanged((s) => s.subscription?.cancelAtPeriodEnd === true || !!s.subscription?.cancelAt, view, `Your subscription ends on ${formatDate(view.cancelAt ?? view.currentPeriodEnd)}. You can resume it until then.`);
            void utils.subscription.get.invalidate();
          }}
        />
      )}
    </section>
  );
}

function CancelDialog({ sub, onClose, onCanceled }: { sub: SubscriptionView; onClose: () => void; onCanceled: (view: SubscriptionView) => void }) {
  const cancel = trpc.subscription.cancel.useMutation({ onSuccess: onCanceled });
  return (
    <Dialog title="Cancel your subscription?" onClose={onClose}>
      <p>
        {sub.plan?.name ?? 'Your plan'} stays active until the end of the current period
        {sub.currentPeriodEnd && (
          <>
            , <Day value={sub.currentPeriodEnd} />
          </>
        )}
        , and is not renewed. You can resume it any time before then.
      </p>
      {cancel.error && <ErrorMessage error={cancel.error} title="Could not cancel" />}
      <div className="dialog-actions">
        <button type="button" className="button button-ghost" onClick={onClose}>
          Keep subscription
        </button>
        <button type="button" className="button button-danger" disabled={cancel.isPending} onClick={() => cancel.mutate({ atPeriodEnd: true })}>
          {cancel.isPending ? 'Cancelling…' : 'Cancel at period end'}
        </button>
      </div>
    </Dialog>
  );
}

function parseSeats(text: string): number | null {
  if (!/^\d{1,4}$/.test(text.trim())) return null;
  const n = Number(text);
  return n >= 1 && n <= SEATS_MAX ? n : null;
}

/**
 * One plan at `interval`: price from Stripe, features, trial (only when `trialEligible`);
 * Subscribe (Checkout), or change to it / its seats / its billing interval.
 */
function PlanCard({
  plan,
  interval,
  yearlyChosen,
  trialEligible,
  current,
  onChanged,
}: {
  plan: Plan;
  interval: Interval;
  /** Yearly is selected (a plan without a yearly price then says it bills monthly only). */
  yearlyChosen: boolean;
  trialEligible: boolean;
  current: SubscriptionView | null;
  onChanged: (done: Wait['done'], override?: SubscriptionView, message?: string) => void;
}) {
  const seatsId = useId();
  const onPlan = !!current && current.plan?.id === plan.id;
  /** On this plan at this interval (another interval of the same plan is a change). */
  const isCurrent = onPlan && (current.interval ?? 'month') === interval;
  const price = priceFor(plan, interval);
  const trial = plan.trialDays > 0 && !current && trialEligible ? plan.trialDays : 0;
  /** Stripe has no next invoice to change while a cancellation is scheduled (resume first). */
  const locked = !!current && (current.cancelAtPeriodEnd || !!current.cancelAt);
  const [seatsText, setSeatsText] = useState(String(isCurrent ? current.seats : plan.perSeat ? Math.max(1, current?.seats ?? 1) : 1));
  const [previewing, setPreviewing] = useState(false);
  const seats = plan.perSeat ? parseSeats(seatsText) : 1;
  const createCheckout = trpc.subscription.createCheckout.useMutation({ onSuccess: ({ url }) => window.location.assign(url) });
  const seatsChanged = isCurrent && plan.perSeat && seats !== null && seats !== current.seats;

  const total = price && seats ? money(price.unitAmountMinor * seats, price.currency) : null;
  return (
    <article className={`card plan-card${isCurrent ? ' plan-card-current' : ''}`} aria-labelledby={`${seatsId}-name`} data-testid={`plan-${plan.code}`}>
      <div className="plan-card-head">
        <h3 id={`${seatsId}-name`} className="plan-name">
          {plan.name}
        </h3>
        {isCurrent && <StatusBadge status="active" label="Current plan" />}
      </div>
      <p className="plan-price" data-testid="plan-price">
        {priceLabel(price, plan.perSeat)}
      </p>
      {yearlyChosen && !plan.yearlyPrice && <p className="muted small">Billed monthly only</p>}
      {plan.description && <p className="muted small">{plan.description}</p>}
      {(trial > 0 || plan.issuesLicenses) && (
        <div className="plan-tags">
          {trial > 0 && <span className="kind kind-accent">{trial}-day free trial</span>}
          {plan.issuesLicenses && <span className="kind">License keys, one per seat</span>}
        </div>
      )}
      {plan.features.length > 0 && (
        <ul className="feature-list">
          {plan.features.map((f) => (
            <li key={f}>{f}</li>
          ))}
        </ul>
      )}
      <div className="plan-card-actions">
        {plan.perSeat && (
          <div className="field seats-field">
            <label htmlFor={seatsId}>Seats</label>
            <input
              id={seatsId}
              type="number"
              inputMode="numeric"
              min={1}
              max={SEATS_MAX}
              step={1}
              value={seatsText}
              onChange={(e) => setSeatsText(e.target.value)}
              aria-invalid={seats === null}
              aria-describedby={`${seatsId}-hint`}
            />
          </div>
        )}
        {!current ? (
          <button
            type="button"
            className="button button-primary"
            aria-label={`Subscribe to ${plan.name}`}
            disabled={seats === null || !price || createCheckout.isPending || createCheckout.isSuccess}
            onClick={() => createCheckout.mutate({ plan: plan.code, interval, ...(plan.perSeat && seats ? { seats } : {}) })}
          >
            {createCheckout.isPending || createCheckout.isSuccess ? 'Opening Checkout…' : 'Subscribe'}
          </button>
        ) : isCurrent ? (
          plan.perSeat ? (
            <button type="button" className="button" disabled={!seatsChanged || locked} onClick={() => setPreviewing(true)} aria-label={`Change seats of ${plan.name}`}>
              Change seats
            </button>
          ) : (
            <p className="muted small plan-current-note">You are on this plan.</p>
          )
        ) : onPlan ? (
          <button type="button" className="button" disabled={seats === null || !price || locked} onClick={() => setPreviewing(true)} aria-label={`Switch ${plan.name} to ${interval === 'year' ? 'yearly' : 'monthly'} billing`}>
            Switch to {interval === 'year' ? 'yearly' : 'monthly'} billing
          </button>
        ) : (
          <button type="button" className="button" disabled={seats === null || !price || locked} onClick={() => setPreviewing(true)} aria-label={`Switch to ${plan.name}`}>
            Switch to {plan.name}
          </button>
        )}
      </div>
      <p id={`${seatsId}-hint`} className={seats === null ? 'field-error' : 'muted small'}>
        {seats === null
          ? `Seats are a whole number from 1 to ${SEATS_MAX}.`
          : plan.perSeat && total && price
            ? `${seats} seat${seats === 1 ? '' : 's'}: ${total} / ${price.interval}${trial > 0 ? `, after a ${trial}-day free trial` : ''}`
            : trial > 0
              ? `Nothing to pay for ${trial} days; cancel any time.`
              : '\u00a0'}
      </p>
      {createCheckout.error && <ErrorMessage error={createCheckout.error} title="Could not start Checkout" />}
      {previewing && current && seats !== null && (
        <ChangeDialog
          plan={plan}
          seats={seats}
          interval={interval}
          current={current}
          onClose={() => setPreviewing(false)}
          onChanged={(view) => {
            setPreviewing(false);
            onChanged(
              (s) => s.subscription?.plan?.id === (view.plan?.id ?? plan.id) && s.subscription?.seats === view.seats && s.subscription?.interval === view.interval,
              view,
              `You are now on ${view.plan?.name ?? plan.name}${plan.perSeat ? ` with ${view.seats} seat${view.seats === 1 ? '' : 's'}` : ''}${plan.yearlyPrice ? `, billed ${interval === 'year' ? 'yearly' : 'monthly'}` : ''}.`,
            );
          }}
        />
      )}
    </article>
  );
}

/** The proration preview (`subscription.previewChange`), then `subscription.changePlan` at the previewed proration date. */
function ChangeDialog({
  plan,
  seats,
  interval,
  current,
  onClose,
  onChanged,
}: {
  plan: Plan;
  seats: number;
  interval: Interval;
  current: SubscriptionView;
  onClose: () => void;
  onChanged: (view: SubscriptionView) => void;
}) {
  const input = { plan: plan.code, interval, ...(plan.perSeat ? { seats } : {}) };
  const preview = trpc.subscription.previewChange.useQuery(input, { retry: false, staleTime: 0, gcTime: 0, refetchOnWindowFocus: false });
  const utils = trpc.useUtils();
  const change = trpc.subscription.changePlan.useMutation({
    onSuccess: (view) => {
      void utils.subscription.get.invalidate();
      void utils.invoice.list.invalidate();
      void utils.license.list.invalidate();
      onChanged(view);
    },
  });
  const samePlan = current.plan?.id === plan.id;
  const intervalChange = samePlan && (current.interval ?? 'month') !== interval;
  const p = preview.data;
  const every = (i: Interval) => (i === 'year' ? 'yearly' : 'monthly');
  return (
    <Dialog
      title={intervalChange ? `Switch to ${every(interval)} billing?` : samePlan ? `Change to ${seats} seat${seats === 1 ? '' : 's'}?` : `Switch to ${plan.name}?`}
      onClose={onClose}
    >
      <p className="muted small">
        From {current.plan?.name ?? 'your plan'}
        {current.plan?.perSeat ? ` (${current.seats} seat${current.seats === 1 ? '' : 's'})` : ''} to {plan.name}
        {plan.perSeat ? ` (${seats} seat${seats === 1 ? '' : 's'})` : ''}: {priceLabel(priceFor(plan, interval), plan.perSeat)}.
      </p>
      {preview.isPending ? (
        <Loading label="Asking Stripe for the new amount" />
      ) : preview.isError ? (
        <ErrorMessage error={preview.error} title="Could not preview the change" onRetry={() => void preview.refetch()} />
      ) : (
        p && (
          <div className="preview" data-testid="change-preview">
            <div className="table-wrap">
              <table className="table">
                <caption className="sr-only">Your next invoice</caption>
                <tbody>
                  {p.lines.map((line, i) => (
                    <tr key={i}>
                      <td>
                        {line.description}
                        {line.proration && <div className="muted small">Prorated for the rest of this period</div>}
                      </td>
                      <td className="num amount">{line.amountMinor < 0 ? signedMoney(line.amountMinor, p.currency) : money(line.amountMinor, p.currency)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <p className="preview-total" data-testid="preview-amount">
              Next invoice{p.invoiceAt ? <> on {formatDate(p.invoiceAt)}</> : null}: <strong>{money(p.amountDueMinor, p.currency)}</strong>
            </p>
            {p.totalMinor < 0 && <p className="muted small">{money(-p.totalMinor, p.currency)} of unused time is credited to your Stripe balance for later invoices.</p>}
          </div>
        )
      )}
      {change.error && <ErrorMessage error={change.error} title="Could not change the plan" />}
      <div className="dialog-actions">
        <button type="button" className="button button-ghost" onClick={onClose}>
          Cancel
        </button>
        <button
          type="button"
          className="button button-primary"
          disabled={!p || change.isPending}
          onClick={() => p && change.mutate({ ...input, prorationDate: p.prorationDate })}
        >
          {change.isPending ? 'Changing…' : 'Confirm change'}
        </button>
      </div>
    </Dialog>
  );
}

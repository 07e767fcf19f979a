import express from 'express';
import type Stripe from 'stripe';
import type { Account, Accounts } from '../core/accounts';
import type { DeliveryAttempt, WebhookDispatcher } from '../webhooks/dispatcher';
import { html, page } from './html';

const RECENT = 100;

/** Query of `GET /_emulator/deliveries`: every filter is optional and they combine. */
interface DeliveryFilter {
  /** Only attempts for events of this account (`acct_...`). */
  account?: string;
  /** Only attempts for this event (`evt_...`). */
  event_id?: string;
  /** Only attempts to this endpoint: an API endpoint id (`we_...`) or an endpoint URL. */
  endpoint?: string;
  /** `succeeded` (2xx) or `failed` (anything else, network errors included). */
  status?: 'succeeded' | 'failed';
}

function readFilter(query: Record<string, unknown>): DeliveryFilter | string {
  const filter: DeliveryFilter = {};
  for (const [key, value] of Object.entries(query)) {
    if (typeof value !== 'string') return `Invalid ${key}: must be a string`;
    if (key === 'account') filter.account = value;
    else if (key === 'event_id') filter.event_id = value;
    else if (key === 'endpoint') filter.endpoint = value;
    else if (key === 'status') {
      if (value !== 'succeeded' && value !== 'failed') return 'Invalid status: must be one of succeeded or failed';
      filter.status = value;
    } else return `Received unknown parameter: ${key}`;
  }
  return filter;
}

const matches = (attempt: DeliveryAttempt, filter: DeliveryFilter) =>
  (filter.account === undefined || attempt.account === filter.account) &&
  (filter.event_id === undefined || attempt.eventId === filter.event_id) &&
  (filter.endpoint === undefined || attempt.endpointId === filter.endpoint || attempt.endpointUrl === filter.endpoint) &&
  (filter.status === undefined || attempt.ok === (filter.status === 'succeeded'));

/** When the next automatic attempt is due (ISO 8601), or `null`. */
function nextRetryAt(attempt: DeliveryAttempt): string | null {
  if (attempt.nextRetryInMs === null) return null;
  return new Date(Date.parse(attempt.timestamp) + attempt.durationMs + attempt.nextRetryInMs).toISOString();
}

/** An event's attempts grouped by endpoint (`we_...` id or URL), in first-attempt order. */
function byEndpoint(attempts: readonly DeliveryAttempt[]): Map<string, DeliveryAttempt[]> {
  const groups = new Map<string, DeliveryAttempt[]>();
  for (const attempt of attempts) {
    const key = attempt.endpointId ?? attempt.endpointUrl;
    groups.set(key, [...(groups.get(key) ?? []), attempt]);
  }
  return groups;
}

function eventRow(event: Stripe.Event, attempts: readonly DeliveryAttempt[]) {
  const groups = [...byEndpoint(attempts).entries()];
  return html`<tr id="${event.id}">
    <td>${new Date(event.created * 1000).toISOString()}</td>
    <td>${event.type}<div class="muted"><code>${event.id}</code></div></td>
    <td class="num">${event.pending_webhooks}</td>
    <td>${
      groups.length === 0
        ? html`<span class="muted">no deliveries</span>`
        : groups.map(([key, list]) => {
            const last = list.at(-1)!;
            const retry = nextRetryAt(last);
            return html`<div class="delivery">
              <code>${last.endpointId ? `${last.endpointId} ` : ''}${last.endpointUrl}</code>
              <div class="muted">${list.length} attempt${list.length === 1 ? '' : 's'}:
                ${list.map((attempt, index) => html`${index ? ', ' : ''}<span class="${attempt.ok ? 'ok' : 'bad'}">${attempt.status ?? attempt.error}${attempt.manual ? ' (resend)' : ''}</span>`)}
                ${retry ? html` · next retry ${retry}` : ''}
              </div>
              <form method="post" action="/_emulator/events/${event.id}/resend" class="inline"><input type="hidden" name="endpoint" value="${key}"><button type="submit" class="small">Resend</button></form>
            </div>`;
          })
    }</td>
  </tr>`;
}

/** The accounts, with their (masked) keys and a few counts, each linking to its dashboard. */
function accountsCard(accounts: readonly Account[], shown: Account) {
  return html`<h1>Accounts</h1>
    <table>
      <thead><tr><th>Account</th><th>Keys</th><th class="num">Customers</th><th class="num">Checkout Sessions</th><th class="num">Events</th><th class="num">Webhook endpoints</th></tr></thead>
      <tbody>${accounts.map(
        (account) =>
          html`<tr>
            <td>${account.id === shown.id ? html`<strong><code>${account.id}</code></strong>` : html`<a href="/_emulator?account=${account.id}"><code>${account.id}</code></a>`}${account.isDefault ? html` <span class="muted">default</span>` : ''}<div class="muted">${account.info.displayName}</div></td>
            <td>${[...account.maskedKeys].map((key, index) => html`${index ? html`<br>` : ''}<code>${key}</code>`)}</td>
            <td class="num">${account.store.customers.all().length}</td>
            <td class="num">${account.store.checkoutSessions.all().length}</td>
            <td class="num">${account.store.events.all().length}</td>
            <td class="num">${account.store.webhookEndpoints.all().length}</td>
          </tr>`,
      )}</tbody>
    </table>`;
}

/**
 * The emulator's own pages:
 * - `GET /_emulator` (optional `?account=acct_...`, default: the default account): the accounts
 *   (id, masked keys, counts); then, for the account shown, an HTML list of recent events with
 *   their deliveries per endpoint (attempts, status codes, next retry) and a Resend button per
 *   endpoint; configured and API endpoints; meter events Stripe would have reported as errors.
 * - `GET /_emulator/deliveries`: every attempt (all accounts) as JSON, oldest first; filters
 *   `account`, `event_id`, `endpoint` (`we_...` id or URL), `status=succeeded|failed`.
 * - `POST /_emulator/events/:id/resend` (optional form/query `endpoint`): delivers the event (of
 *   whichever account) once more, like the Dashboard's "Resend"; answers `202 {"scheduled": n}`
 *   or, from the HTML form, a redirect back to the dashboard.
 * - `GET /_emulator/meter_event_errors` (optional `?account=`): accepted meter events that count
 *   towards no meter, with Stripe's error report code (`no_meter`, `meter_event_customer_not_found`,
 *   ...), oldest first.
 */
export function dashboard(accounts: Accounts, webhooks: WebhookDispatcher): express.Router {
  const router = express.Router();
  /** The account of `?account=` (default: the default account), or `undefined` for an unknown one. */
  const selected = (query: Record<string, unknown>): Account | undefined => {
    if (query.account === undefined || query.account === '') return accounts.default;
    return typeof query.account === 'string' ? accounts.get(query.account) : undefined;
  };
  const unknownAccount = (res: express.Response, query: Record<string, unknown>) =>
    res.status(404).json({ error: { type: 'invalid_request_error', code: 'resource_missing', message: `No such account: '${String(query.account)}'` } });

  router.get('/deliveries', (req, res) => {
    const filter = readFilter(req.query as Record<string, unknown>);
    if (typeof filter === 'string') {
      res.status(400).json({ error: { type: 'invalid_request_error', message: filter } });
      return;
    }
    res.json(webhooks.attempts().filter((attempt) => matches(attempt, filter)));
  });

  router.get('/meter_event_errors', (req, res) => {
    const account = selected(req.query);
    if (!account) return unknownAccount(res, req.query);
    res.json(
      account.store.meterEvents
        .all()
        .filter((record) => record.error !== null)
        .map((record) => ({ ...record.error, event: record.event })),
    );
  });

  router.post('/events/:id/resend', express.urlencoded({ extended: false, limit: '10kb' }), (req, res) => {
    const owner = accounts.find((ctx) => ctx.store.events.get(req.params.id) !== undefined);
    const event = owner?.store.events.get(req.params.id);
    if (!owner || !event) {
      res.status(404).json({ error: { type: 'invalid_request_error', code: 'resource_missing', message: `No such event: '${req.params.id}'` } });
      return;
    }
    const body = (req.body ?? {}) as Record<string, unknown>;
    const raw = body.endpoint ?? req.query.endpoint;
    const endpoint = typeof raw === 'string' && raw !== '' ? raw : undefined;
    const scheduled = webhooks.resend(event, endpoint, owner.id);
    // The dashboard's form (a browser: `Accept: text/html,...`) goes back to the page; API clients get JSON.
    if (req.is('application/x-www-form-urlencoded') && req.accepts(['json', 'html']) === 'html') {
      res.redirect(303, `/_emulator${owner.isDefault ? '' : `?account=${owner.id}`}#${event.id}`);
      return;
    }
    res.status(202).json({ scheduled });
  });

  router.get('/', (req, res) => {
    const account = selected(req.query);
    if (!account) return unknownAccount(res, req.query);
    const { store } = account;
    const configuredUrls = webhooks.configuredUrls(account.id);
    const events = store.events.newestFirst().slice(0, RECENT);
    const attempts = webhooks.attempts().filter((attempt) => attempt.account === account.id);
    const apiEndpoints = store.webhookEndpoints.all();
    const meterErrors = store.meterEvents
      .all()
      .filter((record) => record.error !== null)
      .slice(-20)
      .reverse();
    const body = html`<style>
      .ok { color: #0a7f3f; } .bad { color: var(--danger); }
      .delivery { margin-bottom: 6px; } form.inline { display: inline; }
      button.small { width: auto; margin: 2px 0 0; padding: 2px 10px; font-size: 12px; }
    </style>
    <div class="card">
      ${accountsCard(accounts.all(), account)}
      <h1 style="margin-top: 24px">Webhook endpoints <span class="muted">of ${account.id}</span></h1>
      <ul>
        ${configuredUrls.map((url) => html`<li><code>${url}</code> <span class="muted">configured, all events</span></li>`)}
        ${apiEndpoints.map(
          (endpoint) =>
            html`<li><code>${endpoint.id}</code> <code>${endpoint.url}</code> <span class="muted">${endpoint.status}; ${endpoint.enabled_events.join(', ')}</span></li>`,
        )}
      </ul>
      ${configuredUrls.length + apiEndpoints.length === 0 ? html`<p class="muted">None configured.</p>` : ''}
      <h1>Recent events <a class="muted" href="/_emulator/deliveries">(deliveries as JSON)</a></h1>
      <table>
        <thead><tr><th>Created</th><th>Event</th><th class="num">Pending</th><th>Deliveries per endpoint</th></tr></thead>
        <tbody>${events.map((event) => eventRow(event, attempts.filter((attempt) => attempt.eventId === event.id)))}</tbody>
      </table>
      ${
        meterErrors.length
          ? html`<h1 style="margin-top: 24px">Meter events counted nowhere <a class="muted" href="/_emulator/meter_event_errors">(JSON)</a></h1>
            <table>
              <thead><tr><th>Received</th><th>Event name</th><th>Identifier</th><th>Error</th></tr></thead>
              <tbody>${meterErrors.map(
                (record) =>
                  html`<tr><td>${new Date(record.event.created * 1000).toISOString()}</td><td>${record.event.event_name}</td><td><code>${record.event.identifier}</code></td><td><code>${record.error?.code}</code><div class="muted">${record.error?.message}</div></td></tr>`,
              )}</tbody>
            </table>`
          : ''
      }
    </div>`;
    res.set('Cache-Control', 'no-store').type('html').send(page('Dashboard', body));
  });

  return router;
}

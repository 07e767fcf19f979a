import express from 'express';
import type Stripe from 'stripe';
import type { Store } from '../core/store';
import type { DeliveryAttempt, WebhookDispatcher } from '../webhooks/dispatcher';
import { html, page } from './html';

const RECENT = 100;

/** Query of `GET /_emulator/deliveries`: every filter is optional and they combine. */
interface DeliveryFilter {
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
    if (key === 'event_id') filter.event_id = value;
    else if (key === 'endpoint') filter.endpoint = value;
    else if (key === 'status') {
      if (value !== 'succeeded' && value !== 'failed') return 'Invalid status: must be one of succeeded or failed';
      filter.status = value;
    } else return `Received unknown parameter: ${key}`;
  }
  return filter;
}

const matches = (attempt: DeliveryAttempt, filter: DeliveryFilter) =>
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

/**
 * The emulator's own pages:
 * - `GET /_emulator`: HTML list of recent events with their deliveries per endpoint (attempts,
 *   status codes, next retry) and a Resend button per endpoint; configured and API endpoints;
 *   meter events Stripe would have reported as errors.
 * - `GET /_emulator/deliveries`: every attempt as JSON, oldest first; filters `event_id`,
 *   `endpoint` (`we_...` id or URL), `status=succeeded|failed`.
 * - `POST /_emulator/events/:id/resend` (optional form/query `endpoint`): delivers the event once
 *   more, like the Dashboard's "Resend"; answers `202 {"scheduled": n}` or, from the HTML form, a
 *   redirect back to the dashboard.
 * - `GET /_emulator/meter_event_errors`: accepted meter events that count towards no meter, with
 *   Stripe's error report code (`no_meter`, `meter_event_customer_not_found`, ...), oldest first.
 */
export function dashboard(store: Store, webhooks: WebhookDispatcher): express.Router {
  const router = express.Router();

  router.get('/deliveries', (req, res) => {
    const filter = readFilter(req.query as Record<string, unknown>);
    if (typeof filter === 'string') {
      res.status(400).json({ error: { type: 'invalid_request_error', message: filter } });
      return;
    }
    res.json(webhooks.attempts().filter((attempt) => matches(attempt, filter)));
  });

  router.get('/meter_event_errors', (_req, res) => {
    res.json(
      store.meterEvents
        .all()
        .filter((record) => record.error !== null)
        .map((record) => ({ ...record.error, event: record.event })),
    );
  });

  router.post('/events/:id/resend', express.urlencoded({ extended: false, limit: '10kb' }), (req, res) => {
    const event = store.events.get(req.params.id);
    if (!event) {
      res.status(404).json({ error: { type: 'invalid_request_error', code: 'resource_missing', message: `No such event: '${req.params.id}'` } });
      return;
    }
    const body = (req.body ?? {}) as Record<string, unknown>;
    const raw = body.endpoint ?? req.query.endpoint;
    const endpoint = typeof raw === 'string' && raw !== '' ? raw : undefined;
    const scheduled = webhooks.resend(event, endpoint);
    // The dashboard's form (a browser: `Accept: text/html,...`) goes back to the page; API clients get JSON.
    if (req.is('application/x-www-form-urlencoded') && req.accepts(['json', 'html']) === 'html') {
      res.redirect(303, `/_emulator#${event.id}`);
      return;
    }
    res.status(202).json({ scheduled });
  });

  router.get('/', (_req, res) => {
    const events = store.events.newestFirst().slice(0, RECENT);
    const attempts = webhooks.attempts();
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
      <h1>Webhook endpoints</h1>
      <ul>
        ${webhooks.endpointUrls.map((url) => html`<li><code>${url}</code> <span class="muted">configured, all events</span></li>`)}
        ${apiEndpoints.map(
          (endpoint) =>
            html`<li><code>${endpoint.id}</code> <code>${endpoint.url}</code> <span class="muted">${endpoint.status}; ${endpoint.enabled_events.join(', ')}</span></li>`,
        )}
      </ul>
      ${webhooks.endpointUrls.length + apiEndpoints.length === 0 ? html`<p class="muted">None configured.</p>` : ''}
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

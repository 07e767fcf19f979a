import express from 'express';
import type { Store } from '../core/store';
import type { WebhookDispatcher } from '../webhooks/dispatcher';
import { html, page } from './html';

const RECENT = 100;

/**
 * The emulator's own pages: `GET /_emulator` (HTML list of recent events and webhook delivery
 * attempts) and `GET /_emulator/deliveries` (every attempt as JSON, oldest first).
 */
export function dashboard(store: Store, webhooks: WebhookDispatcher): express.Router {
  const router = express.Router();

  router.get('/deliveries', (_req, res) => {
    res.json(webhooks.attempts());
  });

  router.get('/', (_req, res) => {
    const events = store.events.newestFirst().slice(0, RECENT);
    const attempts = webhooks.attempts().reverse().slice(0, RECENT);
    const body = html`<div class="card">
      <h1>Webhook endpoints</h1>
      ${webhooks.endpointUrls.length ? html`<ul>${webhooks.endpointUrls.map((url) => html`<li><code>${url}</code></li>`)}</ul>` : html`<p class="muted">None configured.</p>`}
      <h1>Recent events</h1>
      <table>
        <thead><tr><th>Created</th><th>Type</th><th>Id</th><th class="num">Pending webhooks</th></tr></thead>
        <tbody>${events.map((event) => html`<tr><td>${new Date(event.created * 1000).toISOString()}</td><td>${event.type}</td><td><code>${event.id}</code></td><td class="num">${event.pending_webhooks}</td></tr>`)}</tbody>
      </table>
      <h1 style="margin-top: 24px">Recent deliveries <a class="muted" href="/_emulator/deliveries">(JSON)</a></h1>
      <table>
        <thead><tr><th>Time</th><th>Event</th><th>Endpoint</th><th class="num">Attempt</th><th>Result</th><th class="num">Duration</th></tr></thead>
        <tbody>${attempts.map(
          (attempt) => html`<tr>
            <td>${attempt.timestamp}</td>
            <td>${attempt.eventType}<div class="muted"><code>${attempt.eventId}</code></div></td>
            <td><code>${attempt.endpointUrl}</code></td>
            <td class="num">${attempt.attempt}</td>
            <td>${attempt.status ?? attempt.error}${attempt.nextRetryInMs !== null ? html`<div class="muted">retry in ${attempt.nextRetryInMs} ms</div>` : ''}</td>
            <td class="num">${attempt.durationMs} ms</td>
          </tr>`,
        )}</tbody>
      </table>
    </div>`;
    res.set('Cache-Control', 'no-store').type('html').send(page('Dashboard', body));
  });

  return router;
}

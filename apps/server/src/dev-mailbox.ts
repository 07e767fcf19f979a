/**
 * `GET /api/dev/mailbox`: the newest outbox emails of every workspace, with their bodies and
 * clickable links, as one HTML page (no script). Development only: app.ts mounts it only when
 * `config.environment` is `development`, because bodies hold sign-in and reset links.
 */
import { listRecentEmails } from '@tally/api';
import type { Database } from '@tally/db';
import type { RequestHandler } from 'express';

/** Most emails shown, newest first. */
export const DEV_MAILBOX_LIMIT = 50;

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Escape plain text for HTML and turn http(s) URLs into links. */
function linkify(text: string): string {
  return text
    .split(/(https?:\/\/[^\s<>"']+)/g)
    .map((part, i) => (i % 2 === 1 ? `<a href="${escapeHtml(part)}">${escapeHtml(part)}</a>` : escapeHtml(part)))
    .join('');
}

export function devMailboxHandler(db: Database): RequestHandler {
  return async (_req, res, next) => {
    try {
      const emails = await listRecentEmails({ db, limit: DEV_MAILBOX_LIMIT });
      const items = emails
        .map(
          (e) => `<article>
  <h2>${escapeHtml(e.subject)}</h2>
  <p class="meta">To <b>${escapeHtml(e.toAddress)}</b> · ${escapeHtml(e.kind)} · <span class="status">${escapeHtml(e.status)}</span> · ${escapeHtml(e.createdAt.toISOString())}${e.lastError ? ` · <span class="error">${escapeHtml(e.lastError)}</span>` : ''}</p>
  <pre>${linkify(e.textBody)}</pre>
</article>`,
        )
        .join('\n');
      // Own policy: no script at all, inline style only (this page is not the SPA).
      res.setHeader('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; form-action 'none'");
      res.setHeader('Cache-Control', 'no-store');
      res.type('html').send(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Tally dev mailbox</title>
<style>
body{font:14px/1.5 system-ui,sans-serif;max-width:56rem;margin:2rem auto;padding:0 1rem;color:#1b1f24}
article{border:1px solid #d0d7de;border-radius:8px;padding:1rem;margin:1rem 0}
h1{font-size:1.4rem}h2{font-size:1.05rem;margin:0}.meta{color:#57606a;margin:.25rem 0 .5rem}
pre{white-space:pre-wrap;word-break:break-word;background:#f6f8fa;padding:.75rem;border-radius:6px;margin:0}
.error{color:#cf222e}.status{font-weight:600}
</style></head><body>
<h1>Development mailbox</h1>
<p class="meta">The newest ${DEV_MAILBOX_LIMIT} emails in the outbox (development only; production never shows bodies). <a href="">Refresh</a></p>
${items || '<p>No emails yet.</p>'}
</body></html>`);
    } catch (err) {
      next(err);
    }
  };
}

import { enqueueEmail, recordingLogger } from '@tally/api';
import { eq } from '@tally/db';
import { testDialects, type TestDatabase } from '@tally/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMailTransport, MAIL_NOT_CONFIGURED_WARNING, startMailer } from '../src/mail';
import { startServer } from './harness';
import { startSmtpServer, waitFor } from './smtp';

const mail = (smtpUrl: string | null) => ({ smtpUrl, from: 'Tally <no-reply@tally.test>' });

describe.each(testDialects)('mail transport by environment ($name)', ({ create }) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await create();
  });
  afterAll(async () => {
    await db.destroy();
  });
  const row = async (id: string) => (await db.q.select().from(db.t.emailOutbox).where(eq(db.t.emailOutbox.id, id)))[0]!;
  const enqueue = async (label: string) =>
    (await enqueueEmail(db, { kind: 'reset_password', to: `${label}@example.test`, subject: `Reset ${label}`, text: `Reset: https://tally.test/reset/${label}-token` })).id!;

  it('production without SMTP_URL: no transport, a one-time warning, and mail stays pending', async () => {
    expect(createMailTransport({ nodeEnv: 'production', mail: mail(null) })).toBeNull();
    const logger = recordingLogger();
    const mailer = startMailer({ db, config: { nodeEnv: 'production', mail: mail(null) }, logger });
    expect(mailer.warning).toBe(MAIL_NOT_CONFIGURED_WARNING);
    expect(mailer.warning).toContain('SMTP_URL is not set');
    const id = await enqueue('prod');
    await new Promise((r) => setTimeout(r, 300));
    expect(await row(id)).toMatchObject({ status: 'pending', attempts: 0, sentAt: null });
    await mailer.stop();
    expect(logger.records).toEqual([]);
  });

  it('development without SMTP_URL: each email is printed (to, subject, body) and marked sent', async () => {
    const printed: string[] = [];
    const config = { nodeEnv: 'development' as const, mail: mail(null) };
    const logger = recordingLogger();
    const mailer = startMailer({ db, config, logger, transport: createMailTransport(config, (t) => printed.push(t)) });
    try {
      expect(mailer.warning).toBeNull();
      const id = await enqueue('dev');
      await waitFor(async () => (await row(id)).status === 'sent', 10_000, 'the email to be marked sent');
      const out = printed.join('\n');
      expect(out).toContain('dev@example.test');
      expect(out).toContain('Reset dev');
      expect(out).toContain('https://tally.test/reset/dev-token');
      // The logger (which production ships) gets ids only.
      expect(JSON.stringify(logger.records)).not.toContain('dev-token');
    } finally {
      await mailer.stop();
    }
  });

  it('SMTP_URL set (any environment): SMTP', async () => {
    const smtp = await startSmtpServer();
    const config = { nodeEnv: 'production' as const, mail: mail(smtp.url) };
    const mailer = startMailer({ db, config, logger: recordingLogger() });
    try {
      expect(mailer.transport?.name).toBe('smtp');
      const id = await enqueue('smtp');
      await waitFor(async () => (await row(id)).status === 'sent', 10_000, 'the email to be sent');
      expect(smtp.received.map((m) => m.subject)).toEqual(['Reset smtp']);
    } finally {
      await mailer.stop();
      await smtp.close();
    }
  });

  it('GET /api/dev/mailbox lists emails with bodies and clickable links in development, and is 404 otherwise', async () => {
    await enqueue('mailbox');
    await enqueueEmail(db, { kind: 'verify_email', to: 'x@example.test', subject: '<script>alert(1)</script>', text: 'see https://tally.test/a?b=1&c=<2>' });
    const dev = await startServer(db, { config: { environment: 'development' } });
    try {
      const res = await fetch(`${dev.url}/api/dev/mailbox`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/text\/html/);
      const html = await res.text();
      expect(html).toContain('Reset mailbox');
      expect(html).toContain('<a href="https://tally.test/reset/mailbox-token">https://tally.test/reset/mailbox-token</a>');
      expect(html).not.toContain('<script>'); // subjects and bodies are escaped
      expect(html).toContain('&#60;script&#62;');
      expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    } finally {
      await dev.close();
    }
    for (const environment of ['production', 'test'] as const) {
      const other = await startServer(db, { config: { environment } });
      try {
        const res = await fetch(`${other.url}/api/dev/mailbox`);
        expect(res.status).toBe(404);
        expect(await res.text()).not.toContain('mailbox-token');
      } finally {
        await other.close();
      }
    }
  });
});

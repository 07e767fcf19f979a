import { enqueueEmail, recordingLogger, sendPendingEmails, smtpTransport, startEmailWorker, type OutboxPolicy } from '@tally/api';
import { eq } from '@tally/db';
import { testDialects, type TestDatabase } from '@tally/db/testing';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { closedPort, startSmtpServer, waitFor, type TestSmtpServer } from './smtp';

const FROM = 'Tally Tests <no-reply@tally.test>';
/** Short, so recovery happens within the test; shapes are what is asserted, not times. */
const POLICY: OutboxPolicy = { maxAttempts: 4, baseDelayMs: 1_000, maxDelayMs: 60_000, leaseMs: 30_000 };

describe.each(testDialects)('email outbox worker over real SMTP ($name)', ({ create }) => {
  let db: TestDatabase;
  let smtp: TestSmtpServer;
  beforeAll(async () => {
    db = await create();
  });
  afterAll(async () => {
    await db.destroy();
  });
  beforeEach(async () => {
    smtp = await startSmtpServer();
    await db.q.delete(db.t.emailOutbox);
  });
  afterEach(async () => {
    await smtp.close();
  });

  const row = async (id: string) => (await db.q.select().from(db.t.emailOutbox).where(eq(db.t.emailOutbox.id, id)))[0]!;
  const enqueue = async (n: number, extra: { text?: string; to?: string } = {}) => {
    const { id } = await enqueueEmail(db, {
      kind: 'verify_email',
      to: extra.to ?? `user${n}@example.test`,
      subject: `Verify your email #${n}`,
      text: extra.text ?? `Open https://tally.test/verify?token=secret-token-${n} to verify.`,
    });
    return id!;
  };

  it('an enqueued email arrives once with its recipient, subject and body, and the row is sent', async () => {
    const logger = recordingLogger();
    const transport = smtpTransport(smtp.url);
    const worker = startEmailWorker({ db, transport, from: FROM, logger, policy: POLICY, pollMs: 60_000 });
    try {
      const id = await enqueue(1); // enqueueEmail wakes the worker: no poll needed
      await waitFor(async () => (await row(id)).status === 'sent', 15_000, 'the email to be sent');
      expect(smtp.received).toHaveLength(1);
      const [mail] = smtp.received;
      expect(mail!.to && !Array.isArray(mail!.to) ? mail!.to.value.map((a) => a.address) : mail!.to).toEqual(['user1@example.test']);
      expect(mail!.from?.value).toEqual([{ name: 'Tally Tests', address: 'no-reply@tally.test' }]);
      expect(mail!.subject).toBe('Verify your email #1');
      expect(mail!.text?.trim()).toBe('Open https://tally.test/verify?token=secret-token-1 to verify.');
      const sent = await row(id);
      expect(sent).toMatchObject({ status: 'sent', attempts: 1, lastError: null, lockedUntil: null });
      expect(sent.sentAt).toBeInstanceOf(Date);
      expect(sent.messageId).toBe(mail!.messageId);
      // Later passes do not send it again.
      worker.kick();
      await new Promise((r) => setTimeout(r, 200));
      expect(smtp.received).toHaveLength(1);
      expect(JSON.stringify(logger.records)).not.toContain('secret-token');
      expect(JSON.stringify(logger.records)).not.toContain('user1@example.test');
    } finally {
      await worker.stop();
      await transport.close();
    }
  });

  it('two workers on two connections deliver each of 20 emails exactly once', async () => {
    const ids: string[] = [];
    for (let n = 0; n < 20; n++) ids.push(await enqueue(n));
    const other = await db.connectAgain();
    const transports = [smtpTransport(smtp.url), smtpTransport(smtp.url)];
    // Small batches, so both workers keep selecting overlapping candidates and racing to claim.
    const workers = [
      startEmailWorker({ db, transport: transports[0]!, from: FROM, logger: recordingLogger(), policy: POLICY, batchSize: 20 }),
      startEmailWorker({ db: other, transport: transports[1]!, from: FROM, logger: recordingLogger(), policy: POLICY, batchSize: 20 }),
    ];
    try {
      await waitFor(async () => (await db.q.select().from(db.t.emailOutbox).where(eq(db.t.emailOutbox.status, 'sent'))).length === 20, 30_000, '20 sent rows');
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
      await Promise.all(transports.map((t) => t.close()));
    }
    const subjects = smtp.received.map((m) => m.subject);
    expect(subjects).toHaveLength(20);
    expect(new Set(subjects).size).toBe(20);
    const rows = await db.q.select().from(db.t.emailOutbox);
    expect(rows.every((r) => r.attempts === 1 && r.status === 'sent')).toBe(true);
  });

  it('two passes racing on two connections never claim the same row', async () => {
    for (let n = 0; n < 20; n++) await enqueue(n);
    const other = await db.connectAgain();
    const transports = [smtpTransport(smtp.url), smtpTransport(smtp.url)];
    try {
      // Both passes select the same 20 candidates before either has claimed one.
      const [a, b] = await Promise.all([
        sendPendingEmails({ db, transport: transports[0]!, from: FROM, logger: recordingLogger(), policy: POLICY }),
        sendPendingEmails({ db: other, transport: transports[1]!, from: FROM, logger: recordingLogger(), policy: POLICY }),
      ]);
      expect(a.claimed + b.claimed).toBe(20);
      expect(a.sent + b.sent).toBe(20);
    } finally {
      await Promise.all(transports.map((t) => t.close()));
    }
    expect(new Set(smtp.received.map((m) => m.subject)).size).toBe(20);
    expect(smtp.received).toHaveLength(20);
  });

  it('a refusing SMTP server: retried with exponential backoff, attempts and lastError recorded, delivered once it recovers', async () => {
    const logger = recordingLogger();
    const transport = smtpTransport(smtp.url);
    const id = await enqueue(7, { to: 'refused@example.test' });
    smtp.refuse = { code: 451, message: 'Mailbox <refused@example.test> busy, try again later' };
    let clock = Date.now();
    const pass = () => sendPendingEmails({ db, transport, from: FROM, logger, policy: POLICY, now: () => new Date(clock) });
    try {
      expect(await pass()).toMatchObject({ claimed: 1, retrying: 1, sent: 0 });
      let r = await row(id);
      expect(r).toMatchObject({ status: 'pending', attempts: 1, lockedUntil: null });
      expect(r.lastError).toContain('try again later');
      expect(r.lastError).not.toContain('\n    at '); // the message, not a stack
      expect(r.nextAttemptAt.getTime()).toBe(clock + POLICY.baseDelayMs);

      // Not due yet: nothing is claimed.
      clock += POLICY.baseDelayMs - 1;
      expect(await pass()).toMatchObject({ claimed: 0 });

      clock += 1;
      expect(await pass()).toMatchObject({ claimed: 1, retrying: 1 });
      r = await row(id);
      expect(r).toMatchObject({ status: 'pending', attempts: 2 });
      expect(r.nextAttemptAt.getTime()).toBe(clock + 2 * POLICY.baseDelayMs); // doubled

      smtp.refuse = null;
      clock += 2 * POLICY.baseDelayMs;
      expect(await pass()).toMatchObject({ claimed: 1, sent: 1 });
      expect(await row(id)).toMatchObject({ status: 'sent', attempts: 3, lastError: null });
      expect(smtp.received.map((m) => m.subject)).toEqual(['Verify your email #7']);

      const logged = JSON.stringify(logger.records);
      expect(logger.records.filter((l) => l.level === 'warn' && l.message === 'email not sent: will retry')).toHaveLength(2);
      expect(logged).toContain('[address]');
      expect(logged).not.toContain('refused@example.test');
      expect(logged).not.toContain('secret-token');
      expect(logged).not.toContain('Verify your email');
    } finally {
      await transport.close();
    }
  });

  it('an unreachable SMTP server: each attempt is recorded, and the row is failed after maxAttempts', async () => {
    const transport = smtpTransport(`smtp://127.0.0.1:${await closedPort()}`);
    const logger = recordingLogger();
    const id = await enqueue(3);
    let clock = Date.now();
    const policy = { ...POLICY, maxAttempts: 2 };
    const pass = () => sendPendingEmails({ db, transport, from: FROM, logger, policy, now: () => new Date(clock) });
    try {
      expect(await pass()).toMatchObject({ claimed: 1, retrying: 1 });
      expect((await row(id)).lastError).toMatch(/ECONNREFUSED|connect/i);
      clock += POLICY.baseDelayMs;
      expect(await pass()).toMatchObject({ claimed: 1, failed: 1 });
      expect(await row(id)).toMatchObject({ status: 'failed', attempts: 2 });
      clock += 24 * 3600_000;
      expect(await pass()).toMatchObject({ claimed: 0 }); // failed is final
      expect(logger.records.some((l) => l.level === 'error' && l.fields.emailId === id)).toBe(true);
    } finally {
      await transport.close();
    }
  });

  it('a row left `sending` by a crashed worker is claimed again once its lease has passed, not before', async () => {
    const transport = smtpTransport(smtp.url);
    const id = await enqueue(5);
    const now = Date.now();
    // What a worker that died mid-send leaves behind.
    await db.q.update(db.t.emailOutbox).set({ status: 'sending', attempts: 1, lockedUntil: new Date(now + POLICY.leaseMs) }).where(eq(db.t.emailOutbox.id, id));
    const pass = (at: number) => sendPendingEmails({ db, transport, from: FROM, logger: recordingLogger(), policy: POLICY, now: () => new Date(at) });
    try {
      expect(await pass(now + POLICY.leaseMs - 1)).toMatchObject({ claimed: 0 });
      expect(smtp.received).toHaveLength(0);
      expect(await pass(now + POLICY.leaseMs + 1)).toMatchObject({ claimed: 1, sent: 1 });
      expect(await row(id)).toMatchObject({ status: 'sent', attempts: 2 });
      expect(smtp.received).toHaveLength(1);
    } finally {
      await transport.close();
    }
  });

  it('stop() ends polling: mail enqueued afterwards stays pending', async () => {
    const transport = smtpTransport(smtp.url);
    const worker = startEmailWorker({ db, transport, from: FROM, logger: recordingLogger(), policy: POLICY, pollMs: 20 });
    await worker.stop();
    const id = await enqueue(9);
    await new Promise((r) => setTimeout(r, 150));
    expect(await row(id)).toMatchObject({ status: 'pending', attempts: 0 });
    expect(smtp.received).toHaveLength(0);
    await transport.close();
  });
});

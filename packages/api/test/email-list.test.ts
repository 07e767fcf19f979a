import { eq } from '@tally/db';
import { testDialects, type TestDatabase } from '@tally/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInnerContext, type Actor } from '../src/context';
import { enqueueEmail } from '../src/email/enqueue';
import { silentLogger } from '../src/logger';
import { appRouter } from '../src/router/index';
import type { ApiConfig } from '../src/services';
import { createCallerFactory } from '../src/trpc';
import { callerFor, countingStripe, seedTenants, testConfig, testStripeAccounts } from './helpers';

describe.each(testDialects)('admin.emails.list ($name)', ({ create }) => {
  let db: TestDatabase;
  let acme: Awaited<ReturnType<typeof seedTenants>>;
  let globex: Awaited<ReturnType<typeof seedTenants>>;
  const { stripe } = countingStripe();
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    db = await create();
    acme = await seedTenants(db);
    globex = await seedTenants(db);
    const put = async (key: string, email: Parameters<typeof enqueueEmail>[1]) => (ids[key] = (await enqueueEmail(db, email)).id!);
    // Account emails (no workspace) to users of acme: its admin and a customer member.
    await put('verifyAlice', { kind: 'verify_email', to: acme.alice.email, subject: 'Verify your email', text: 'https://tally.test/verify?token=alice-secret' });
    await put('resetAdmin', { kind: 'reset_password', to: acme.admin.email, subject: 'Reset your password', text: 'https://tally.test/reset/admin-secret' });
    // A workspace email of acme, and one of globex.
    await put('acmeReceipt', { kind: 'receipt', to: 'billing@acme.test', subject: 'Receipt', text: 'Thanks', workspaceId: acme.workspaceId });
    await put('globexReceipt', { kind: 'receipt', to: 'billing@globex.test', subject: 'Receipt', text: 'Thanks', workspaceId: globex.workspaceId });
    // Account emails to a globex user and to an address nobody has.
    await put('verifyGlobexBob', { kind: 'verify_email', to: globex.bob.email, subject: 'Verify your email', text: 'https://tally.test/verify?token=bob-secret' });
    await put('stranger', { kind: 'verify_email', to: 'nobody@example.test', subject: 'Verify your email', text: 'https://tally.test/verify?token=x' });
    await db.q.update(db.t.emailOutbox).set({ status: 'sent', sentAt: new Date(), attempts: 1 }).where(eq(db.t.emailOutbox.id, ids.acmeReceipt!));
    await db.q.update(db.t.emailOutbox).set({ status: 'failed', attempts: 8, lastError: '550 rejected' }).where(eq(db.t.emailOutbox.id, ids.resetAdmin!));
  });
  afterAll(async () => {
    await db.destroy();
  });

  const callerWith = (actor: Actor | null, config: ApiConfig) =>
    createCallerFactory(appRouter)(createInnerContext({ db, stripeAccounts: testStripeAccounts(stripe), config, logger: silentLogger, actor }));

  it("lists the workspace's emails and its users' account emails, newest first, with bodies outside production", async () => {
    const page = await callerFor(db, stripe, acme.admin).admin.emails.list({ limit: 20 });
    expect(page.items.map((e) => e.id)).toEqual([ids.acmeReceipt, ids.resetAdmin, ids.verifyAlice]);
    expect(page.nextCursor).toBeNull();
    expect(page.items[2]).toMatchObject({
      kind: 'verify_email',
      toAddress: acme.alice.email,
      subject: 'Verify your email',
      status: 'pending',
      attempts: 0,
      lastError: null,
      sentAt: null,
      textBody: 'https://tally.test/verify?token=alice-secret',
    });
    expect(page.items[2]!.createdAt).toBeInstanceOf(Date);
    expect(page.items[1]).toMatchObject({ status: 'failed', attempts: 8, lastError: '550 rejected' });
  });

  it("another workspace's admin sees none of them", async () => {
    const page = await callerFor(db, stripe, globex.admin).admin.emails.list({ limit: 20 });
    expect(page.items.map((e) => e.id)).toEqual([ids.verifyGlobexBob, ids.globexReceipt]);
  });

  it('textBody is null in production (a reset link would let an admin take over the account)', async () => {
    const page = await callerWith(acme.admin, { ...testConfig, environment: 'production' }).admin.emails.list({ limit: 20 });
    expect(page.items).toHaveLength(3);
    expect(page.items.map((e) => e.textBody)).toEqual([null, null, null]);
    expect(JSON.stringify(page)).not.toContain('secret');
    const dev = await callerWith(acme.admin, { ...testConfig, environment: 'development' }).admin.emails.list({ limit: 20 });
    expect(dev.items.map((e) => e.textBody)).toContain('https://tally.test/reset/admin-secret');
  });

  it('filters by status and pages with a cursor', async () => {
    const caller = callerFor(db, stripe, acme.admin);
    expect((await caller.admin.emails.list({ status: 'failed', limit: 20 })).items.map((e) => e.id)).toEqual([ids.resetAdmin]);
    expect((await caller.admin.emails.list({ status: 'sending', limit: 20 })).items).toEqual([]);
    const first = await caller.admin.emails.list({ limit: 2 });
    expect(first.items.map((e) => e.id)).toEqual([ids.acmeReceipt, ids.resetAdmin]);
    expect(first.nextCursor).toBe(ids.resetAdmin);
    const second = await caller.admin.emails.list({ limit: 2, cursor: first.nextCursor });
    expect(second.items.map((e) => e.id)).toEqual([ids.verifyAlice]);
    expect(second.nextCursor).toBeNull();
  });

  it('customers are FORBIDDEN, anonymous callers UNAUTHORIZED, and malformed input BAD_REQUEST', async () => {
    await expect(callerFor(db, stripe, acme.alice).admin.emails.list({ limit: 20 })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(callerFor(db, stripe, null).admin.emails.list({ limit: 20 })).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    const caller = callerFor(db, stripe, acme.admin);
    await expect(caller.admin.emails.list({ limit: 20, cursor: 'a\u0000b' })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(caller.admin.emails.list({ limit: 20, status: 'queued' as 'sent' })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(caller.admin.emails.list({ limit: 1000 })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  });
});

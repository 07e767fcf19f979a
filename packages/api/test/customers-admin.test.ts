import { and, eq } from '@tally/db';
import { testDialects, type TestDatabase } from '@tally/db/testing';
import { TRPCError } from '@trpc/server';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuth } from '../src/auth';
import { CLIENT_IP_HEADER } from '../src/auth/client-ip';
import { ensureUserProvisioned } from '../src/customers/ensure-user-provisioned';
import { newId } from '../src/ids';
import { postLedgerEntry } from '../src/ledger/credit';
import { callerFor, countingStripe, ORIGIN, seedTenants, testConfig } from './helpers';

const code = (e: unknown) => (e instanceof TRPCError ? e.code : `not a TRPCError: ${String(e)}`);
const fail = async (p: Promise<unknown>) => code(await p.then(() => 'resolved', (e: unknown) => e));

describe.each(testDialects)('admin customers ($name)', ({ create }) => {
  let db: TestDatabase;
  let acme: Awaited<ReturnType<typeof seedTenants>>;
  let globex: Awaited<ReturnType<typeof seedTenants>>;
  const { stripe } = countingStripe();
  const admin = () => callerFor(db, stripe, acme.admin);

  beforeAll(async () => {
    db = await create();
    acme = await seedTenants(db);
    globex = await seedTenants(db);
  });
  afterAll(() => db.destroy());

  const snapshot = async () => ({
    customers: (await db.q.select().from(db.t.customers)).length,
    audit: (await db.q.select().from(db.t.auditLog)).length,
    invitations: (await db.q.select().from(db.t.invitations)).length,
    memberships: (await db.q.select().from(db.t.customerMemberships)).length,
    emails: (await db.q.select().from(db.t.emailOutbox)).length,
  });
  const newUser = async (label: string, { verified = true, email }: { verified?: boolean; email?: string } = {}) => {
    const user = { id: newId(), email: email ?? `${label}-${newId()}@example.test`, name: label, emailVerified: verified };
    await db.q.insert(db.t.users).values(user);
    return user;
  };
  const addRecord = (workspaceId: string, customerId: string, status: 'DUE' | 'PAID' | 'VOID') =>
    db.q.insert(db.t.billingRecords).values({
      id: newId(),
      workspaceId,
      customerId,
      description: `record ${status}`,
      amountMinor: 1_000,
      currency: 'usd',
      dueDate: '2030-01-01',
      status,
      payToken: randomUUID(),
    });
  const post = (workspaceId: string, customerId: string, amountMinor: number, currency = 'usd') =>
    db.transaction((tx) =>
      postLedgerEntry(tx, db.t, { workspaceId, customerId, currency, amountMinor, kind: 'topup', reference: `test:${newId()}`, description: 'test entry' }),
    );

  it('creates a customer without any membership (trimmed name, lowercased email) and audits it', async () => {
    const { id } = await admin().customers.create({ name: '  Zoë & Co  ', email: '  Billing@Zoe.TEST ' });
    const got = await admin().customers.get({ customerId: id });
    expect(got).toMatchObject({ id, name: 'Zoë & Co', email: 'billing@zoe.test', stripeCustomerId: null, members: [], pendingInvitations: [], balances: [{ currency: 'usd', amountMinor: 0 }] });
    expect(got.createdAt).toBeInstanceOf(Date);
    const [row] = await db.q.select().from(db.t.customers).where(eq(db.t.customers.id, id));
    expect(row).toMatchObject({ workspaceId: acme.workspaceId, name: 'Zoë & Co', email: 'billing@zoe.test' });
    const audit = await db.q.select().from(db.t.auditLog).where(eq(db.t.auditLog.targetId, id));
    expect(audit).toMatchObject([{ workspaceId: acme.workspaceId, action: 'customer.create', targetType: 'customer', actorUserId: acme.admin.userId, actorLabel: acme.admin.email, before: null }]);
    expect(JSON.parse(audit[0]!.after!)).toEqual({ name: 'Zoë & Co', email: 'billing@zoe.test' });
  });

  it('a billing email is optional: missing, null and blank all mean none', async () => {
    for (const input of [{ name: 'No email' }, { name: 'Null email', email: null }, { name: 'Blank email', email: '   ' }]) {
      const { id } = await admin().customers.create(input);
      expect((await admin().customers.get({ customerId: id })).email).toBeNull();
    }
  });

  it.each([
    ['an empty name', { name: '' }],
    ['a blank name', { name: '   ' }],
    ['a NUL in the name', { name: 'Ac\u0000me' }],
    ['a newline in the name', { name: 'Ac\nme' }],
    ['a 201-character name', { name: 'x'.repeat(201) }],
    ['a missing name', { email: 'a@b.test' }],
    ['a numeric name', { name: 42 }],
    ['a malformed email', { name: 'Acme', email: 'not an email' }],
    ['an email with a NUL', { name: 'Acme', email: 'a\u0000@b.test' }],
    ['a 256-character email', { name: 'Acme', email: `${'a'.repeat(246)}@b.test.io` }],
    ['a numeric email', { name: 'Acme', email: 5 }],
    ['no input at all', undefined],
  ])('refuses %s with BAD_REQUEST and stores nothing', async (_label, input) => {
    const before = await snapshot();
    expect(await fail(admin().customers.create(input as never))).toBe('BAD_REQUEST');
    expect(await snapshot()).toEqual(before);
  });

  it('accepts a 200-character name and a 254-character email', async () => {
    const email = `${'a'.repeat(64)}@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(58)}.io`;
    expect(email).toHaveLength(254);
    const { id } = await admin().customers.create({ name: 'n'.repeat(200), email });
    expect(await admin().customers.get({ customerId: id })).toMatchObject({ name: 'n'.repeat(200), email });
  });

  describe('search', () => {
    let names: Record<string, string>;
    let ws: Awaited<ReturnType<typeof seedTenants>>;
    beforeAll(async () => {
      ws = await seedTenants(db);
      const caller = callerFor(db, stripe, ws.admin);
      names = {};
      for (const [key, name, email] of [
        ['percent', '100% Pure', null],
        ['underscore', 'under_score Ltd', null],
        ['quotes', `O'Brien "Quotes"`, null],
        ['unicode', 'Zoë Café 東京', null],
        ['backslash', 'Back\\slash', null],
        ['plain', 'Plain Name', 'Ops@Globex.test'],
        ['lookalike', '1000 Purest', null],
      ] as const) {
        names[key] = (await caller.customers.create({ name, email })).id;
      }
      // Same name in another workspace: never listed here.
      await callerFor(db, stripe, acme.admin).customers.create({ name: '100% Pure' });
    });
    const search = async (text: string) => {
      const page = await callerFor(db, stripe, ws.admin).customers.list({ search: text, limit: 100 });
      return page.items.map((i) => Object.entries(names).find(([, id]) => id === i.id)?.[0] ?? i.name).sort();
    };

    it('matches a case-insensitive substring of the name or the email, with LIKE wildcards taken literally', async () => {
      expect(await search('%')).toEqual(['percent']);
      expect(await search('0% p')).toEqual(['percent']);
      expect(await search('_')).toEqual(['underscore']);
      expect(await search('r_s')).toEqual(['underscore']);
      expect(await search('\\')).toEqual(['backslash']);
      expect(await search("'")).toEqual(['quotes']);
      expect(await search('"quotes"')).toEqual(['quotes']);
      expect(await search('zoë')).toEqual(['unicode']);
      expect(await search('CAFé')).toEqual(['unicode']);
      expect(await search('東京')).toEqual(['unicode']);
      expect(await search('GLOBEX')).toEqual(['plain']);
      expect(await search('pure')).toEqual(['lookalike', 'percent']);
      expect(await search('nobody')).toEqual([]);
    });

    it('a blank search lists everything (the seeded customers too)', async () => {
      expect(await search('   ')).toHaveLength(9);
      expect((await callerFor(db, stripe, ws.admin).customers.list()).items).toHaveLength(9);
    });

    it.each([
      ['10 KB', 'x'.repeat(10_240)],
      ['101 characters', 'x'.repeat(101)],
      ['a NUL', 'a\u0000b'],
      ['a number', 5],
    ])('a search of %s is BAD_REQUEST', async (_label, text) => {
      expect(await fail(callerFor(db, stripe, ws.admin).customers.list({ search: text as never }))).toBe('BAD_REQUEST');
    });

    it('a malformed cursor or limit is BAD_REQUEST', async () => {
      const caller = callerFor(db, stripe, ws.admin);
      for (const input of [{ cursor: 'abc' }, { cursor: `1:${'x'.repeat(36)}` }, { cursor: `${Date.now()}:${newId()}\u0000` }, { limit: 0 }, { limit: 101 }, { limit: 1.5 }]) {
        expect(await fail(caller.customers.list(input as never))).toBe('BAD_REQUEST');
      }
    });
  });

  it('pages newest first by creation time, whatever the id order, without gaps or repeats', async () => {
    const ws = await seedTenants(db);
    const base = Date.now() - 100_000;
    const expected: string[] = [];
    // Random (v4) ids, like a self sign-up's v5 ids, are not time-ordered: the cursor must not rely on them.
    for (let i = 0; i < 7; i++) {
      const id = randomUUID();
      await db.q.insert(db.t.customers).values({ id, workspaceId: ws.workspaceId, name: `paged ${i}`, createdAt: new Date(base + (i < 3 ? 0 : i) * 1000) });
      expected.push(id);
    }
    const caller = callerFor(db, stripe, ws.admin);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: Awaited<ReturnType<typeof caller.customers.list>> = await caller.customers.list({ search: 'paged', limit: 3, cursor });
      seen.push(...page.items.map((i) => i.id));
      cursor = page.nextCursor;
      pages++;
    } while (cursor && pages < 10);
    expect(pages).toBe(3);
    expect(new Set(seen).size).toBe(7);
    expect(seen.slice(0, 4)).toEqual(expected.slice(3).reverse());
    expect(seen.slice(4).sort()).toEqual(expected.slice(0, 3).sort());
  });

  it('lists balances per currency (workspace currency first) and the count of DUE records', async () => {
    const { id } = await admin().customers.create({ name: 'Balances Inc' });
    await post(acme.workspaceId, id, 1_500);
    await post(acme.workspaceId, id, -200);
    await post(acme.workspaceId, id, 300, 'eur');
    await addRecord(acme.workspaceId, id, 'DUE');
    await addRecord(acme.workspaceId, id, 'DUE');
    await addRecord(acme.workspaceId, id, 'PAID');
    await addRecord(acme.workspaceId, id, 'VOID');
    const page = await admin().customers.list({ search: 'balances inc' });
    expect(page.items).toMatchObject([{ id, name: 'Balances Inc', balances: [{ currency: 'usd', amountMinor: 1_300 }, { currency: 'eur', amountMinor: 300 }], openRecordCount: 2 }]);
    expect((await admin().customers.get({ customerId: id })).balances).toEqual([{ currency: 'usd', amountMinor: 1_300 }, { currency: 'eur', amountMinor: 300 }]);
    const plain = await admin().customers.list({ search: acme.alice.email });
    expect(plain.items).toMatchObject([{ id: acme.alice.customerId, balances: [{ currency: 'usd', amountMinor: 0 }], openRecordCount: 0 }]);
  });

  it("pages a customer's ledger newest first, with the billing record link", async () => {
    const { id } = await admin().customers.create({ name: 'Ledger Ltd' });
    for (const amount of [100, 200, 300, 400, 500]) await post(acme.workspaceId, id, amount);
    const first = await admin().customers.ledger({ customerId: id, limit: 2 });
    expect(first.items.map((i) => i.amountMinor)).toEqual([500, 400]);
    expect(first.items[0]).toEqual({
      id: expect.any(String),
      kind: 'topup',
      amountMinor: 500,
      currency: 'usd',
      description: 'test entry',
      reference: expect.stringMatching(/^test:/),
      billingRecordId: null,
      createdAt: expect.any(Date),
    });
    const second = await admin().customers.ledger({ customerId: id, limit: 2, cursor: first.nextCursor });
    const third = await admin().customers.ledger({ customerId: id, limit: 2, cursor: second.nextCursor });
    expect([...second.items, ...third.items].map((i) => i.amountMinor)).toEqual([300, 200, 100]);
    expect(third.nextCursor).toBeNull();
    expect(await fail(admin().customers.ledger({ customerId: globex.alice.customerId }))).toBe('NOT_FOUND');
    expect(await fail(admin().customers.ledger({ customerId: 'nope' }))).toBe('BAD_REQUEST');
  });

  it("another workspace's customer, or a missing one, is NOT_FOUND", async () => {
    expect(await fail(admin().customers.get({ customerId: globex.alice.customerId }))).toBe('NOT_FOUND');
    expect(await fail(admin().customers.get({ customerId: newId() }))).toBe('NOT_FOUND');
    expect(await fail(admin().customers.get({ customerId: 'x'.repeat(10_000) }))).toBe('BAD_REQUEST');
  });

  describe('inviting a member', () => {
    const outbox = (to: string) => db.q.select().from(db.t.emailOutbox).where(eq(db.t.emailOutbox.toAddress, to));
    const membershipsOf = (userId: string) =>
      db.q.select({ customerId: db.t.customerMemberships.customerId, role: db.t.customerMemberships.role }).from(db.t.customerMemberships).where(eq(db.t.customerMemberships.userId, userId));

    it('a verified user is attached now, once, and told to sign in', async () => {
      const { id } = await admin().customers.create({ name: 'Attach Now' });
      const carol = await newUser('carol');
      const result = await admin().customers.invite({ customerId: id, email: `  ${carol.email.toUpperCase()} ` });
      expect(result).toEqual({ invitationId: expect.any(String), attachedNow: true });
      expect(await membershipsOf(carol.id)).toEqual([{ customerId: id, role: 'member' }]);
      const got = await admin().customers.get({ customerId: id });
      expect(got.members).toEqual([{ userId: carol.id, email: carol.email, role: 'member' }]);
      expect(got.pendingInvitations).toEqual([]);
      const [invitation] = await db.q.select().from(db.t.invitations).where(eq(db.t.invitations.id, result.invitationId));
      expect(invitation).toMatchObject({ workspaceId: acme.workspaceId, customerId: id, role: 'member', email: carol.email, acceptedByUserId: carol.id, invitedByUserId: acme.admin.userId });
      expect(invitation!.acceptedAt).toBeInstanceOf(Date);
      const mails = await outbox(carol.email);
      expect(mails).toHaveLength(1);
      expect(mails[0]).toMatchObject({ kind: 'customer_invitation', workspaceId: acme.workspaceId, status: 'pending' });
      expect(mails[0]!.textBody).toContain(`${testConfig.webUrl}/sign-in`);
      const audit = await db.q.select().from(db.t.auditLog).where(and(eq(db.t.auditLog.action, 'customer.invite'), eq(db.t.auditLog.targetId, id)));
      expect(audit).toHaveLength(1);
      expect(JSON.parse(audit[0]!.after!)).toMatchObject({ invitationId: result.invitationId, email: carol.email, role: 'member', attachedNow: true });
      // Again: still one membership; the user's next session changes nothing.
      expect((await admin().customers.invite({ customerId: id, email: carol.email })).attachedNow).toBe(true);
      await ensureUserProvisioned({ db, userId: carol.id, adminEmails: [] });
      expect(await membershipsOf(carol.id)).toEqual([{ customerId: id, role: 'member' }]);
    });

    it('an owner invited as a member stays an owner', async () => {
      const result = await admin().customers.invite({ customerId: acme.alice.customerId, email: acme.alice.email });
      expect(result.attachedNow).toBe(false); // seeded users are not verified
      await db.q.update(db.t.users).set({ emailVerified: true }).where(eq(db.t.users.id, acme.alice.userId));
      expect((await admin().customers.invite({ customerId: acme.alice.customerId, email: acme.alice.email })).attachedNow).toBe(true);
      expect(await membershipsOf(acme.alice.userId)).toEqual([{ customerId: acme.alice.customerId, role: 'owner' }]);
    });

    it('an unverified account is attached once it is verified and next signs in', async () => {
      const { id } = await admin().customers.create({ name: 'Later Ltd' });
      const dave = await newUser('dave', { verified: false });
      const result = await admin().customers.invite({ customerId: id, email: dave.email });
      expect(result.attachedNow).toBe(false);
      expect(await membershipsOf(dave.id)).toEqual([]);
      expect((await admin().customers.get({ customerId: id })).pendingInvitations).toEqual([{ id: result.invitationId, email: dave.email, role: 'member', createdAt: expect.any(Date) }]);
      await db.q.update(db.t.users).set({ emailVerified: true }).where(eq(db.t.users.id, dave.id));
      const outcome = await ensureUserProvisioned({ db, userId: dave.id, adminEmails: [] });
      expect(outcome).toMatchObject({ status: 'provisioned', acceptedInvitationIds: [result.invitationId], selfSignUpCustomerId: null });
      expect(await membershipsOf(dave.id)).toEqual([{ customerId: id, role: 'member' }]);
      expect((await admin().customers.get({ customerId: id })).pendingInvitations).toEqual([]);
    });

    it('end to end: an email nobody uses is invited, signs up, verifies, and is a member of that customer only', async () => {
      const { id } = await admin().customers.create({ name: 'Newcomer Co' });
      const email = `newcomer-${newId()}@example.test`;
      const result = await admin().customers.invite({ customerId: id, email: email.toUpperCase() });
      expect(result.attachedNow).toBe(false);
      const again = await admin().customers.invite({ customerId: id, email });
      expect(again).toEqual(result);
      const invitationMails = (await outbox(email)).filter((m) => m.kind === 'customer_invitation');
      expect(invitationMails).toHaveLength(1);
      expect(invitationMails[0]!.textBody).toContain(`${testConfig.webUrl}/sign-up`);

      const auth = createAuth({ db, secret: 'x'.repeat(32), baseURL: 'http://127.0.0.1:3000', trustedOrigins: [ORIGIN], adminEmails: [], signUp: 'invite' });
      const signUp = await auth.handler(
        new Request('http://127.0.0.1:3000/api/auth/sign-up/email', {
          method: 'POST',
          headers: { 'content-type': 'application/json', origin: ORIGIN, [CLIENT_IP_HEADER]: '203.0.113.10' },
          body: JSON.stringify({ name: 'New Comer', email, password: 'violet-harbor-lantern-1987!', callbackURL: '/' }),
        }),
      );
      expect(signUp.status).toBe(200);
      const [user] = await db.q.select().from(db.t.users).where(eq(db.t.users.email, email));
      expect(user).toBeDefined();
      expect(await membershipsOf(user!.id)).toEqual([]); // not verified yet
      const [verifyMail] = (await outbox(email)).filter((m) => m.kind === 'verify_email');
      const link = verifyMail?.textBody.match(/https?:\/\/\S+/)?.[0];
      expect(link).toBeDefined();
      const verified = await auth.handler(new Request(link!, { headers: { [CLIENT_IP_HEADER]: '203.0.113.10' } }));
      expect(verified.status).toBe(302);
      expect(verified.headers.getSetCookie().join(';')).toContain('session_token');
      expect(await membershipsOf(user!.id)).toEqual([{ customerId: id, role: 'member' }]);
      const got = await admin().customers.get({ customerId: id });
      expect(got.members).toEqual([{ userId: user!.id, email, role: 'member' }]);
      expect(got.pendingInvitations).toEqual([]);
      // The member sees the customer, and nothing of the admin's.
      const member = callerFor(db, stripe, { userId: user!.id, email });
      expect((await member.me.get()).customers).toMatchObject([{ id, role: 'member', workspaceId: acme.workspaceId }]);
      expect(await fail(member.customers.get({ customerId: id }))).toBe('FORBIDDEN');
    });

    it('refuses a malformed email (BAD_REQUEST) and a customer of another workspace (NOT_FOUND), storing nothing', async () => {
      const before = await snapshot();
      for (const email of ['not an email', '', 'a\u0000@b.test', `${'a'.repeat(250)}@b.test`, 5]) {
        expect(await fail(admin().customers.invite({ customerId: acme.bob.customerId, email: email as never }))).toBe('BAD_REQUEST');
      }
      expect(await fail(admin().customers.invite({ customerId: globex.bob.customerId, email: 'x@example.test' }))).toBe('NOT_FOUND');
      expect(await fail(admin().customers.invite({ customerId: newId(), email: 'x@example.test' }))).toBe('NOT_FOUND');
      expect(await fail(admin().customers.invite({ customerId: 'bob', email: 'x@example.test' }))).toBe('BAD_REQUEST');
      expect(await snapshot()).toEqual(before);
    });
  });

  it.each([
    ['a NUL byte', 'a\u0000b'],
    ['a UUID with a NUL byte', '0190f5b2-7d1a-7c3e-9b2a-4f1e2d3c4b5a\u0000'],
    ['SQL', "' or 1=1 --"],
    ['10 000 characters', 'x'.repeat(10_000)],
    ['an empty string', ''],
    ['a number', 42],
  ])('ids and cursors are checked by shape before any query: %s is BAD_REQUEST naming the field', async (_label, bad) => {
    const id = bad as string;
    const before = await snapshot();
    const calls: Array<[string, () => Promise<unknown>]> = [
      ['customerId', () => admin().customers.get({ customerId: id })],
      ['customerId', () => admin().customers.ledger({ customerId: id })],
      ['customerId', () => admin().customers.invite({ customerId: id, email: 'someone@example.test' })],
      ['customerId', () => admin().customers.adjustBalance({ customerId: id, amountMinor: 100, reason: 'x' })],
      ['cursor', () => admin().customers.list({ cursor: id })],
      ['cursor', () => admin().customers.ledger({ customerId: acme.alice.customerId, cursor: id })],
      ['cursor', () => admin().audit.list({ cursor: id })],
    ];
    for (const [field, call] of calls) {
      const error = await call().then(() => new Error('resolved'), (e: unknown) => e);
      expect(code(error)).toBe('BAD_REQUEST');
      expect((error as TRPCError).message).toContain(field);
      expect((error as TRPCError).message).not.toMatch(/Failed query|select|params/i);
    }
    expect(await snapshot()).toEqual(before);
  });

  it('a customer member gets FORBIDDEN from every customers procedure and the audit log; signed out is UNAUTHORIZED', async () => {
    const before = await snapshot();
    for (const who of [acme.alice, acme.bob]) {
      const member = callerFor(db, stripe, who);
      const own = who.customerId;
      expect(await fail(member.customers.list({}))).toBe('FORBIDDEN');
      expect(await fail(member.customers.create({ name: 'Mine' }))).toBe('FORBIDDEN');
      expect(await fail(member.customers.get({ customerId: own }))).toBe('FORBIDDEN');
      expect(await fail(member.customers.ledger({ customerId: own }))).toBe('FORBIDDEN');
      expect(await fail(member.customers.invite({ customerId: own, email: 'friend@example.test' }))).toBe('FORBIDDEN');
      expect(await fail(member.customers.adjustBalance({ customerId: own, amountMinor: 100, reason: 'gift' }))).toBe('FORBIDDEN');
      expect(await fail(member.audit.list({}))).toBe('FORBIDDEN');
    }
    const anon = callerFor(db, stripe, null);
    expect(await fail(anon.customers.list({}))).toBe('UNAUTHORIZED');
    expect(await fail(anon.customers.create({ name: 'Anon' }))).toBe('UNAUTHORIZED');
    expect(await fail(anon.audit.list({}))).toBe('UNAUTHORIZED');
    expect(await snapshot()).toEqual(before);
  });
});

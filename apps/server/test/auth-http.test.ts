/**
 * Accounts over real HTTP against the real app (issue 6, items 1, 2, 10): email verification
 * and password reset through the outbox, admin bootstrap that cannot be squatted, the password
 * policy, redirect targets limited to trusted origins, per-IP limits keyed by the IP Express
 * resolved (shared through the database), the per-account failed sign-in throttle, and
 * invite-only sign-up. Both dialects.
 */
import type { recordingLogger } from '@tally/api';
import { createInvitation, ensurePrimaryWorkspace } from '@tally/api';
import { and, eq } from '@tally/db';
import { testDialects, type TestDatabase } from '@tally/db/testing';
import superjson from 'superjson';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../../packages/api/src/ids';
import { cookieOf, emailLink, ORIGIN, signUpVerified, startServer } from './harness';

type Server = Awaited<ReturnType<typeof startServer>>;
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const STRONG = 'violet anchor mistral quorum';
const EVIL = 'https://evil.example';
/**
 * Sign-ins per IP in the flood tests: production allows 30 per 5 minutes (AUTH_RATE_LIMITS);
 * each refused sign-in costs a password hash, so the tests use a smaller limit of the same shape.
 */
const SIGN_IN_LIMIT = { '/sign-in/email': { window: 300, max: 8 } };

let ipCount = 0;
/** A new client address (TEST-NET-3) for each call. */
const freshIp = () => {
  ipCount += 1;
  return `203.0.${Math.floor(ipCount / 250) % 250}.${(ipCount % 250) + 1}`;
};
let emailCount = 0;
const freshEmail = (label: string) => `${label}-${++emailCount}-${newId().slice(-6)}@example.test`;

async function authPost(server: Server, path: string, body: unknown, { ip, cookie, headers = {} }: { ip?: string; cookie?: string; headers?: Record<string, string> } = {}) {
  const res = await fetch(`${server.url}/api/auth/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: ORIGIN, ...(ip ? { 'x-forwarded-for': ip } : {}), ...(cookie ? { cookie } : {}), ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, res, body: (await res.json().catch(() => null)) as Json | null, cookie: cookieOf(res) };
}

async function get(url: string, { ip, cookie }: { ip?: string; cookie?: string } = {}) {
  const res = await fetch(url, { redirect: 'manual', headers: { ...(ip ? { 'x-forwarded-for': ip } : {}), ...(cookie ? { cookie } : {}) } });
  return { status: res.status, location: res.headers.get('location'), cookie: cookieOf(res), body: await res.text() };
}

async function trpc(server: Server, path: string, cookie: string, input?: unknown) {
  const query = input === undefined ? '' : `?input=${encodeURIComponent(JSON.stringify(superjson.serialize(input)))}`;
  const res = await fetch(`${server.url}/trpc/${path}${query}`, { headers: { cookie, origin: ORIGIN } });
  const body = (await res.json()) as { result?: { data: never }; error?: { json: Json } };
  return { status: res.status, data: (body.result ? superjson.deserialize(body.result.data) : body.error?.json) as Json };
}

async function sessionOf(server: Server, cookie: string) {
  const res = await fetch(`${server.url}/api/auth/get-session`, { headers: { cookie } });
  return (await res.json()) as Json | null;
}

describe.each(testDialects)('accounts over HTTP ($name)', ({ create }) => {
  let db: TestDatabase;
  /** Open sign-up, behind a trusted loopback proxy (X-Forwarded-For chooses the client IP). */
  let open: Server;
  /** Two processes trusting no proxy, on the same database. */
  let direct: Server;
  let direct2: Server;
  /** Invite-only sign-up behind a trusted loopback proxy. */
  let invite: Server;

  beforeAll(async () => {
    db = await create();
    open = await startServer(db, { config: { adminEmails: ['owner@example.com', 'ceo@example.com'] }, trustProxy: ['loopback'], authRateLimits: SIGN_IN_LIMIT });
    direct = await startServer(db, { authRateLimits: SIGN_IN_LIMIT });
    direct2 = await startServer(db, { authRateLimits: SIGN_IN_LIMIT });
    invite = await startServer(db, { config: { signUp: 'invite', adminEmails: ['boss@invite.test'] }, trustProxy: ['loopback'] });
  });
  afterAll(async () => {
    for (const s of [open, direct, direct2, invite]) await s?.close();
    await db?.destroy();
  });

  const userByEmail = async (email: string) => (await db.q.select().from(db.t.users).where(eq(db.t.users.email, email)))[0];
  const rolesOf = async (userId: string) => ({
    admin: await db.q.select().from(db.t.workspaceMembers).where(eq(db.t.workspaceMembers.userId, userId)),
    customers: await db.q.select().from(db.t.customerMemberships).where(eq(db.t.customerMemberships.userId, userId)),
  });
  const outboxTo = (to: string) => db.q.select().from(db.t.emailOutbox).where(eq(db.t.emailOutbox.toAddress, to));

  it('squatting the bootstrap admin email grants nothing and cannot sign in; the mailbox confirms it by choosing the password, which shuts the squatter out', async () => {
    const ip = freshIp();
    const squatterPassword = 'mallory squats this address';
    const squat = await authPost(open, 'sign-up/email', { email: 'Owner@Example.com', password: squatterPassword, name: 'Mallory', callbackURL: '/' }, { ip });
    expect(squat.status).toBe(200);
    expect(squat.body).toMatchObject({ token: null });
    expect(squat.cookie).not.toContain('session_token');

    const user = await userByEmail('owner@example.com');
    expect(user).toMatchObject({ emailVerified: false });
    expect(await rolesOf(user!.id)).toEqual({ admin: [], customers: [] });
    expect(await db.q.select().from(db.t.customers).where(eq(db.t.customers.email, 'owner@example.com'))).toEqual([]);

    const signIn = await authPost(open, 'sign-in/email', { email: 'owner@example.com', password: squatterPassword }, { ip });
    expect(signIn).toMatchObject({ status: 403, body: { code: 'EMAIL_NOT_VERIFIED' } });
    expect(signIn.cookie).not.toContain('session_token');

    // An admin address never gets a plain verification link (clicking it would hand the
    // squatter's password the admin role): the mailbox gets a link to choose the password.
    const mails = await outboxTo('owner@example.com');
    expect(mails.filter((m) => m.kind === 'verify_email')).toEqual([]);
    const [mail] = mails.filter((m) => m.kind === 'confirm_admin');
    expect(mail).toMatchObject({ status: 'pending', workspaceId: (await ensurePrimaryWorkspace({ db })).id, subject: 'Confirm your Tally admin account' });
    const link = await emailLink(db, open.url, 'owner@example.com', 'confirm_admin');
    expect(link).toMatch(/\/api\/auth\/reset-password\/\w+\?callbackURL=%2Freset-password$/);
    expect(mail!.htmlBody).toContain(new URL(mail!.textBody.match(/https?:\/\/\S+/)![0]).pathname);

    const toPage = await get(link, { ip });
    expect(toPage.status).toBe(302);
    const token = new URL(toPage.location!).searchParams.get('token')!;
    expect(await authPost(open, 'reset-password', { newPassword: STRONG, token }, { ip })).toMatchObject({ status: 200, body: { status: true } });
    expect(await userByEmail('owner@example.com')).toMatchObject({ emailVerified: true });

    // The squatter's password is gone; the mailbox owner's signs in as admin.
    expect((await authPost(open, 'sign-in/email', { email: 'owner@example.com', password: squatterPassword }, { ip })).status).toBe(401);
    const owner = await authPost(open, 'sign-in/email', { email: 'owner@example.com', password: STRONG }, { ip });
    expect(owner.status).toBe(200);
    expect((await trpc(open, 'me.get', owner.cookie)).data.adminWorkspace).toMatchObject({ id: expect.any(String) });
    expect((await trpc(open, 'admin.topups', owner.cookie, {})).status).toBe(200);

    // The link is a secret: never logged.
    expect(JSON.stringify((open.logger as ReturnType<typeof recordingLogger>).records)).not.toContain(token);
  });

  it('the real owner takes a squatted address back by password reset: sessions revoked, email verified, the squatter locked out', async () => {
    const squatterPassword = 'mallory wants the ceo seat';
    expect((await authPost(open, 'sign-up/email', { email: 'CEO@example.com', password: squatterPassword, name: 'Mallory' }, { ip: freshIp() })).status).toBe(200);
    const squatted = await userByEmail('ceo@example.com');

    // The owner signs up too: the same neutral answer, nothing changes, and the mailbox gets a reset link.
    const ownerSignUp = await authPost(open, 'sign-up/email', { email: 'ceo@example.com', password: STRONG, name: 'Real CEO' }, { ip: freshIp() });
    expect(ownerSignUp).toMatchObject({ status: 200, body: { token: null } });
    expect(await userByEmail('ceo@example.com')).toEqual(squatted);
    const resetLink = await emailLink(db, open.url, 'ceo@example.com', 'reset_password');
    expect(resetLink).toMatch(/\/api\/auth\/reset-password\/\w+\?callbackURL=%2Freset-password$/);

    // The link leads to the SPA's reset page with the token.
    const toPage = await get(resetLink, { ip: freshIp() });
    expect(toPage.status).toBe(302);
    const pageUrl = new URL(toPage.location!);
    expect(pageUrl.pathname).toBe('/reset-password');
    const token = pageUrl.searchParams.get('token')!;

    // A weak new password is refused with the reason, and the token stays usable.
    const weak = await authPost(open, 'reset-password', { newPassword: 'ceo@example.com!', token }, { ip: freshIp() });
    expect(weak).toMatchObject({ status: 400, body: { code: 'PASSWORD_TOO_WEAK', message: expect.stringMatching(/^Password is too easy to guess\. .*personal/) } });
    expect(await authPost(open, 'reset-password', { newPassword: STRONG, token }, { ip: freshIp() })).toMatchObject({ status: 200, body: { status: true } });

    expect(await userByEmail('ceo@example.com')).toMatchObject({ emailVerified: true });
    expect((await authPost(open, 'sign-in/email', { email: 'ceo@example.com', password: squatterPassword }, { ip: freshIp() })).status).toBe(401);
    const owner = await authPost(open, 'sign-in/email', { email: 'ceo@example.com', password: STRONG }, { ip: freshIp() });
    expect(owner.status).toBe(200);
    expect((await trpc(open, 'me.get', owner.cookie)).data.adminWorkspace).toMatchObject({ id: expect.any(String) });

    // A later reset (forgot password) signs out every session of the account.
    expect((await authPost(open, 'request-password-reset', { email: 'ceo@example.com', redirectTo: '/reset-password' }, { ip: freshIp() })).status).toBe(200);
    const again = new URL((await get(await emailLink(db, open.url, 'ceo@example.com', 'reset_password'), { ip: freshIp() })).location!).searchParams.get('token')!;
    expect(again).not.toBe(token);
    expect(await sessionOf(open, owner.cookie)).toMatchObject({ user: { email: 'ceo@example.com' } });
    expect((await authPost(open, 'reset-password', { newPassword: 'tangerine-Glacier-47-orbit', token: again }, { ip: freshIp() })).status).toBe(200);
    expect(await sessionOf(open, owner.cookie)).toBeNull();
    expect((await trpc(open, 'me.get', owner.cookie)).data.user).toBeNull();
  });

  it('refuses weak passwords at sign-up and change with a clear message, storing nothing', async () => {
    const cases = [
      { password: '12345678', code: 'PASSWORD_TOO_SHORT', message: 'Password must be at least 12 characters long.' },
      { password: 'password1234', code: 'PASSWORD_TOO_WEAK', message: /^Password is too easy to guess\. .*common/ },
      { password: 'Jane.Doe@Example.com', code: 'PASSWORD_TOO_WEAK', message: /personal/ },
      { password: 'x'.repeat(129), code: 'PASSWORD_TOO_LONG', message: 'Password must be at most 128 characters long.' },
    ];
    for (const { password, code, message } of cases) {
      const res = await authPost(open, 'sign-up/email', { email: 'Jane.Doe@Example.com', password, name: 'Jane Doe' }, { ip: freshIp() });
      expect(res.status, password).toBe(400);
      expect(res.body).toMatchObject({ code, message: typeof message === 'string' ? message : expect.stringMatching(message) });
    }
    expect(await userByEmail('jane.doe@example.com')).toBeUndefined();
    expect(await outboxTo('jane.doe@example.com')).toEqual([]);

    const email = freshEmail('changer');
    const ip = freshIp();
    const cookie = await signUpVerified(open.url, db, { email, password: STRONG }, { 'x-forwarded-for': ip });
    const change = await authPost(open, 'change-password', { currentPassword: STRONG, newPassword: 'password1234' }, { ip, cookie });
    expect(change).toMatchObject({ status: 400, body: { code: 'PASSWORD_TOO_WEAK' } });
    expect((await authPost(open, 'sign-in/email', { email, password: STRONG }, { ip })).status).toBe(200);
    expect((await authPost(open, 'change-password', { currentPassword: STRONG, newPassword: 'tangerine-Glacier-47-orbit' }, { ip, cookie })).status).toBe(200);
  });

  it('refuses callback and redirect URLs outside the trusted origins', async () => {
    const evilSignUp = await authPost(open, 'sign-up/email', { email: 'lured@example.test', password: STRONG, name: 'Lured', callbackURL: `${EVIL}/welcome` }, { ip: freshIp() });
    expect(evilSignUp).toMatchObject({ status: 403, body: { code: 'INVALID_CALLBACK_URL' } });
    expect(await userByEmail('lured@example.test')).toBeUndefined();

    const email = freshEmail('target');
    expect((await authPost(open, 'sign-up/email', { email, password: STRONG, name: 'Target' }, { ip: freshIp() })).status).toBe(200);
    const mailsBefore = await outboxTo(email);
    expect(await authPost(open, 'request-password-reset', { email, redirectTo: `${EVIL}/reset` }, { ip: freshIp() })).toMatchObject({ status: 403, body: { code: 'INVALID_REDIRECT_URL' } });
    expect(await authPost(open, 'send-verification-email', { email, callbackURL: EVIL }, { ip: freshIp() })).toMatchObject({ status: 403, body: { code: 'INVALID_CALLBACK_URL' } });
    expect(await outboxTo(email)).toEqual(mailsBefore);

    // A genuine link with its callback swapped for a foreign one neither redirects nor verifies.
    const link = new URL(await emailLink(db, open.url, email, 'verify_email'));
    link.searchParams.set('callbackURL', EVIL);
    expect(await get(link.href, { ip: freshIp() })).toMatchObject({ status: 403, location: null });
    expect(await userByEmail(email)).toMatchObject({ emailVerified: false });

    expect((await authPost(open, 'request-password-reset', { email, redirectTo: '/reset-password' }, { ip: freshIp() })).status).toBe(200);
    const reset = new URL(await emailLink(db, open.url, email, 'reset_password'));
    reset.searchParams.set('callbackURL', EVIL);
    expect(await get(reset.href, { ip: freshIp() })).toMatchObject({ status: 403, location: null });
    // Trusted origins and relative paths are fine.
    reset.searchParams.set('callbackURL', `${ORIGIN}/reset-password`);
    expect((await get(reset.href, { ip: freshIp() })).location).toMatch(new RegExp(`^${ORIGIN}/reset-password\\?token=\\w+$`));
  });

  it('per-IP limits: wrong passwords from one IP lock out neither another IP nor another user on it, and a flood is stopped', async () => {
    const alice = { email: freshEmail('alice'), password: STRONG };
    const bob = { email: freshEmail('bob'), password: STRONG };
    await signUpVerified(open.url, db, alice, { 'x-forwarded-for': freshIp() });
    await signUpVerified(open.url, db, bob, { 'x-forwarded-for': freshIp() });
    const ipA = freshIp();
    const ipB = freshIp();
    for (let i = 0; i < 3; i++) expect((await authPost(open, 'sign-in/email', { ...alice, password: 'not her password at all' }, { ip: ipA })).status).toBe(401);
    expect((await authPost(open, 'sign-in/email', alice, { ip: ipB })).status).toBe(200);
    expect((await authPost(open, 'sign-in/email', bob, { ip: ipA })).status).toBe(200);

    // A flood from IP A (a new email each time, so only the IP limit applies) is cut off...
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await authPost(open, 'sign-in/email', { email: freshEmail('flood'), password: 'guess guess guess' }, { ip: ipA })).status);
    expect(statuses).toEqual([401, 401, 401, 401, 429, 429, 429]);
    // ...while IP B and the accounts themselves are untouched.
    expect((await authPost(open, 'sign-in/email', alice, { ip: ipB })).status).toBe(200);
    const [row] = await db.q.select().from(db.t.rateLimits).where(eq(db.t.rateLimits.key, `auth:${ipA}|/sign-in/email`));
    expect(row).toMatchObject({ count: 11 });
  }, 120_000);

  it('with no proxy trusted, a new spoofed X-Forwarded-For per request does not escape the per-IP limit, shared by two processes', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) {
      const server = i % 2 === 0 ? direct : direct2;
      const spoof = freshIp();
      const res = await authPost(server, 'sign-in/email', { email: freshEmail('spoof'), password: 'guess guess guess' }, { ip: spoof, headers: { 'x-tally-client-ip': spoof, 'x-real-ip': spoof } });
      statuses.push(res.status);
    }
    expect(statuses).toEqual([...Array(8).fill(401), 429, 429, 429]);
  }, 120_000);

  it('per-account throttle: 5 failures from any IPs answer 429 with Retry-After until the window passes; a success resets; unknown emails alike', async () => {
    const carol = { email: freshEmail('carol'), password: STRONG };
    await signUpVerified(open.url, db, carol, { 'x-forwarded-for': freshIp() });
    const wrong = () => authPost(open, 'sign-in/email', { email: carol.email.toUpperCase(), password: 'wrong wrong wrong' }, { ip: freshIp() });

    for (let i = 0; i < 4; i++) expect((await wrong()).status).toBe(401);
    expect((await authPost(open, 'sign-in/email', carol, { ip: freshIp() })).status).toBe(200);
    for (let i = 0; i < 5; i++) expect((await wrong()).status).toBe(401);
    const locked = await authPost(open, 'sign-in/email', carol, { ip: freshIp() });
    expect(locked).toMatchObject({ status: 429, body: { code: 'TOO_MANY_FAILED_SIGN_INS', message: expect.stringMatching(/^Too many failed sign-ins for this account\. Try again in 15 minutes, or reset your password\.$/) } });
    const retryAfter = Number(locked.res.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(900);

    const ghost = freshEmail('nobody');
    const ghostStatuses = [];
    for (let i = 0; i < 6; i++) ghostStatuses.push((await authPost(open, 'sign-in/email', { email: ghost, password: 'wrong wrong wrong' }, { ip: freshIp() })).status);
    expect(ghostStatuses).toEqual([401, 401, 401, 401, 401, 429]);

    // The window passes (moved back in the shared counter): carol signs in again.
    await db.q
      .update(db.t.rateLimits)
      .set({ lastRequest: Date.now() - 15 * 60_000 - 1_000 })
      .where(and(eq(db.t.rateLimits.key, `signin-fail:${carol.email}`)));
    expect((await authPost(open, 'sign-in/email', carol, { ip: freshIp() })).status).toBe(200);
  }, 120_000);

  it('invite-only: an uninvited sign-up is refused and stores nothing; an invited one gets the invited role once verified', async () => {
    const walkIn = await authPost(invite, 'sign-up/email', { email: 'walk-in@example.test', password: STRONG, name: 'Walk In' }, { ip: freshIp() });
    expect(walkIn).toMatchObject({ status: 403, body: { code: 'SIGN_UP_BY_INVITATION_ONLY', message: expect.stringContaining('by invitation only') } });
    expect(await userByEmail('walk-in@example.test')).toBeUndefined();
    expect(await outboxTo('walk-in@example.test')).toEqual([]);

    const workspace = await ensurePrimaryWorkspace({ db });
    const customerId = newId();
    await db.q.insert(db.t.customers).values({ id: customerId, workspaceId: workspace.id, name: 'Acme' });
    await createInvitation({ db, workspaceId: workspace.id, email: 'Invitee@Example.test', role: 'member', customerId });

    const ip = freshIp();
    expect((await authPost(invite, 'sign-up/email', { email: 'invitee@EXAMPLE.test', password: STRONG, name: 'Invitee' }, { ip })).status).toBe(200);
    const invitee = await userByEmail('invitee@example.test');
    expect(await rolesOf(invitee!.id)).toEqual({ admin: [], customers: [] });
    const followed = await get(await emailLink(db, invite.url, 'invitee@example.test', 'verify_email'), { ip });
    expect(followed.status).toBe(302);
    const me = (await trpc(invite, 'me.get', followed.cookie)).data;
    expect(me).toMatchObject({ adminWorkspace: null, customers: [{ id: customerId, role: 'member' }] });

    // A bootstrap admin needs no invitation.
    const boss = await signUpVerified(invite.url, db, { email: 'Boss@Invite.test', password: STRONG }, { 'x-forwarded-for': freshIp() });
    expect((await trpc(invite, 'me.get', boss)).data).toMatchObject({ adminWorkspace: { id: workspace.id }, customers: [] });
  });
});

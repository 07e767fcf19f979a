/**
 * Issue 7: `pnpm tally workspace create | list` and `pnpm tally secrets rotate | status`, run
 * as an operator would (the CLI entry point with a test terminal, one spawned process) on a
 * fresh database of each dialect, in production with no Stripe keys.
 */
import { randomBytes } from 'node:crypto';
import { createStripeAccounts, encryptSecret, ensureUserProvisioned, secretKeyId } from '@tally/api';
import { eq, type Database } from '@tally/db';
import { createTestDatabaseUrl, testDialects } from '@tally/db/testing';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { newId } from '../../../packages/api/src/ids';
import { runTally, spawnTally, withCliDatabase } from './cli-harness';
import { DEV_SECRET_ENCRYPTION_KEY } from '../src/config';

vi.setConfig({ testTimeout: 120_000 });

const tallySpawned = (args: string[], url: string) => spawnTally(args, { url });
const tally = (args: string[], url: string, env: Record<string, string> = {}) => runTally(args, { url, env });

describe.each(testDialects)('pnpm tally workspace / secrets ($name)', ({ name: dialect }) => {
  let database: { url: string; drop(): Promise<void> };
  beforeAll(async () => {
    database = await createTestDatabaseUrl(dialect);
  });
  afterAll(async () => {
    await database.drop();
  });

  /** Open the CLI's database in this process (after the CLI closed it: PGlite has one owner). */
  const inspect = <T>(fn: (db: Database) => Promise<T>) => withCliDatabase(database.url, fn);
  const snapshot = (db: Database) =>
    Promise.all([db.q.select().from(db.t.workspaces), db.q.select().from(db.t.workspaceMembers), db.q.select().from(db.t.invitations), db.q.select().from(db.t.auditLog)]);

  let acmeId = '';

  it('workspace create: a new workspace (slug from the name) whose admin is invited until they sign up; the primary exists first', async () => {
    const run = await tallySpawned(['workspace', 'create', '--name', 'Acme Ops', '--admin-email', 'Ops@Acme.test', '--json'], database.url);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout) as { workspaceId: string; slug: string; name: string; currency: string; admin: { email: string; status: string; userId: string | null; invitationId: string } };
    expect(out).toMatchObject({ name: 'Acme Ops', slug: 'acme-ops', currency: 'usd', admin: { email: 'ops@acme.test', status: 'invited', userId: null, invitationId: expect.any(String) } });
    acmeId = out.workspaceId;

    await inspect(async (db) => {
      const workspaces = await db.q.select().from(db.t.workspaces);
      // The primary workspace (where uninvited sign-ups land) was created first, so Acme is not it.
      expect(workspaces.map((w) => w.slug).sort()).toEqual(['acme-ops', 'primary']);
      const primary = workspaces.find((w) => w.slug === 'primary')!;
      expect(primary.createdAt.getTime()).toBeLessThanOrEqual(workspaces.find((w) => w.slug === 'acme-ops')!.createdAt.getTime());
      expect(await db.q.select().from(db.t.invitations)).toMatchObject([{ id: out.admin.invitationId, workspaceId: acmeId, email: 'ops@acme.test', role: 'admin', customerId: null, acceptedAt: null }]);
      expect(await db.q.select().from(db.t.workspaceMembers)).toEqual([]);
      const audit = await db.q.select().from(db.t.auditLog);
      expect(audit).toMatchObject([{ workspaceId: acmeId, actorUserId: null, actorLabel: 'cli', action: 'workspace.create', targetType: 'workspace', targetId: acmeId }]);
      expect(JSON.parse(audit[0]!.after!)).toMatchObject({ name: 'Acme Ops', slug: 'acme-ops', currency: 'usd', adminEmail: 'ops@acme.test', admin: 'invited' });
    });
  });

  it('the same name again gets the next free slug; --currency is ISO 4217 in any case', async () => {
    const run = await tally(['workspace', 'create', '--name', '  Acme   OPS!  ', '--admin-email', 'ops@acme.test', '--currency', 'EUR', '--json'], database.url);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ name: 'Acme   OPS!', slug: 'acme-ops-2', currency: 'eur', admin: { status: 'invited' } });
    const accents = await tally(['workspace', 'create', '--name', 'Café Zürich', '--admin-email', 'ops@acme.test'], database.url);
    expect(accents.code).toBe(0);
    expect(accents.stdout).toMatch(/^Created workspace "Café Zürich" \(slug cafe-zurich, usd\): [0-9a-f-]{36}\n/);
    expect(accents.stdout).toContain('ops@acme.test becomes its admin on signing up');
  });

  it('the invited email becomes admin of each workspace once that user signs up and is verified', async () => {
    await inspect(async (db) => {
      const userId = newId();
      await db.q.insert(db.t.users).values({ id: userId, name: 'Ops', email: 'ops@acme.test', emailVerified: true });
      await ensureUserProvisioned({ db, userId, adminEmails: [], signUp: 'invite' });
      const memberships = await db.q
        .select({ slug: db.t.workspaces.slug })
        .from(db.t.workspaceMembers)
        .innerJoin(db.t.workspaces, eq(db.t.workspaces.id, db.t.workspaceMembers.workspaceId))
        .where(eq(db.t.workspaceMembers.userId, userId));
      expect(memberships.map((m) => m.slug).sort()).toEqual(['acme-ops', 'acme-ops-2', 'cafe-zurich']);
      expect(await db.q.select().from(db.t.customerMemberships).where(eq(db.t.customerMemberships.userId, userId))).toEqual([]);
    });
  });

  it('an existing verified user is made admin at once; an unverified one is invited', async () => {
    expect((await tally(['admin', 'create', '--email', 'boss@example.com', '--password-stdin'], database.url)).code).toBe(1); // no password on stdin
    const admin = await tally(['admin', 'create', '--email', 'boss@example.com', '--json'], database.url);
    expect(admin.code).toBe(0);
    const { userId } = JSON.parse(admin.stdout) as { userId: string };
    const run = await tally(['workspace', 'create', '--name', 'Boss Co', '--admin-email', 'BOSS@example.com', '--json'], database.url);
    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout) as { workspaceId: string; admin: { status: string; userId: string; invitationId: string | null } };
    expect(out.admin).toEqual({ email: 'boss@example.com', status: 'member', userId, invitationId: null });
    const human = await tally(['workspace', 'create', '--name', 'Boss Co', '--admin-email', 'boss@example.com'], database.url);
    expect(human.stdout).toContain('slug boss-co-2');
    expect(human.stdout).toContain('boss@example.com is its admin now');

    await inspect(async (db) => {
      const members = await db.q.select().from(db.t.workspaceMembers).where(eq(db.t.workspaceMembers.workspaceId, out.workspaceId));
      expect(members).toMatchObject([{ userId, role: 'admin' }]);
      expect(await db.q.select().from(db.t.invitations).where(eq(db.t.invitations.workspaceId, out.workspaceId))).toEqual([]);
      await db.q.insert(db.t.users).values({ id: newId(), name: 'Squatter', email: 'unverified@example.com', emailVerified: false });
    });
    const unverified = await tally(['workspace', 'create', '--name', 'Unverified Co', '--admin-email', 'unverified@example.com', '--json'], database.url);
    expect(JSON.parse(unverified.stdout)).toMatchObject({ admin: { status: 'invited', userId: null } });
  });

  it('workspace list: every workspace, the primary first, with admins and invited admins', async () => {
    const json = await tally(['workspace', 'list', '--json'], database.url);
    expect(json.code).toBe(0);
    const rows = JSON.parse(json.stdout) as { id: string; slug: string; currency: string; admins: string[]; invitedAdmins: string[] }[];
    expect(rows[0]!.slug).toBe('primary');
    expect(rows.map((r) => r.slug)).toEqual(['primary', 'acme-ops', 'acme-ops-2', 'cafe-zurich', 'boss-co', 'boss-co-2', 'unverified-co']);
    expect(rows[0]!.admins).toEqual(['boss@example.com']);
    expect(rows.find((r) => r.id === acmeId)).toMatchObject({ admins: ['ops@acme.test'], invitedAdmins: [], currency: 'usd' });
    expect(rows.at(-1)).toMatchObject({ admins: [], invitedAdmins: ['unverified@example.com'] });
    const human = await tally(['workspace', 'list'], database.url);
    expect(human.stdout.split('\n').filter(Boolean)).toHaveLength(7);
    expect(human.stdout.split('\n')[0]).toMatch(/ primary .*\[primary\]\s+admins: boss@example\.com$/);
    expect(human.stdout).toContain('admins: unverified@example.com (invited)');
  });

  it('bad input: one line, exit 1, nothing changed', async () => {
    const before = await inspect(snapshot);
    const cases: [string[], RegExp][] = [
      [['--name', '', '--admin-email', 'a@example.com'], /^tally: Workspace name must not be empty$/],
      [['--name', '   ', '--admin-email', 'a@example.com'], /^tally: Workspace name must not be empty$/],
      [['--name', 'x'.repeat(201), '--admin-email', 'a@example.com'], /^tally: Workspace name must be at most 200 characters$/],
      [['--name', 'Tab\there', '--admin-email', 'a@example.com'], /^tally: Workspace name must not contain control characters$/],
      [['--name', 'Fine', '--admin-email', 'not-an-email'], /^tally: Invalid email address: "not-an-email"$/],
      [['--name', 'Fine', '--admin-email', 'a@example.com', '--currency', 'dollars'], /^tally: Currency must be an ISO 4217 code/],
      [['--name', 'Fine', '--admin-email', 'a@example.com', '--currency', 'zzq'], /^tally: Currency must be an ISO 4217 code/],
      [['--name', 'Fine'], /required option '--admin-email <email>' not specified/],
    ];
    for (const [args, message] of cases) {
      const run = await tally(['workspace', 'create', ...args], database.url);
      expect(run.code, args.join(' ')).toBe(1);
      expect(run.stdout).toBe('');
      expect(run.stderr.trim()).toMatch(message);
      if (!String(message).includes('required')) expect(run.stderr.trim().split('\n')).toHaveLength(1);
    }
    expect(await inspect(snapshot)).toEqual(before);
  });

  describe('secrets', () => {
    const oldKey = randomBytes(32);
    const newKey = randomBytes(32);
    const keyEnv = (current: Buffer, previous?: Buffer): Record<string, string> => ({
      TALLY_SECRET_ENCRYPTION_KEY: current.toString('base64'),
      ...(previous ? { TALLY_SECRET_ENCRYPTION_KEY_PREVIOUS: previous.toString('hex') } : {}),
    });
    const plaintexts: string[] = [];
    let workspaceIds: string[] = [];

    /** A workspace with its own key (and secret) sealed under `key`. */
    async function seal(db: Database, key: Buffer, withSecret: boolean) {
      const workspaceId = newId();
      const secretKey = `sk_test_${randomBytes(12).toString('hex')}`;
      const webhookSecret = `whsec_${randomBytes(12).toString('hex')}`;
      plaintexts.push(secretKey, webhookSecret);
      const keyring = { current: key };
      await db.q.insert(db.t.workspaces).values({ id: workspaceId, name: 'Sealed', slug: `sealed-${workspaceId}`, currency: 'usd' });
      await db.q.insert(db.t.workspaceStripeAccounts).values({
        workspaceId,
        secretKeySealed: encryptSecret({ keyring, workspaceId, plaintext: secretKey }),
        keyKind: 'secret',
        mode: 'test',
        keyLast4: secretKey.slice(-4),
        webhookSecretSealed: withSecret ? encryptSecret({ keyring, workspaceId, plaintext: webhookSecret }) : null,
        webhookSecretLast4: withSecret ? webhookSecret.slice(-4) : null,
        savedByUserId: 'seed',
        savedAt: new Date(),
      });
      return { workspaceId, secretKey, webhookSecret: withSecret ? webhookSecret : null };
    }
    const noPlaintext = (text: string) => {
      for (const p of plaintexts) expect(text).not.toContain(p.slice(8));
    };

    it('status counts values per key id; rotate re-encrypts them all under the new key, idempotently; then the old key is not needed', async () => {
      const sealed = await inspect(async (db) => [await seal(db, oldKey, true), await seal(db, oldKey, false), await seal(db, oldKey, true)]);
      workspaceIds = sealed.map((s) => s.workspaceId);

      const status = await tally(['secrets', 'status', '--json'], database.url, keyEnv(newKey, oldKey));
      expect(status.code).toBe(0);
      expect(JSON.parse(status.stdout)).toEqual({
        currentKeyId: secretKeyId(newKey),
        previousKeyId: secretKeyId(oldKey),
        byKey: [{ keyId: secretKeyId(oldKey), values: 5, role: 'previous' }],
        malformed: 0,
        rows: 3,
      });
      const humanStatus = await tally(['secrets', 'status'], database.url, keyEnv(newKey, oldKey));
      expect(humanStatus.stdout).toContain(`key ${secretKeyId(oldKey)} (TALLY_SECRET_ENCRYPTION_KEY_PREVIOUS): 5 value(s)`);
      expect(humanStatus.stdout).toContain('run `pnpm tally secrets rotate`');

      const human = await tally(['secrets', 'rotate'], database.url, keyEnv(newKey, oldKey));
      expect(human.stderr).toBe('');
      expect(human.code).toBe(0);
      expect(human.stdout).toContain(`under key ${secretKeyId(newKey)}, opening old ones with key ${secretKeyId(oldKey)}`);
      expect(human.stdout).toContain('  3/3 workspaces');
      expect(human.stdout).toContain('Rotated 5, already current 0, failed 0 (of 3 workspaces).');
      expect(human.stdout).toContain('TALLY_SECRET_ENCRYPTION_KEY_PREVIOUS is no longer needed');
      noPlaintext(human.stdout);

      const again = await tally(['secrets', 'rotate', '--json'], database.url, keyEnv(newKey, oldKey));
      expect(again.code).toBe(0);
      expect(JSON.parse(again.stdout)).toEqual({ rotated: 0, alreadyCurrent: 5, changedMeanwhile: 0, failed: [], currentKeyId: secretKeyId(newKey) });

      // Without the previous key now.
      const after = await tally(['secrets', 'status', '--json'], database.url, keyEnv(newKey));
      expect(JSON.parse(after.stdout)).toMatchObject({ previousKeyId: null, byKey: [{ keyId: secretKeyId(newKey), values: 5, role: 'current' }] });
      await inspect(async (db) => {
        const accounts = createStripeAccounts({ deployment: { mode: 'none', client: null, webhookSecret: null }, keyring: { current: newKey }, createClient: (k) => new Stripe(k) });
        for (const s of sealed) expect(await accounts.forWorkspace(db, s.workspaceId)).toMatchObject({ configured: true, source: 'workspace', webhookSecret: s.webhookSecret });
      });
    });

    it('a value neither key opens: reported with its workspace id, exit 1; the rest is rotated', async () => {
      const lost = await inspect((db) => seal(db, randomBytes(32), true));
      const fresh = await inspect((db) => seal(db, oldKey, false));
      const run = await tally(['secrets', 'rotate', '--json'], database.url, keyEnv(newKey, oldKey));
      expect(run.code).toBe(1);
      const out = JSON.parse(run.stdout) as { rotated: number; failed: { workspaceId: string; column: string }[] };
      expect(out.rotated).toBe(1);
      expect(out.failed.map((f) => [f.workspaceId, f.column])).toEqual([
        [lost.workspaceId, 'secretKeySealed'],
        [lost.workspaceId, 'webhookSecretSealed'],
      ]);
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
      expect(run.stderr).toMatch(new RegExp(`^tally: 2 value\\(s\\) could not be decrypted \\(workspaces ${lost.workspaceId}\\)`));
      noPlaintext(run.stdout + run.stderr);
      const human = await tally(['secrets', 'rotate'], database.url, keyEnv(newKey, oldKey));
      expect(human.code).toBe(1);
      expect(human.stdout).toContain(`failed: workspace ${lost.workspaceId} Stripe key: Stored secret cannot be decrypted`);
      await inspect(async (db) => {
        const [row] = await db.q.select().from(db.t.workspaceStripeAccounts).where(eq(db.t.workspaceStripeAccounts.workspaceId, fresh.workspaceId));
        expect(row!.secretKeySealed.split('.')[1]).toBe(secretKeyId(newKey));
      });
      expect(workspaceIds).toHaveLength(3);
    });

    it('refuses to run without TALLY_SECRET_ENCRYPTION_KEY, or on the published development key in production', async () => {
      for (const verb of ['rotate', 'status']) {
        const none = await tally(['secrets', verb], database.url);
        expect(none.code).toBe(1);
        expect(none.stderr.trim()).toMatch(/^tally: TALLY_SECRET_ENCRYPTION_KEY is not set/);
        const dev = await tally(['secrets', verb], database.url, { TALLY_SECRET_ENCRYPTION_KEY: DEV_SECRET_ENCRYPTION_KEY });
        expect(dev.code).toBe(1);
        expect(dev.stderr.trim()).toMatch(/^tally: TALLY_SECRET_ENCRYPTION_KEY is the published development key/);
      }
      const bad = await tally(['secrets', 'status'], database.url, { TALLY_SECRET_ENCRYPTION_KEY: 'too-short' });
      expect(bad.code).toBe(1);
      expect(bad.stderr).toContain('TALLY_SECRET_ENCRYPTION_KEY: must be 32 bytes');
      expect(bad.stderr).not.toContain('too-short');
    });
  });

  it('--help lists the workspace and secrets commands', async () => {
    const help = await tally(['--help'], database.url);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/workspace\s+workspaces on this deployment/);
    expect(help.stdout).toMatch(/secrets\s+workspace secrets stored encrypted/);
    const sub = await tally(['workspace', 'create', '--help'], database.url);
    expect(sub.stdout).toContain('--admin-email <email>');
    expect(sub.stdout).toContain('--currency <code>');
  });
});

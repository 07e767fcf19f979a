import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createAuth } from '@tally/api';
import { eq, type Database } from '@tally/db';
import { createTestDatabaseUrl, testDialects } from '@tally/db/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { PUBLIC_URL, runTally, spawnTally, withCliDatabase } from './cli-harness';

// Each case spawns the CLI (tsx compiles it on start): slower than an in-process call.
vi.setConfig({ testTimeout: 120_000 });

const serverDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const STRONG = 'quartz lantern orbit meadow 42';

/** Run `tally <args>` as an operator would (a child process); the many-case tests below run the same entry point in process. */
const tally = spawnTally;
const tallyInProcess = runTally;

describe.each(testDialects)('pnpm tally admin create ($name)', ({ name: dialect }) => {
  let database: { url: string; drop(): Promise<void> };
  beforeAll(async () => {
    database = await createTestDatabaseUrl(dialect);
  });
  afterAll(async () => {
    await database.drop();
  });

  /** Open the CLI's database in this process (after the CLI exited: PGlite has one owner). */
  const inspect = <T>(fn: (db: Database) => Promise<T>) => withCliDatabase(database.url, fn);
  const authOn = (db: Database) => createAuth({ db, secret: 'c'.repeat(32), baseURL: PUBLIC_URL, trustedOrigins: [PUBLIC_URL], adminEmails: [] });
  const snapshot = (db: Database) =>
    Promise.all([
      db.q.select().from(db.t.users),
      db.q.select().from(db.t.workspaceMembers),
      db.q.select({ id: db.t.accounts.id, password: db.t.accounts.password }).from(db.t.accounts),
      db.q.select({ id: db.t.verifications.id }).from(db.t.verifications),
    ]);

  let userId = '';
  let workspaceId = '';

  it('creates a verified admin of the primary workspace and prints a one-time sign-in link that works for an hour', async () => {
    const run = await tally(['admin', 'create', '--email', 'Owner@Example.com', '--json'], { url: database.url });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout) as { userId: string; workspaceId: string; created: boolean; signInUrl: string };
    expect(out).toMatchObject({ created: true, userId: expect.any(String), workspaceId: expect.any(String) });
    ({ userId, workspaceId } = out);
    const link = new URL(out.signInUrl);
    expect(link.origin + link.pathname).toMatch(new RegExp(`^${PUBLIC_URL}/api/auth/reset-password/[A-Za-z0-9]{24}$`));
    expect(link.searchParams.get('callbackURL')).toBe(`${PUBLIC_URL}/reset-password`);

    await inspect(async (db) => {
      const [user] = await db.q.select().from(db.t.users).where(eq(db.t.users.id, userId));
      expect(user).toMatchObject({ email: 'owner@example.com', emailVerified: true });
      const [primary] = await db.q.select().from(db.t.workspaces);
      expect(primary!.id).toBe(workspaceId);
      expect(await db.q.select().from(db.t.workspaceMembers).where(eq(db.t.workspaceMembers.userId, userId))).toMatchObject([{ workspaceId, role: 'admin' }]);
      expect(await db.q.select().from(db.t.customerMemberships).where(eq(db.t.customerMemberships.userId, userId))).toEqual([]);
      const [verification] = await db.q.select().from(db.t.verifications);
      const ttl = verification!.expiresAt.getTime() - Date.now();
      expect(ttl).toBeGreaterThan(55 * 60_000);
      expect(ttl).toBeLessThanOrEqual(60 * 60_000);

      // Following the link as a browser does: better-auth redirects to the SPA's reset page with the token ...
      const auth = authOn(db);
      const res = await auth.handler(new Request(out.signInUrl));
      expect(res.status).toBe(302);
      const target = new URL(res.headers.get('location')!);
      expect(target.origin + target.pathname).toBe(`${PUBLIC_URL}/reset-password`);
      const token = target.searchParams.get('token')!;
      // ... where choosing a password signs the admin in with it, once.
      await auth.api.resetPassword({ body: { token, newPassword: STRONG } });
      const signedIn = await auth.api.signInEmail({ body: { email: 'owner@example.com', password: STRONG } });
      expect(signedIn.user.id).toBe(userId);
      await expect(auth.api.resetPassword({ body: { token, newPassword: `${STRONG} again` } })).rejects.toMatchObject({ statusCode: 400 });
    });
  });

  it('--password-stdin sets the password (policy-checked) on an existing admin; running again changes no role', async () => {
    const password = 'violet harbor tundra cobalt 7';
    const run = await tally(['admin', 'create', '--email', 'owner@example.com', '--password-stdin', '--json'], { url: database.url, stdin: `${password}\n` });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ userId, workspaceId, created: false });
    await inspect(async (db) => {
      const auth = authOn(db);
      expect((await auth.api.signInEmail({ body: { email: 'owner@example.com', password } })).user.id).toBe(userId);
      await expect(auth.api.signInEmail({ body: { email: 'owner@example.com', password: STRONG } })).rejects.toMatchObject({ statusCode: 401 });
      expect(await db.q.select().from(db.t.workspaceMembers)).toHaveLength(1);
      expect(await db.q.select().from(db.t.users)).toHaveLength(1);
    });
  });

  it('an address someone registered first but never verified: their password and sessions are discarded', async () => {
    const squatter = 'squatter password lemon 99';
    await inspect(async (db) => {
      const { user } = await authOn(db).api.signUpEmail({ body: { email: 'boss@example.com', password: squatter, name: 'Not the boss' } });
      await db.q.insert(db.t.sessions).values({ id: `s-${user.id}`, token: `t-${user.id}`, userId: user.id, expiresAt: new Date(Date.now() + 86_400_000) });
    });
    const run = await tallyInProcess(['admin', 'create', '--email', 'boss@example.com', '--workspace', 'primary'], { url: database.url });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('never verified');
    expect(run.stdout).toMatch(/\/api\/auth\/reset-password\/[A-Za-z0-9]{24}\?callbackURL=/);
    await inspect(async (db) => {
      const [boss] = await db.q.select().from(db.t.users).where(eq(db.t.users.email, 'boss@example.com'));
      expect(boss!.emailVerified).toBe(true);
      expect(await db.q.select().from(db.t.sessions).where(eq(db.t.sessions.userId, boss!.id))).toEqual([]);
      await expect(authOn(db).api.signInEmail({ body: { email: 'boss@example.com', password: squatter } })).rejects.toMatchObject({ statusCode: 401 });
    });
  });

  it('bad input: a one-line message, exit 1, and nothing changed', async () => {
    const before = await inspect(snapshot);
    const cases: { args: string[]; stdin?: string; message: RegExp }[] = [
      { args: ['--email', 'not-an-email'], message: /^tally: Invalid email address: "not-an-email"$/ },
      { args: ['--email', 'new@example.com', '--workspace', 'no-such-workspace'], message: /^tally: No workspace with id or slug "no-such-workspace"$/ },
      { args: ['--email', 'new@example.com', '--password-stdin'], stdin: '12345678\n', message: /^tally: Password must be at least 12 characters/ },
      { args: ['--email', 'new@example.com', '--password-stdin'], stdin: 'passwordpassword\n', message: /^tally: Password is too easy to guess/ },
      { args: ['--email', 'new@example.com', '--password-stdin'], stdin: '', message: /^tally: --password-stdin: no password on standard input$/ },
    ];
    for (const [i, c] of cases.entries()) {
      const run = await (i === 0 ? tally : tallyInProcess)(['admin', 'create', ...c.args], { url: database.url, stdin: c.stdin });
      expect(run.code, c.args.join(' ')).toBe(1);
      expect(run.stdout).toBe('');
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
      expect(run.stderr.trim()).toMatch(c.message);
    }
    expect(await inspect(snapshot)).toEqual(before);
  });

  it('usage: --help prints help and exits 0; a missing --email exits 1', async () => {
    const help = await tallyInProcess(['--help'], { url: database.url });
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: tally');
    expect(help.stdout).toContain('admin');
    const missing = await tallyInProcess(['admin', 'create'], { url: database.url });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("required option '--email <email>' not specified");
  });
});

describe('the root `pnpm tally` script', () => {
  it('passes its arguments through: `pnpm tally --help` prints the CLI help', async () => {
    const repoRoot = path.resolve(serverDir, '../..');
    const run = await new Promise<{ code: number | null; stdout: string }>((resolve, reject) => {
      const child = spawn('pnpm', ['tally', '--help'], { cwd: repoRoot, env: { PATH: process.env.PATH }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.once('error', reject);
      child.once('close', (code) => resolve({ code, stdout }));
    });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Usage: tally [options] [command]');
    expect(run.stdout).toMatch(/admin\s+workspace admins/);
  });
});

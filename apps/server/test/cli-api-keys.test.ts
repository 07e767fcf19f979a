/**
 * `pnpm tally workspace api-keys create | list | revoke` (issue 8 item 4), run as an operator
 * would (one spawned process; the rest through the CLI entry point in process) on a fresh
 * database of each dialect, in production with no Stripe keys.
 */
import { createHash } from 'node:crypto';
import { authenticateApiKey } from '@tally/api';
import { eq } from '@tally/db';
import { createTestDatabaseUrl, testDialects } from '@tally/db/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { newId } from '../../../packages/api/src/ids';
import { runTally, spawnTally, withCliDatabase } from './cli-harness';

vi.setConfig({ testTimeout: 120_000 });

const KEY = /tly_(?:live|test)_[0-9A-Za-z]{43}/;
const tally = (args: string[], url: string) => runTally(args, { url });
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

describe.each(testDialects)('pnpm tally workspace api-keys ($name)', ({ name: dialect }) => {
  let database: { url: string; drop(): Promise<void> };
  let acme: { workspaceId: string; slug: string };
  beforeAll(async () => {
    database = await createTestDatabaseUrl(dialect);
  });
  afterAll(async () => {
    await database.drop();
  });

  it('says so when there is no workspace yet', async () => {
    const run = await tally(['workspace', 'api-keys', 'list'], database.url);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe('tally: No workspaces yet (the server creates the primary one at first start)\n');
  });

  it('create prints the key once (spawned, as an operator runs it); only its hash is stored', async () => {
    const ws = await tally(['workspace', 'create', '--name', 'Acme Voice', '--admin-email', 'ops@acme.test', '--json'], database.url);
    expect(ws.code).toBe(0);
    const parsed = JSON.parse(ws.stdout) as { workspaceId: string; slug: string };
    acme = { workspaceId: parsed.workspaceId, slug: parsed.slug };

    const run = await spawnTally(['workspace', 'api-keys', 'create', '--workspace', acme.slug, '--name', 'voice backend', '--mode', 'live'], { url: database.url });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const key = run.stdout.match(KEY)?.[0];
    expect(key).toMatch(/^tly_live_/);
    expect(run.stdout).toMatch(/^Created live API key "voice backend" \([0-9a-f-]{36}\) for workspace acme-voice:\n\n {2}tly_live_[0-9A-Za-z]{43}\n\nStore it now: it is shown only this once\. Send it as Authorization: Bearer <key>\.\n$/);

    await withCliDatabase(database.url, async (db) => {
      const rows = await db.q.select().from(db.t.apiKeys);
      expect(rows).toMatchObject([{ workspaceId: acme.workspaceId, name: 'voice backend', mode: 'live', keyHash: sha256(key!), displayPrefix: key!.slice(0, 14), revokedAt: null }]);
      expect(JSON.stringify(rows)).not.toContain(key!.slice(14));
      expect(await authenticateApiKey(db, key)).toEqual({ workspaceId: acme.workspaceId, keyId: rows[0]!.id, mode: 'live' });
      const audit = await db.q.select().from(db.t.auditLog).where(eq(db.t.auditLog.action, 'api_key.create'));
      expect(audit).toMatchObject([{ workspaceId: acme.workspaceId, actorLabel: 'cli', targetId: rows[0]!.id }]);
      expect(JSON.stringify(audit)).not.toContain(key!.slice(14));
    });
  });

  it('create --json; the primary workspace by default; list shows prefixes and never a key; revoke stops the key', async () => {
    const created = await tally(['workspace', 'api-keys', 'create', '--name', 'ci', '--mode', 'test', '--json'], database.url);
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    const out = JSON.parse(created.stdout) as { id: string; key: string; displayPrefix: string; name: string; mode: string; workspaceId: string; createdAt: string };
    expect(out).toMatchObject({ name: 'ci', mode: 'test', key: expect.stringMatching(/^tly_test_[0-9A-Za-z]{43}$/), createdAt: expect.stringMatching(/Z$/) });
    expect(out.displayPrefix).toBe(out.key.slice(0, 14));
    // No --workspace: the primary (the oldest, which `workspace create` made first), not Acme.
    expect(out.workspaceId).not.toBe(acme.workspaceId);
    const primary = out.workspaceId;

    const listed = await tally(['workspace', 'api-keys', 'list', '--workspace', primary, '--json'], database.url);
    expect(listed.code).toBe(0);
    expect(listed.stdout).not.toContain(out.key.slice(14));
    expect(JSON.parse(listed.stdout)).toEqual([{ id: out.id, name: 'ci', mode: 'test', displayPrefix: out.displayPrefix, createdByUserId: null, createdAt: out.createdAt, lastUsedAt: null, revokedAt: null }]);

    const human = await tally(['workspace', 'api-keys', 'list', '--workspace', acme.slug], database.url);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^[0-9a-f-]{36} {2}tly_live_[0-9A-Za-z]{5}\.\.\. {2}live {2}"voice backend" {2}created \S+Z {2}last used \S+Z {2}active\n$/);

    // Revoking with the wrong workspace: not found (keys are per workspace).
    const wrong = await tally(['workspace', 'api-keys', 'revoke', out.id, '--workspace', acme.slug], database.url);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toBe('tally: API key not found\n');

    const revoked = await tally(['workspace', 'api-keys', 'revoke', out.id, '--json'], database.url);
    expect(revoked.code).toBe(0);
    expect(JSON.parse(revoked.stdout)).toMatchObject({ id: out.id, alreadyRevoked: false, revokedAt: expect.stringMatching(/Z$/) });
    const again = await tally(['workspace', 'api-keys', 'revoke', out.id], database.url);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^API key [0-9a-f-]{36} was already revoked \(\S+Z\)\.\n$/);
    await withCliDatabase(database.url, async (db) => {
      expect(await authenticateApiKey(db, out.key)).toBeNull();
    });
    const afterList = await tally(['workspace', 'api-keys', 'list'], database.url);
    expect(afterList.stdout).toMatch(/ {2}"ci" {2}created \S+ {2}last used never {2}revoked \S+Z\n$/);
  });

  it('bad input: one clear line and exit 1, nothing written', async () => {
    const count = () => withCliDatabase(database.url, async (db) => (await db.q.select().from(db.t.apiKeys)).length);
    const before = await count();
    const cases: Array<[string[], RegExp]> = [
      [['create', '--name', 'x'], /required option '--mode <mode>' not specified/],
      [['create', '--name', 'x', '--mode', 'prod'], /option '--mode <mode>' argument 'prod' is invalid\. Allowed choices are live, test\./],
      [['create', '--mode', 'test'], /required option '--name <name>' not specified/],
      [['create', '--name', '   ', '--mode', 'test'], /^tally: name must not be empty\n$/],
      [['create', '--name', 'x'.repeat(101), '--mode', 'test'], /^tally: name must be at most 100 characters\n$/],
      [['create', '--name', 'ok', '--mode', 'test', '--workspace', 'nope'], /^tally: No workspace "nope" \(give its id or slug; see pnpm tally workspace list\)\n$/],
      [['revoke', 'not-a-uuid'], /^tally: keyId must be a Tally id \(a UUID\)\n$/],
      [['revoke', newId()], /^tally: API key not found\n$/],
      [['revoke'], /missing required argument 'keyId'/],
    ];
    for (const [args, message] of cases) {
      const run = await tally(['workspace', 'api-keys', ...args], database.url);
      expect(run.code, args.join(' ')).toBe(1);
      expect(run.stderr, args.join(' ')).toMatch(message);
      expect(run.stdout, args.join(' ')).toBe('');
    }
    expect(await count()).toBe(before);
  });
});

/**
 * Workspace API keys (issue 8 item 4, issue 9 item 2): created once in full, stored as a
 * SHA-256 only, authenticated by shape then hash, revoked for good, scoped to their workspace.
 */
import { createHash } from 'node:crypto';
import { eq } from '@tally/db';
import { testDialects, type TestDatabase } from '@tally/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authenticateApiKey, LAST_USED_RESOLUTION_MS } from '../src/api-keys/authenticate';
import { createApiKey, randomBase62 } from '../src/api-keys/create';
import { listApiKeys } from '../src/api-keys/list';
import { revokeApiKey } from '../src/api-keys/revoke';
import { AppError } from '../src/errors';
import { newId } from '../src/ids';
import { API_KEY_PATTERN, isApiKeyShaped } from '../src/schemas/api-keys';
import { seedTenants } from './helpers';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const errorOf = async (p: Promise<unknown>) => p.then(
  () => 'resolved',
  (e: unknown) => (e instanceof AppError ? `${e.code}: ${e.message}` : `not an AppError: ${String(e)}`),
);

describe('key format', () => {
  it('is tly_<mode>_ + 43 base62 characters, uniform over the alphabet', () => {
    const sample = randomBase62(62 * 2000);
    expect(sample).toMatch(/^[0-9A-Za-z]+$/);
    const counts = new Map<string, number>();
    for (const ch of sample) counts.set(ch, (counts.get(ch) ?? 0) + 1);
    expect(counts.size).toBe(62);
    // Expected 2000 each (sd ~44); a biased generator (byte % 62 without rejection) gives the first 8 symbols ~2420.
    for (const n of counts.values()) {
      expect(n).toBeGreaterThan(1750);
      expect(n).toBeLessThan(2250);
    }
  });

  it('isApiKeyShaped refuses everything but the exact shape', () => {
    const good = `tly_test_${'a'.repeat(43)}`;
    expect(isApiKeyShaped(good)).toBe(true);
    expect(isApiKeyShaped(`tly_live_${'Z9'.repeat(21)}x`)).toBe(true);
    for (const bad of [
      '',
      'tly_test_',
      `tly_test_${'a'.repeat(42)}`,
      `tly_test_${'a'.repeat(44)}`,
      `tly_prod_${'a'.repeat(43)}`,
      `TLY_TEST_${'a'.repeat(43)}`,
      `tly_test_${'a'.repeat(42)}-`,
      `tly_test_${'a'.repeat(42)}\u0000`,
      ` tly_test_${'a'.repeat(43)}`,
      `sk_test_${'a'.repeat(43)}`,
      'x'.repeat(1_000_000),
      42,
      null,
      undefined,
      { key: good },
    ]) {
      expect(isApiKeyShaped(bad), JSON.stringify(String(bad).slice(0, 60))).toBe(false);
    }
  });
});

describe.each(testDialects)('workspace API keys ($name)', ({ create }) => {
  let db: TestDatabase;
  let acme: Awaited<ReturnType<typeof seedTenants>>;
  let globex: Awaited<ReturnType<typeof seedTenants>>;

  beforeAll(async () => {
    db = await create();
    acme = await seedTenants(db);
    globex = await seedTenants(db);
  });
  afterAll(() => db.destroy());

  it('create returns the key once; only its SHA-256 is stored, never the key', async () => {
    const created = await createApiKey(db, { workspaceId: acme.workspaceId, name: '  voice backend ', mode: 'test', createdByUserId: acme.admin.userId, actor: { userId: acme.admin.userId, email: acme.admin.email } });
    expect(created.key).toMatch(API_KEY_PATTERN);
    expect(created.key.startsWith('tly_test_')).toBe(true);
    expect(created.displayPrefix).toBe(created.key.slice(0, 'tly_test_'.length + 5));
    expect(created.name).toBe('voice backend');

    const [row] = await db.q.select().from(db.t.apiKeys).where(eq(db.t.apiKeys.id, created.id));
    expect(row).toMatchObject({ workspaceId: acme.workspaceId, name: 'voice backend', mode: 'test', displayPrefix: created.displayPrefix, keyHash: sha256(created.key), createdByUserId: acme.admin.userId, lastUsedAt: null, revokedAt: null });
    // Nowhere in the row (nor in the audit entry) is the key or its random part.
    const secretPart = created.key.slice('tly_test_'.length + 5);
    expect(JSON.stringify(row)).not.toContain(secretPart);
    const audit = await db.q.select().from(db.t.auditLog).where(eq(db.t.auditLog.targetId, created.id));
    expect(audit).toMatchObject([{ action: 'api_key.create', targetType: 'api_key', actorUserId: acme.admin.userId }]);
    expect(JSON.stringify(audit)).not.toContain(secretPart);

    const live = await createApiKey(db, { workspaceId: acme.workspaceId, name: 'prod', mode: 'live' });
    expect(live.key.startsWith('tly_live_')).toBe(true);
    expect(live.key).not.toBe(created.key);
  });

  it('authenticate: the key -> its workspace, id and mode; last used is written at most once a minute', async () => {
    const created = await createApiKey(db, { workspaceId: acme.workspaceId, name: 'usage', mode: 'live' });
    const t0 = new Date('2030-01-01T00:00:00Z');
    expect(await authenticateApiKey(db, created.key, { now: t0 })).toEqual({ workspaceId: acme.workspaceId, keyId: created.id, mode: 'live' });
    const lastUsed = async () => (await db.q.select({ at: db.t.apiKeys.lastUsedAt }).from(db.t.apiKeys).where(eq(db.t.apiKeys.id, created.id)))[0]!.at;
    expect(await lastUsed()).toEqual(t0);
    await authenticateApiKey(db, created.key, { now: new Date(t0.getTime() + LAST_USED_RESOLUTION_MS - 1) });
    expect(await lastUsed()).toEqual(t0);
    const t1 = new Date(t0.getTime() + LAST_USED_RESOLUTION_MS + 1);
    await authenticateApiKey(db, created.key, { now: t1 });
    expect(await lastUsed()).toEqual(t1);
  });

  it('authenticate: unknown, wrongly shaped and near-miss keys -> null', async () => {
    const created = await createApiKey(db, { workspaceId: acme.workspaceId, name: 'near', mode: 'test' });
    const flipped = created.key.slice(0, -1) + (created.key.endsWith('a') ? 'b' : 'a');
    const otherMode = created.key.replace('tly_test_', 'tly_live_');
    for (const bad of [flipped, otherMode, created.key.toUpperCase(), `${created.key} `, created.key.slice(0, -1), `tly_test_${'0'.repeat(43)}`, '', 'Bearer x', `${created.key}\u0000`, 'x'.repeat(100_000), 7, null, undefined, [created.key]]) {
      expect(await authenticateApiKey(db, bad)).toBeNull();
    }
    // A hash stored as a key (someone pasting the database value) does not authenticate either.
    expect(await authenticateApiKey(db, sha256(created.key))).toBeNull();
    expect(await authenticateApiKey(db, created.key)).not.toBeNull();
  });

  it('revoke: the key stops working at once; revoking again changes nothing; another workspace -> NOT_FOUND', async () => {
    const created = await createApiKey(db, { workspaceId: acme.workspaceId, name: 'to revoke', mode: 'test' });
    expect(await authenticateApiKey(db, created.key)).not.toBeNull();

    expect(await errorOf(revokeApiKey(db, { workspaceId: globex.workspaceId, keyId: created.id }))).toBe('NOT_FOUND: API key not found');
    expect(await authenticateApiKey(db, created.key)).not.toBeNull();

    const at = new Date('2031-05-05T05:05:05Z');
    const first = await revokeApiKey(db, { workspaceId: acme.workspaceId, keyId: created.id, now: at, actor: 'cli' });
    expect(first).toEqual({ id: created.id, revokedAt: at, alreadyRevoked: false });
    expect(await authenticateApiKey(db, created.key)).toBeNull();
    const again = await revokeApiKey(db, { workspaceId: acme.workspaceId, keyId: created.id, actor: 'cli' });
    expect(again).toEqual({ id: created.id, revokedAt: at, alreadyRevoked: true });
    const audit = await db.q.select().from(db.t.auditLog).where(eq(db.t.auditLog.targetId, created.id));
    expect(audit.map((a) => a.action)).toEqual(['api_key.revoke']);

    expect(await errorOf(revokeApiKey(db, { workspaceId: acme.workspaceId, keyId: newId() }))).toBe('NOT_FOUND: API key not found');
    expect(await errorOf(revokeApiKey(db, { workspaceId: acme.workspaceId, keyId: 'not-a-uuid' }))).toBe('BAD_REQUEST: keyId must be a Tally id (a UUID)');
    expect(await errorOf(revokeApiKey(db, { workspaceId: acme.workspaceId, keyId: `${created.id}\u0000` }))).toMatch(/^BAD_REQUEST/);
  });

  it('list: the workspace\'s keys only, newest first, with prefix, name, mode, dates; never the key or hash', async () => {
    const ws = (await seedTenants(db)).workspaceId;
    const a = await createApiKey(db, { workspaceId: ws, name: 'first', mode: 'test' });
    const b = await createApiKey(db, { workspaceId: ws, name: 'second', mode: 'live' });
    await revokeApiKey(db, { workspaceId: ws, keyId: a.id });
    const rows = await listApiKeys(db, { workspaceId: ws });
    expect(rows.map((r) => [r.id, r.name, r.mode, r.displayPrefix, r.revokedAt !== null])).toEqual([
      [b.id, 'second', 'live', b.displayPrefix, false],
      [a.id, 'first', 'test', a.displayPrefix, true],
    ]);
    expect(Object.keys(rows[0]!).sort()).toEqual(['createdAt', 'createdByUserId', 'displayPrefix', 'id', 'lastUsedAt', 'mode', 'name', 'revokedAt']);
    expect(await listApiKeys(db, { workspaceId: newId() })).toEqual([]);
    expect(await errorOf(listApiKeys(db, { workspaceId: "'; drop table api_keys; --" }))).toMatch(/^BAD_REQUEST/);
  });

  it('create refuses bad names, modes and workspace ids before writing anything', async () => {
    const before = (await db.q.select().from(db.t.apiKeys)).length;
    const ws = acme.workspaceId;
    expect(await errorOf(createApiKey(db, { workspaceId: ws, name: '   ', mode: 'test' }))).toBe('BAD_REQUEST: name must not be empty');
    expect(await errorOf(createApiKey(db, { workspaceId: ws, name: 'x'.repeat(101), mode: 'test' }))).toBe('BAD_REQUEST: name must be at most 100 characters');
    expect(await errorOf(createApiKey(db, { workspaceId: ws, name: 'a\u0000b', mode: 'test' }))).toBe('BAD_REQUEST: name must not contain control characters');
    expect(await errorOf(createApiKey(db, { workspaceId: ws, name: 'ok', mode: 'prod' as never }))).toBe('BAD_REQUEST: mode must be live or test');
    expect(await errorOf(createApiKey(db, { workspaceId: ws, name: 42 as never, mode: 'test' }))).toMatch(/^BAD_REQUEST/);
    expect(await errorOf(createApiKey(db, { workspaceId: 'primary', name: 'ok', mode: 'test' }))).toBe('BAD_REQUEST: workspaceId must be a Tally id (a UUID)');
    expect(await errorOf(createApiKey(db, { workspaceId: newId(), name: 'ok', mode: 'test' }))).toBe('NOT_FOUND: Workspace not found');
    expect((await db.q.select().from(db.t.apiKeys)).length).toBe(before);
  });

  it("keys of two workspaces authenticate to their own workspace", async () => {
    const a = await createApiKey(db, { workspaceId: acme.workspaceId, name: 'a', mode: 'live' });
    const g = await createApiKey(db, { workspaceId: globex.workspaceId, name: 'g', mode: 'live' });
    expect((await authenticateApiKey(db, a.key))?.workspaceId).toBe(acme.workspaceId);
    expect((await authenticateApiKey(db, g.key))?.workspaceId).toBe(globex.workspaceId);
  });
});

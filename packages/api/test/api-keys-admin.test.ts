/**
 * Admin API key procedures (`apiKey.list`, `create`, `revoke`): the key is returned once and
 * works as a Bearer credential until revoked; lists never show it; names and modes are
 * validated; every call is scoped to the selected workspace. Both dialects.
 */
import { eq } from '@tally/db';
import { testDialects, type TestDatabase } from '@tally/db/testing';
import { TRPCError } from '@trpc/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authenticateApiKey } from '../src/api-keys/index';
import { callerFor, countingStripe, seedTenants } from './helpers';

const failure = (e: unknown) => (e instanceof TRPCError ? `${e.code}: ${e.message}` : `not a TRPCError: ${String(e)}`);

describe.each(testDialects)('admin API keys ($name)', ({ create }) => {
  let db: TestDatabase;
  const { stripe } = countingStripe();
  beforeAll(async () => {
    db = await create();
  });
  afterAll(() => db.destroy());

  it('creates a key shown once, lists it masked, revokes it (audited), and the revoked key stops working', async () => {
    const acme = await seedTenants(db);
    const admin = callerFor(db, stripe, acme.admin, undefined, acme.workspaceId);
    const created = await admin.apiKey.create({ name: '  voice backend ', mode: 'live' });
    expect(created.key).toMatch(/^tly_live_[0-9A-Za-z]{43}$/);
    expect(created).toMatchObject({ name: 'voice backend', mode: 'live', displayPrefix: created.key.slice(0, 'tly_live_'.length + 5) });
    expect(await authenticateApiKey(db, created.key)).toMatchObject({ workspaceId: acme.workspaceId, keyId: created.id, mode: 'live' });

    const listed = await admin.apiKey.list();
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ id: created.id, name: 'voice backend', revokedAt: null });
    expect(JSON.stringify(listed)).not.toContain(created.key);
    const [row] = await db.q.select().from(db.t.apiKeys).where(eq(db.t.apiKeys.id, created.id));
    expect(JSON.stringify(row)).not.toContain(created.key);

    const revoked = await admin.apiKey.revoke({ keyId: created.id });
    expect(revoked).toMatchObject({ id: created.id, alreadyRevoked: false });
    expect(await authenticateApiKey(db, created.key)).toBeNull();
    expect(await admin.apiKey.revoke({ keyId: created.id })).toMatchObject({ alreadyRevoked: true, revokedAt: revoked.revokedAt });
    const audit = await db.q.select().from(db.t.auditLog).where(eq(db.t.auditLog.workspaceId, acme.workspaceId));
    expect(audit.map((a) => a.action).sort()).toEqual(['api_key.create', 'api_key.revoke']);
    expect(JSON.stringify(audit)).not.toContain(created.key);
  });

  it('refuses bad names and modes, and keys of another workspace, writing nothing', async () => {
    const acme = await seedTenants(db);
    const globex = await seedTenants(db);
    const admin = callerFor(db, stripe, acme.admin, undefined, acme.workspaceId);
    for (const input of [{ name: '', mode: 'test' }, { name: '   ', mode: 'test' }, { name: 'x'.repeat(101), mode: 'test' }, { name: 'a\u0000b', mode: 'test' }, { name: 'ok', mode: 'prod' }, { name: 'ok' }]) {
      expect(failure(await admin.apiKey.create(input as never).catch((e: unknown) => e))).toMatch(/^BAD_REQUEST/);
    }
    expect(await admin.apiKey.list()).toEqual([]);
    const theirs = await callerFor(db, stripe, globex.admin, undefined, globex.workspaceId).apiKey.create({ name: 'globex', mode: 'test' });
    expect(failure(await admin.apiKey.revoke({ keyId: theirs.id }).catch((e: unknown) => e))).toMatch(/^NOT_FOUND/);
    expect(failure(await admin.apiKey.revoke({ keyId: 'not-a-uuid' }).catch((e: unknown) => e))).toMatch(/^BAD_REQUEST/);
    expect(await authenticateApiKey(db, theirs.key)).toMatchObject({ workspaceId: globex.workspaceId });
    expect(failure(await callerFor(db, stripe, acme.alice).apiKey.list().catch((e: unknown) => e))).toMatch(/^FORBIDDEN/);
  });
});

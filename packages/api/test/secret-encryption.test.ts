import { randomBytes } from 'node:crypto';
import { eq, type Database } from '@tally/db';
import { testDialects, type TestDatabase } from '@tally/db/testing';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../src/ids';
import { generateLicenseKey, hashLicenseKey, licenseKeyLast4 } from '../src/licenses/key';
import { decryptSecret, encryptSecret, isSealedWithOldKey, parseSecretKey, resealSecret, SecretDecryptionError, secretKeyId, type SecretKeyring } from '../src/secrets/encryption';
import { rotateWorkspaceSecrets, secretsStatus, type RotateProgress } from '../src/secrets/rotate';
import { createStripeAccounts } from '../src/stripe/accounts';
import { resolveWebhookEndpoint } from '../src/webhooks/endpoint';

const SECRET = 'sk_test_0123456789abcdefFAKE';
const keyA = randomBytes(32);
const keyB = randomBytes(32);

describe('workspace secret encryption (AES-256-GCM, workspace id as AAD)', () => {
  it('round-trips, with a fresh nonce each time and no trace of the plaintext', () => {
    const keyring = { current: keyA };
    const one = encryptSecret({ keyring, workspaceId: 'ws-1', plaintext: SECRET });
    const two = encryptSecret({ keyring, workspaceId: 'ws-1', plaintext: SECRET });
    expect(one).not.toBe(two);
    expect(one).not.toContain(SECRET.slice(8));
    expect(one.split('.')).toHaveLength(5);
    expect(one.split('.')[1]).toBe(secretKeyId(keyA));
    expect(decryptSecret({ keyring, workspaceId: 'ws-1', sealed: one })).toBe(SECRET);
    expect(decryptSecret({ keyring, workspaceId: 'ws-1', sealed: two })).toBe(SECRET);
  });

  it("refuses a value moved to another workspace's row, a tampered one, an unknown key and garbage", () => {
    const keyring = { current: keyA };
    const sealed = encryptSecret({ keyring, workspaceId: 'ws-1', plaintext: SECRET });
    expect(() => decryptSecret({ keyring, workspaceId: 'ws-2', sealed })).toThrow(SecretDecryptionError);
    const parts = sealed.split('.');
    const flipped = Buffer.from(parts[3]!, 'base64url');
    flipped[0]! ^= 1;
    const tampered = [...parts.slice(0, 3), flipped.toString('base64url'), parts[4]].join('.');
    expect(() => decryptSecret({ keyring, workspaceId: 'ws-1', sealed: tampered })).toThrow(/authentication failed/);
    expect(() => decryptSecret({ keyring: { current: keyB }, workspaceId: 'ws-1', sealed })).toThrow(/neither TALLY_SECRET_ENCRYPTION_KEY/);
    for (const garbage of ['', 'v1.x', SECRET, 'v2.a.b.c.d']) expect(() => decryptSecret({ keyring, workspaceId: 'ws-1', sealed: garbage })).toThrow(SecretDecryptionError);
    try {
      decryptSecret({ keyring, workspaceId: 'ws-2', sealed });
    } catch (err) {
      expect(String(err)).not.toContain(SECRET);
    }
  });

  it('rotates: the previous key still opens old values, resealing moves them to the new key, then the old key is not needed', () => {
    const old = encryptSecret({ keyring: { current: keyA }, workspaceId: 'ws-1', plaintext: SECRET });
    const rotating = { current: keyB, previous: keyA };
    expect(isSealedWithOldKey(rotating, old)).toBe(true);
    expect(decryptSecret({ keyring: rotating, workspaceId: 'ws-1', sealed: old })).toBe(SECRET);
    const resealed = resealSecret({ keyring: rotating, workspaceId: 'ws-1', sealed: old });
    expect(isSealedWithOldKey(rotating, resealed)).toBe(false);
    expect(resealSecret({ keyring: rotating, workspaceId: 'ws-1', sealed: resealed })).toBe(resealed);
    expect(decryptSecret({ keyring: { current: keyB }, workspaceId: 'ws-1', sealed: resealed })).toBe(SECRET);
  });

  it('parses 32-byte keys from base64 or hex and refuses anything else without echoing it', () => {
    expect(parseSecretKey(keyA.toString('base64')).equals(keyA)).toBe(true);
    expect(parseSecretKey(keyA.toString('base64url')).equals(keyA)).toBe(true);
    expect(parseSecretKey(keyA.toString('hex')).equals(keyA)).toBe(true);
    for (const bad of ['', 'short', randomBytes(16).toString('base64'), randomBytes(33).toString('hex'), 'not base64 at all!']) {
      expect(() => parseSecretKey(bad)).toThrow(/must be 32 bytes/);
    }
  });
});

/** Workspace rows with sealed secrets, as Settings -> Stripe stores them. */
describe.each(testDialects)('stored workspace secrets ($name)', ({ create }) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await create();
  });
  afterAll(() => db.destroy());

  const accountsWith = (keyring: SecretKeyring | null) =>
    createStripeAccounts({ deployment: { mode: 'none', client: null, webhookSecret: null }, keyring, createClient: (key) => new Stripe(key, { maxNetworkRetries: 0 }) });

  /** A workspace with its own key and webhook secret sealed under `keyring`. */
  async function workspaceWithSecrets(keyring: SecretKeyring, { webhook = true } = {}) {
    const workspaceId = newId();
    const secretKey = `sk_test_${randomBytes(12).toString('hex')}`;
    const webhookSecret = `whsec_${randomBytes(12).toString('hex')}`;
    await db.q.insert(db.t.workspaces).values({ id: workspaceId, name: 'W', slug: `w-${workspaceId}`, currency: 'usd' });
    await db.q.insert(db.t.workspaceStripeAccounts).values({
      workspaceId,
      secretKeySealed: encryptSecret({ keyring, workspaceId, plaintext: secretKey }),
      keyKind: 'secret',
      mode: 'test',
      keyLast4: secretKey.slice(-4),
      webhookSecretSealed: webhook ? encryptSecret({ keyring, workspaceId, plaintext: webhookSecret }) : null,
      webhookSecretLast4: webhook ? webhookSecret.slice(-4) : null,
      savedByUserId: 'seed',
      savedAt: new Date(),
    });
    return { workspaceId, secretKey, webhookSecret };
  }
  const rowOf = async (workspaceId: string) => (await db.q.select().from(db.t.workspaceStripeAccounts).where(eq(db.t.workspaceStripeAccounts.workspaceId, workspaceId)))[0]!;

  /**
   * A customer and subscription of `workspaceId` with one license per spec, as license
   * reconciliation issues them: its key sealed under `sealedWith` (for `sealFor`, the workspace
   * by default) and not yet revealed, a `stored` value as is, or `revealed` (ciphertext erased).
   */
  async function licensesOf(workspaceId: string, specs: ({ sealedWith: SecretKeyring; sealFor?: string } | { stored: string } | 'revealed')[]) {
    const customerId = newId();
    const subscriptionId = newId();
    await db.q.insert(db.t.customers).values({ id: customerId, workspaceId, name: 'C' });
    await db.q.insert(db.t.subscriptions).values({
      id: subscriptionId,
      workspaceId,
      customerId,
      stripeSubscriptionId: `sub_${randomBytes(8).toString('hex')}`,
      stripeCustomerId: `cus_${randomBytes(8).toString('hex')}`,
      status: 'active',
      seats: specs.length,
    });
    const issued: { id: string; key: string }[] = [];
    for (const [i, spec] of specs.entries()) {
      const id = newId();
      const key = generateLicenseKey();
      await db.q.insert(db.t.licenses).values({
        id,
        workspaceId,
        customerId,
        subscriptionId,
        sequence: i + 1,
        keyHash: hashLicenseKey(key),
        keyLast4: licenseKeyLast4(key),
        keyCiphertext: spec === 'revealed' ? null : 'stored' in spec ? spec.stored : encryptSecret({ keyring: spec.sealedWith, workspaceId: spec.sealFor ?? workspaceId, plaintext: key }),
        revealedAt: spec === 'revealed' ? new Date('2026-01-02T03:04:05.000Z') : null,
        status: 'active',
      });
      issued.push({ id, key });
    }
    return issued;
  }
  const licenseRow = async (id: string) => (await db.q.select().from(db.t.licenses).where(eq(db.t.licenses.id, id)))[0]!;

  it("a sealed value copied into another workspace's row does not decrypt there (that workspace is not configured)", async () => {
    const keyring = { current: keyA };
    const a = await workspaceWithSecrets(keyring);
    const b = await workspaceWithSecrets(keyring);
    const accounts = accountsWith(keyring);
    expect(await accounts.forWorkspace(db, a.workspaceId)).toMatchObject({ configured: true, source: 'workspace', webhookSecret: a.webhookSecret });

    const stolen = await rowOf(a.workspaceId);
    await db.q.update(db.t.workspaceStripeAccounts).set({ secretKeySealed: stolen.secretKeySealed }).where(eq(db.t.workspaceStripeAccounts.workspaceId, b.workspaceId));
    const moved = await accounts.forWorkspace(db, b.workspaceId);
    expect(moved).toMatchObject({ configured: false, source: 'workspace', webhookSecret: null });
    expect(moved.configured ? '' : moved.reason).toContain('cannot be decrypted');
    expect(JSON.stringify(moved)).not.toContain(a.secretKey);
    // Only the webhook secret moved: also refused.
    const c = await workspaceWithSecrets(keyring);
    await db.q.update(db.t.workspaceStripeAccounts).set({ webhookSecretSealed: stolen.webhookSecretSealed }).where(eq(db.t.workspaceStripeAccounts.workspaceId, c.workspaceId));
    expect(await accounts.forWorkspace(db, c.workspaceId)).toMatchObject({ configured: false });
    // The webhook URL of such a workspace takes no events (409), rather than verifying with a moved secret.
    const endpoint = await resolveWebhookEndpoint({ db, stripeAccounts: accounts, publicUrl: 'http://tally.test', workspaceId: c.workspaceId });
    expect(endpoint).toMatchObject({ ok: false, httpStatus: 409 });
  });

  it('tampered ciphertext fails to decrypt: the workspace is not configured', async () => {
    const keyring = { current: keyA };
    const { workspaceId } = await workspaceWithSecrets(keyring);
    const parts = (await rowOf(workspaceId)).secretKeySealed.split('.');
    const flipped = Buffer.from(parts[3]!, 'base64url');
    flipped[flipped.length - 1]! ^= 0x20;
    await db.q
      .update(db.t.workspaceStripeAccounts)
      .set({ secretKeySealed: [...parts.slice(0, 3), flipped.toString('base64url'), parts[4]].join('.') })
      .where(eq(db.t.workspaceStripeAccounts.workspaceId, workspaceId));
    expect(await accountsWith(keyring).forWorkspace(db, workspaceId)).toMatchObject({ configured: false, source: 'workspace' });
    // And a value no key opens: the same.
    const other = await workspaceWithSecrets({ current: keyB });
    expect(await accountsWith(keyring).forWorkspace(db, other.workspaceId)).toMatchObject({ configured: false });
    // No keyring at all: stored keys cannot be used, and nothing crashes.
    expect(await accountsWith(null).forWorkspace(db, other.workspaceId)).toMatchObject({ configured: false, source: 'workspace' });
  });

  it('rotation re-encrypts every value in short batches, is idempotent, and afterwards the old key is not needed', async () => {
    const oldKey = randomBytes(32);
    const newKey = randomBytes(32);
    const before: Awaited<ReturnType<typeof workspaceWithSecrets>>[] = [];
    for (let i = 0; i < 5; i++) before.push(await workspaceWithSecrets({ current: oldKey }, { webhook: i !== 2 }));
    const rotating = { current: newKey, previous: oldKey };
    const ours = (ids: string[]) => ids.filter((id) => before.some((w) => w.workspaceId === id));

    const status = await secretsStatus({ db, keyring: rotating });
    expect(status.byKey.find((k) => k.keyId === secretKeyId(oldKey))).toEqual({ keyId: secretKeyId(oldKey), values: 9, role: 'previous' });
    expect(status.byKey.find((k) => k.keyId === secretKeyId(newKey))).toBeUndefined();

    const progress: { done: number; total: number }[] = [];
    const result = await rotateWorkspaceSecrets({ db, keyring: rotating, batchSize: 2, onProgress: (p) => progress.push(p) });
    // Rows of earlier tests are sealed with keys this keyring lacks (or are tampered): they fail, ours rotate.
    expect(result.rotated).toBe(9);
    expect(result.changedMeanwhile).toBe(0);
    expect(ours(result.failed.map((f) => f.workspaceId))).toEqual([]);
    expect(progress.length).toBe(Math.ceil(result.rows / 2));
    expect(progress.at(-1)).toEqual({ done: result.rows, total: result.rows, workspaces: { done: result.rows, total: result.rows }, licenses: { done: 0, total: 0 } });
    for (const w of before) {
      const row = await rowOf(w.workspaceId);
      expect(row.secretKeySealed.split('.')[1]).toBe(secretKeyId(newKey));
      expect(row.secretKeySealed).not.toContain(w.secretKey.slice(8));
    }

    // Again: nothing left to do.
    const again = await rotateWorkspaceSecrets({ db, keyring: rotating });
    expect(again.rotated).toBe(0);
    expect(again.alreadyCurrent).toBeGreaterThanOrEqual(9);
    expect((await secretsStatus({ db, keyring: { current: newKey } })).byKey.find((k) => k.keyId === secretKeyId(newKey))).toMatchObject({ values: 9, role: 'current' });

    // The previous key is no longer needed: a keyring with only the new key opens everything.
    const accounts = accountsWith({ current: newKey });
    for (const [i, w] of before.entries()) {
      const stripe = await accounts.forWorkspace(db, w.workspaceId);
      expect(stripe).toMatchObject({ configured: true, source: 'workspace', webhookSecret: i === 2 ? null : w.webhookSecret });
      expect(decryptSecret({ keyring: { current: newKey }, workspaceId: w.workspaceId, sealed: (await rowOf(w.workspaceId)).secretKeySealed })).toBe(w.secretKey);
    }
    // ... while the old key alone no longer opens them.
    expect(await accountsWith({ current: oldKey }).forWorkspace(db, before[0]!.workspaceId)).toMatchObject({ configured: false });
  });

  it('a value neither key opens is reported with its workspace id, and the others still rotate', async () => {
    const oldKey = randomBytes(32);
    const newKey = randomBytes(32);
    const good = await workspaceWithSecrets({ current: oldKey });
    const lost = await workspaceWithSecrets({ current: randomBytes(32) }, { webhook: false });
    const result = await rotateWorkspaceSecrets({ db, keyring: { current: newKey, previous: oldKey } });
    expect(result.failed.filter((f) => f.workspaceId === lost.workspaceId)).toEqual([
      {
        table: 'workspace_stripe_accounts',
        rowId: lost.workspaceId,
        workspaceId: lost.workspaceId,
        column: 'secretKeySealed',
        reason: expect.stringContaining('neither TALLY_SECRET_ENCRYPTION_KEY nor TALLY_SECRET_ENCRYPTION_KEY_PREVIOUS'),
      },
    ]);
    expect(result.failed.some((f) => f.workspaceId === good.workspaceId)).toBe(false);
    expect(JSON.stringify(result)).not.toContain(lost.secretKey.slice(8));
    expect((await rowOf(good.workspaceId)).secretKeySealed.split('.')[1]).toBe(secretKeyId(newKey));
  });
  it('license keys not yet revealed are re-sealed too and open to the same key; revealed ones are skipped; status counts them', async () => {
    const oldKey = randomBytes(32);
    const newKey = randomBytes(32);
    const rotating = { current: newKey, previous: oldKey };
    const { workspaceId } = await workspaceWithSecrets({ current: oldKey });
    const [a, b, shown, current] = await licensesOf(workspaceId, [{ sealedWith: { current: oldKey } }, { sealedWith: { current: oldKey } }, 'revealed', { sealedWith: { current: newKey } }]);
    const shownBefore = await licenseRow(shown!.id);
    const currentBefore = await licenseRow(current!.id);
    expect(shownBefore.keyCiphertext).toBeNull();

    // 2 workspace values + 2 license keys under the old key; 1 license key already under the new one.
    const status = await secretsStatus({ db, keyring: rotating });
    expect(status.byKey.find((k) => k.keyId === secretKeyId(oldKey))).toEqual({ keyId: secretKeyId(oldKey), values: 4, role: 'previous' });
    expect(status.byKey.find((k) => k.keyId === secretKeyId(newKey))).toEqual({ keyId: secretKeyId(newKey), values: 1, role: 'current' });

    const progress: RotateProgress[] = [];
    const result = await rotateWorkspaceSecrets({ db, keyring: rotating, batchSize: 2, onProgress: (p) => progress.push(p) });
    // Only this test's values are under a key of this keyring: exactly they rotate.
    expect(result.rotated).toBe(4);
    expect(result.changedMeanwhile).toBe(0);
    expect(result.failed.filter((f) => f.workspaceId === workspaceId)).toEqual([]);
    // The revealed license holds no key: it is not even looked at.
    expect(result.licenseRows).toBeGreaterThanOrEqual(3);
    expect(result.alreadyCurrent).toBeGreaterThanOrEqual(1);
    // Workspaces first, then licenses, each in batches of 2.
    expect(progress).toHaveLength(Math.ceil(result.rows / 2) + Math.ceil(result.licenseRows / 2));
    const firstLicenseBatch = progress.findIndex((p) => p.licenses.done > 0);
    expect(firstLicenseBatch).toBe(Math.ceil(result.rows / 2));
    expect(progress.slice(firstLicenseBatch).every((p) => p.workspaces.done === result.rows)).toBe(true);
    for (const p of progress) expect(p.done).toBe(p.workspaces.done + p.licenses.done);
    expect(progress.at(-1)).toEqual({
      done: result.rows + result.licenseRows,
      total: result.rows + result.licenseRows,
      workspaces: { done: result.rows, total: result.rows },
      licenses: { done: result.licenseRows, total: result.licenseRows },
    });

    for (const license of [a!, b!]) {
      const row = await licenseRow(license.id);
      expect(row.keyCiphertext!.split('.')[1]).toBe(secretKeyId(newKey));
      expect(row.revealedAt).toBeNull();
      // The new key alone opens it, to the very key that was issued (its hash still matches).
      const opened = decryptSecret({ keyring: { current: newKey }, workspaceId, sealed: row.keyCiphertext! });
      expect(opened).toBe(license.key);
      expect(hashLicenseKey(opened)).toBe(row.keyHash);
      expect(() => decryptSecret({ keyring: { current: oldKey }, workspaceId, sealed: row.keyCiphertext! })).toThrow(SecretDecryptionError);
    }
    expect(await licenseRow(shown!.id)).toEqual(shownBefore);
    expect(await licenseRow(current!.id)).toEqual(currentBefore);
    expect((await rowOf(workspaceId)).secretKeySealed.split('.')[1]).toBe(secretKeyId(newKey));
    for (const license of [a!, b!, current!]) expect(JSON.stringify({ result, progress })).not.toContain(license.key);

    // Again: nothing left to do; the new key alone seals all 5 values, the old one none.
    const again = await rotateWorkspaceSecrets({ db, keyring: rotating });
    expect(again.rotated).toBe(0);
    expect(again.failed.filter((f) => f.workspaceId === workspaceId)).toEqual([]);
    const after = await secretsStatus({ db, keyring: { current: newKey } });
    expect(after.byKey.find((k) => k.keyId === secretKeyId(newKey))).toEqual({ keyId: secretKeyId(newKey), values: 5, role: 'current' });
    expect(after.byKey.find((k) => k.keyId === secretKeyId(oldKey))).toBeUndefined();
  });

  it('a license key neither key opens, moved from another workspace, or malformed is reported naming the license; one revealed meanwhile stays erased', async () => {
    const oldKey = randomBytes(32);
    const newKey = randomBytes(32);
    const lostKey = randomBytes(32);
    const rotating = { current: newKey, previous: oldKey };
    const { workspaceId } = await workspaceWithSecrets({ current: oldKey }, { webhook: false });
    const malformedBefore = (await secretsStatus({ db, keyring: rotating })).malformed;
    const [lost, moved, garbage, good, racing] = await licensesOf(workspaceId, [
      { sealedWith: { current: lostKey } },
      { sealedWith: { current: oldKey }, sealFor: newId() },
      { stored: 'not-a-sealed-value' },
      { sealedWith: { current: oldKey } },
      { sealedWith: { current: oldKey } },
    ]);
    const before = await Promise.all([lost!, moved!, garbage!].map((x) => licenseRow(x.id)));

    // Status counts license values per key id they name (the lost one's is neither configured key), and malformed ones.
    const status = await secretsStatus({ db, keyring: rotating });
    expect(status.byKey.find((k) => k.keyId === secretKeyId(oldKey))).toEqual({ keyId: secretKeyId(oldKey), values: 4, role: 'previous' });
    expect(status.byKey.find((k) => k.keyId === secretKeyId(lostKey))).toEqual({ keyId: secretKeyId(lostKey), values: 1, role: 'unknown' });
    expect(status.malformed).toBe(malformedBefore + 1);

    // The customer reveals `racing` after rotation read it, before it writes: the reveal wins.
    let workspacesDone = false;
    let revealedAt: Date | null = null;
    const l = db.t.licenses;
    const racingDb: Database = {
      ...db,
      transaction: async (body) => {
        if (workspacesDone && !revealedAt) {
          revealedAt = new Date();
          await db.q.update(l).set({ keyCiphertext: null, revealedAt }).where(eq(l.id, racing!.id));
        }
        return db.transaction(body);
      },
    };
    const result = await rotateWorkspaceSecrets({
      db: racingDb,
      keyring: rotating,
      batchSize: 1000,
      onProgress: (p) => {
        if (p.workspaces.done === p.workspaces.total) workspacesDone = true;
      },
    });
    expect(revealedAt).not.toBeNull();
    expect(result.changedMeanwhile).toBe(1);
    // The workspace's Stripe key and the good license rotate; the rest is not overwritten.
    expect(result.rotated).toBe(2);
    const ours = result.failed.filter((f) => f.workspaceId === workspaceId).sort((x, y) => x.rowId.localeCompare(y.rowId));
    expect(ours).toEqual(
      [
        { table: 'licenses', rowId: lost!.id, workspaceId, column: 'keyCiphertext', reason: expect.stringContaining('neither TALLY_SECRET_ENCRYPTION_KEY nor TALLY_SECRET_ENCRYPTION_KEY_PREVIOUS') },
        { table: 'licenses', rowId: moved!.id, workspaceId, column: 'keyCiphertext', reason: expect.stringContaining('authentication failed') },
        { table: 'licenses', rowId: garbage!.id, workspaceId, column: 'keyCiphertext', reason: expect.stringContaining('not a v1 sealed value') },
      ].sort((x, y) => x.rowId.localeCompare(y.rowId)),
    );
    for (const license of [lost!, moved!, good!, racing!]) expect(JSON.stringify(result)).not.toContain(license.key);
    expect(await Promise.all([lost!, moved!, garbage!].map((x) => licenseRow(x.id)))).toEqual(before);
    const goodRow = await licenseRow(good!.id);
    expect(decryptSecret({ keyring: { current: newKey }, workspaceId, sealed: goodRow.keyCiphertext! })).toBe(good!.key);
    expect(await licenseRow(racing!.id)).toMatchObject({ keyCiphertext: null, revealedAt });
    expect((await rowOf(workspaceId)).secretKeySealed.split('.')[1]).toBe(secretKeyId(newKey));
  });
});

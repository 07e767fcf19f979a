import { and, eq } from '@tally/db';
import { testDialects, type TestDatabase } from '@tally/db/testing';
import { verifyPassword } from 'better-auth/crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { newId } from '../src/ids';
import { DEMO_SIGN_INS, seedDemo, type DemoRole } from '../src/seed/demo';

const ROLES: DemoRole[] = ['admin', 'customer'];

describe.each(testDialects)('demo seed passwords ($name)', ({ create }) => {
  const opened: TestDatabase[] = [];
  const fresh = async () => {
    const db = await create();
    opened.push(db);
    return db;
  };
  afterEach(async () => {
    for (const db of opened.splice(0)) await db.destroy();
  });

  const hashOf = async (db: TestDatabase, role: DemoRole) => {
    const [row] = await db.q
      .select({ hash: db.t.accounts.password })
      .from(db.t.accounts)
      .innerJoin(db.t.users, eq(db.t.users.id, db.t.accounts.userId))
      .where(and(eq(db.t.users.email, DEMO_SIGN_INS[role].email), eq(db.t.accounts.providerId, 'credential')));
    return row!.hash!;
  };
  const verifies = async (db: TestDatabase, role: DemoRole, password: string) => verifyPassword({ hash: await hashOf(db, role), password });

  it('production generates strong passwords, different from the published ones and from another run; the published ones do not verify', async () => {
    const [a, b] = [await fresh(), await fresh()];
    const first = await seedDemo({ db: a, environment: 'production' });
    const second = await seedDemo({ db: b, environment: 'production' });
    expect(first.created).toBe(true);
    for (const role of ROLES) {
      const generated = first.signIns[role]!;
      expect(generated.email).toBe(DEMO_SIGN_INS[role].email);
      expect(generated.password).not.toBe(DEMO_SIGN_INS[role].password);
      expect(generated.password).not.toBe(second.signIns[role]!.password);
      expect(generated.password).toMatch(/^[A-Za-z0-9_-]{24}$/);
      expect(await verifies(a, role, generated.password)).toBe(true);
      expect(await verifies(a, role, DEMO_SIGN_INS[role].password)).toBe(false);
    }
    expect(first.signIns.admin!.password).not.toBe(first.signIns.customer!.password);
    // The demo users are seeded verified.
    expect((await a.q.select({ v: a.t.users.emailVerified }).from(a.t.users)).map((u) => u.v)).toEqual([true, true]);
  });

  it('production prints the generated passwords once: a later start knows none and changes nothing', async () => {
    const db = await fresh();
    const first = await seedDemo({ db, environment: 'production' });
    const hashes = await Promise.all(ROLES.map((r) => hashOf(db, r)));
    const again = await seedDemo({ db, environment: 'production' });
    expect(again).toEqual({ workspaceId: first.workspaceId, created: false, signIns: { admin: null, customer: null }, rotated: [] });
    expect(await Promise.all(ROLES.map((r) => hashOf(db, r)))).toEqual(hashes);
  });

  it('a database seeded in development and then started in production: published passwords are rotated and their sessions end', async () => {
    const db = await fresh();
    const dev = await seedDemo({ db, environment: 'development' });
    expect(dev.signIns.admin).toEqual({ email: DEMO_SIGN_INS.admin.email, password: DEMO_SIGN_INS.admin.password });
    const [admin] = await db.q.select({ id: db.t.users.id }).from(db.t.users).where(eq(db.t.users.email, DEMO_SIGN_INS.admin.email));
    await db.q.insert(db.t.sessions).values({ id: newId(), token: `tok-${newId()}`, userId: admin!.id, expiresAt: new Date(Date.now() + 86_400_000) });

    const prod = await seedDemo({ db, environment: 'production' });
    expect(prod.created).toBe(false);
    expect(prod.rotated.sort()).toEqual(['admin', 'customer']);
    for (const role of ROLES) {
      const signIn = prod.signIns[role]!;
      expect(signIn.password).not.toBe(DEMO_SIGN_INS[role].password);
      expect(await verifies(db, role, DEMO_SIGN_INS[role].password)).toBe(false);
      expect(await verifies(db, role, signIn.password)).toBe(true);
    }
    expect(await db.q.select().from(db.t.sessions).where(eq(db.t.sessions.userId, admin!.id))).toEqual([]);
    // And the next production start has nothing left to rotate.
    expect((await seedDemo({ db, environment: 'production' })).rotated).toEqual([]);
  });

  it('development keeps the published passwords, and the default environment is production', async () => {
    const db = await fresh();
    const dev = await seedDemo({ db, environment: 'development' });
    for (const role of ROLES) expect(dev.signIns[role]!.password).toBe(DEMO_SIGN_INS[role].password);
    const again = await seedDemo({ db, environment: 'development' });
    expect(again.created).toBe(false);
    expect(again.signIns.customer).toEqual({ email: DEMO_SIGN_INS.customer.email, password: DEMO_SIGN_INS.customer.password });

    const other = await fresh();
    const unspecified = await seedDemo({ db: other });
    expect(unspecified.signIns.admin!.password).not.toBe(DEMO_SIGN_INS.admin.password);
    expect(await verifies(other, 'admin', DEMO_SIGN_INS.admin.password)).toBe(false);
  });
});

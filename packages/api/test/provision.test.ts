import { eq } from '@tally/db';
import { testDialects, type TestDatabase } from '@tally/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { provisionUser } from '../src/customers/provision-for-user';
import { newId } from '../src/ids';
import { seedDemo } from '../src/seed/demo';

describe.each(testDialects)('sign-up provisioning ($name)', ({ create }) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await create();
  });
  afterAll(() => db.destroy());

  async function newUser(email: string) {
    const user = { id: newId(), email, name: email.split('@')[0]! };
    await db.q.insert(db.t.users).values(user);
    return user;
  }

  it('a sign-up becomes the owner of a new customer in the primary workspace', async () => {
    const user = await newUser('ann@example.test');
    const result = await provisionUser({ db, user, adminEmails: ['boss@example.test'] });
    expect(result.role).toBe('customer');
    const memberships = await db.q.select().from(db.t.customerMemberships).where(eq(db.t.customerMemberships.userId, user.id));
    expect(memberships).toMatchObject([{ role: 'owner' }]);
    expect(await db.q.select().from(db.t.workspaceMembers).where(eq(db.t.workspaceMembers.userId, user.id))).toEqual([]);
  });

  it('a listed email becomes a workspace admin and gets no customer', async () => {
    const user = await newUser('boss@example.test');
    const result = await provisionUser({ db, user, adminEmails: ['boss@example.test'] });
    expect(result.role).toBe('admin');
    expect(await db.q.select().from(db.t.workspaceMembers).where(eq(db.t.workspaceMembers.userId, user.id))).toMatchObject([{ role: 'admin' }]);
    expect(await db.q.select().from(db.t.customerMemberships).where(eq(db.t.customerMemberships.userId, user.id))).toEqual([]);
  });

  it('every sign-up joins the same primary workspace', async () => {
    const a = await provisionUser({ db, user: await newUser('a@example.test'), adminEmails: [] });
    const b = await provisionUser({ db, user: await newUser('b@example.test'), adminEmails: [] });
    expect(a.workspaceId).toBe(b.workspaceId);
    expect(await db.q.select().from(db.t.workspaces)).toHaveLength(1);
  });

  it('the demo seed is idempotent', async () => {
    const first = await seedDemo({ db });
    const second = await seedDemo({ db });
    expect(second).toEqual({ workspaceId: first.workspaceId, created: false });
    expect(await db.q.select().from(db.t.users).where(eq(db.t.users.email, 'admin@demo.tally.test'))).toHaveLength(1);
  });
});

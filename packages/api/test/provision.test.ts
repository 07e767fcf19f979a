import { eq } from '@tally/db';
import { testDialects, type TestDatabase } from '@tally/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureUserProvisioned, selfSignUpCustomerId } from '../src/customers/ensure-user-provisioned';
import { newId } from '../src/ids';
import { createInvitation } from '../src/invitations/create';
import { seedDemo } from '../src/seed/demo';
import { ensurePrimaryWorkspace } from '../src/workspaces/ensure-primary';

describe.each(testDialects)('provisioning a verified user ($name)', ({ create }) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await create();
  });
  afterAll(() => db.destroy());

  async function newUser(label: string, { verified = true }: { verified?: boolean } = {}) {
    const user = { id: newId(), email: `${label}-${newId()}@example.test`, name: label, emailVerified: verified };
    await db.q.insert(db.t.users).values(user);
    return user;
  }
  const rolesOf = async (userId: string) => ({
    admin: await db.q.select().from(db.t.workspaceMembers).where(eq(db.t.workspaceMembers.userId, userId)),
    customers: await db.q
      .select({ customerId: db.t.customerMemberships.customerId, role: db.t.customerMemberships.role, email: db.t.customers.email, workspaceId: db.t.customers.workspaceId })
      .from(db.t.customerMemberships)
      .innerJoin(db.t.customers, eq(db.t.customers.id, db.t.customerMemberships.customerId))
      .where(eq(db.t.customerMemberships.userId, userId)),
  });
  const markVerified = (userId: string) => db.q.update(db.t.users).set({ emailVerified: true }).where(eq(db.t.users.id, userId));

  it('an unverified user is granted nothing, not even with a bootstrap admin email', async () => {
    const user = await newUser('squatter', { verified: false });
    expect(await ensureUserProvisioned({ db, userId: user.id, adminEmails: [user.email] })).toEqual({ status: 'unverified' });
    expect(await rolesOf(user.id)).toEqual({ admin: [], customers: [] });
    expect(await ensureUserProvisioned({ db, userId: newId(), adminEmails: [] })).toEqual({ status: 'unknown_user' });
  });

  it('a verified sign-up becomes the owner of a new customer carrying its verified email', async () => {
    const user = await newUser('ann');
    const outcome = await ensureUserProvisioned({ db, userId: user.id, adminEmails: ['boss@example.test'] });
    const workspace = await ensurePrimaryWorkspace({ db });
    expect(outcome).toEqual({ status: 'provisioned', workspaceId: workspace.id, bootstrapAdmin: false, acceptedInvitationIds: [], selfSignUpCustomerId: selfSignUpCustomerId(workspace.id, user.id) });
    expect(await rolesOf(user.id)).toEqual({ admin: [], customers: [{ customerId: selfSignUpCustomerId(workspace.id, user.id), role: 'owner', email: user.email, workspaceId: workspace.id }] });
  });

  it('is idempotent, also under concurrent sessions: one customer, one membership', async () => {
    const user = await newUser('busy');
    await Promise.all(Array.from({ length: 6 }, () => ensureUserProvisioned({ db, userId: user.id, adminEmails: [] })));
    await ensureUserProvisioned({ db, userId: user.id, adminEmails: [] });
    const { customers } = await rolesOf(user.id);
    expect(customers).toHaveLength(1);
    expect(await db.q.select().from(db.t.customers).where(eq(db.t.customers.id, customers[0]!.customerId))).toHaveLength(1);
  });

  it('a verified bootstrap admin email (any case) becomes a workspace admin and gets no customer', async () => {
    const user = await newUser('Boss');
    await db.q.update(db.t.users).set({ email: user.email.toUpperCase() }).where(eq(db.t.users.id, user.id));
    const outcome = await ensureUserProvisioned({ db, userId: user.id, adminEmails: [user.email.toLowerCase()] });
    expect(outcome).toMatchObject({ status: 'provisioned', bootstrapAdmin: true, selfSignUpCustomerId: null });
    const roles = await rolesOf(user.id);
    expect(roles.admin).toMatchObject([{ role: 'admin', workspaceId: (await ensurePrimaryWorkspace({ db })).id }]);
    expect(roles.customers).toEqual([]);
    await ensureUserProvisioned({ db, userId: user.id, adminEmails: [user.email.toLowerCase()] });
    expect((await rolesOf(user.id)).admin).toHaveLength(1);
  });

  it('the same user is granted once verified, not before', async () => {
    const user = await newUser('later', { verified: false });
    await ensureUserProvisioned({ db, userId: user.id, adminEmails: [user.email] });
    expect((await rolesOf(user.id)).admin).toEqual([]);
    await markVerified(user.id);
    await ensureUserProvisioned({ db, userId: user.id, adminEmails: [user.email] });
    expect((await rolesOf(user.id)).admin).toHaveLength(1);
  });

  it('every sign-up joins the same primary workspace', async () => {
    const a = await ensureUserProvisioned({ db, userId: (await newUser('a')).id, adminEmails: [] });
    const b = await ensureUserProvisioned({ db, userId: (await newUser('b')).id, adminEmails: [] });
    expect(a.status === 'provisioned' && b.status === 'provisioned' && a.workspaceId === b.workspaceId).toBe(true);
    expect(await db.q.select().from(db.t.workspaces)).toHaveLength(1);
  });

  it('pending invitations are accepted with their role, once, and replace the self sign-up customer', async () => {
    const workspace = await ensurePrimaryWorkspace({ db });
    const owner = await newUser('acme-owner');
    await ensureUserProvisioned({ db, userId: owner.id, adminEmails: [] });
    const acmeId = (await rolesOf(owner.id)).customers[0]!.customerId;

    const invitee = await newUser('invitee', { verified: false });
    const asAdmin = await createInvitation({ db, workspaceId: workspace.id, email: invitee.email.toUpperCase(), role: 'admin' });
    const asMember = await createInvitation({ db, workspaceId: workspace.id, email: invitee.email, role: 'member', customerId: acmeId });
    const asNewOwner = await createInvitation({ db, workspaceId: workspace.id, email: invitee.email, role: 'owner' });

    // Unverified: nothing accepted yet.
    await ensureUserProvisioned({ db, userId: invitee.id, adminEmails: [] });
    expect(await rolesOf(invitee.id)).toEqual({ admin: [], customers: [] });
    expect((await db.q.select().from(db.t.invitations).where(eq(db.t.invitations.id, asAdmin.invitation.id)))[0]!.acceptedAt).toBeNull();

    await markVerified(invitee.id);
    const outcomes = await Promise.all(Array.from({ length: 4 }, () => ensureUserProvisioned({ db, userId: invitee.id, adminEmails: [] })));
    const accepted = outcomes.flatMap((o) => (o.status === 'provisioned' ? o.acceptedInvitationIds : []));
    expect(accepted.sort()).toEqual([asAdmin.invitation.id, asMember.invitation.id, asNewOwner.invitation.id].sort());
    expect(outcomes.every((o) => o.status === 'provisioned' && o.selfSignUpCustomerId === null)).toBe(true);

    const roles = await rolesOf(invitee.id);
    expect(roles.admin).toMatchObject([{ role: 'admin', workspaceId: workspace.id }]);
    expect(roles.customers).toHaveLength(2);
    expect(roles.customers.find((c) => c.customerId === acmeId)).toMatchObject({ role: 'member' });
    const own = roles.customers.find((c) => c.customerId !== acmeId)!;
    expect(own).toMatchObject({ role: 'owner', email: invitee.email, workspaceId: workspace.id });
    const rows = await db.q.select().from(db.t.invitations).where(eq(db.t.invitations.email, invitee.email));
    expect(rows.every((r) => r.acceptedAt instanceof Date && r.acceptedByUserId === invitee.id)).toBe(true);
  });

  it('an owner invitation to an existing customer makes its member an owner', async () => {
    const workspace = await ensurePrimaryWorkspace({ db });
    const founder = await newUser('founder');
    await ensureUserProvisioned({ db, userId: founder.id, adminEmails: [] });
    const customerId = (await rolesOf(founder.id)).customers[0]!.customerId;
    const colleague = await newUser('colleague', { verified: false });
    await createInvitation({ db, workspaceId: workspace.id, email: colleague.email, role: 'member', customerId });
    await markVerified(colleague.id);
    await ensureUserProvisioned({ db, userId: colleague.id, adminEmails: [] });
    expect((await rolesOf(colleague.id)).customers).toMatchObject([{ customerId, role: 'member' }]);
    await createInvitation({ db, workspaceId: workspace.id, email: colleague.email, role: 'owner', customerId });
    await ensureUserProvisioned({ db, userId: colleague.id, adminEmails: [] });
    expect((await rolesOf(colleague.id)).customers).toMatchObject([{ customerId, role: 'owner' }]);
  });

  it('invite-only: a verified user without an invitation gets no customer', async () => {
    const user = await newUser('walk-in');
    expect(await ensureUserProvisioned({ db, userId: user.id, adminEmails: [], signUp: 'invite' })).toMatchObject({ status: 'provisioned', selfSignUpCustomerId: null });
    expect(await rolesOf(user.id)).toEqual({ admin: [], customers: [] });
  });

  it('the demo seed is idempotent and its users are left as seeded', async () => {
    const first = await seedDemo({ db });
    const second = await seedDemo({ db });
    expect(second).toMatchObject({ workspaceId: first.workspaceId, created: false });
    const users = await db.q.select().from(db.t.users).where(eq(db.t.users.email, 'customer@demo.tally.test'));
    expect(users).toHaveLength(1);
    const before = await rolesOf(users[0]!.id);
    expect(before.customers).toHaveLength(1);
    await ensureUserProvisioned({ db, userId: users[0]!.id, adminEmails: [] });
    expect(await rolesOf(users[0]!.id)).toEqual(before);
  });
});

describe.each(testDialects)('provisioning with several workspaces ($name)', ({ create }) => {
  let db: TestDatabase;
  let primaryId: string;
  let secondId: string;
  let secondCustomerId: string;
  beforeAll(async () => {
    db = await create();
    primaryId = (await ensurePrimaryWorkspace({ db })).id;
    // A workspace made later (as `pnpm tally workspace create` does), with a customer of its own.
    secondId = newId();
    await db.q.insert(db.t.workspaces).values({ id: secondId, name: 'Acme Ops', slug: `acme-ops-${secondId}`, currency: 'eur', createdAt: new Date(Date.now() + 60_000) });
    secondCustomerId = newId();
    await db.q.insert(db.t.customers).values({ id: secondCustomerId, workspaceId: secondId, name: 'Ops client' });
  });
  afterAll(() => db.destroy());

  const newUser = async (label: string) => {
    const user = { id: newId(), email: `${label}-${newId()}@example.test`, name: label, emailVerified: true };
    await db.q.insert(db.t.users).values(user);
    return user;
  };
  const rolesOf = async (userId: string) => ({
    admin: (await db.q.select().from(db.t.workspaceMembers).where(eq(db.t.workspaceMembers.userId, userId))).map((m) => m.workspaceId),
    customers: await db.q
      .select({ customerId: db.t.customerMemberships.customerId, role: db.t.customerMemberships.role, workspaceId: db.t.customers.workspaceId })
      .from(db.t.customerMemberships)
      .innerJoin(db.t.customers, eq(db.t.customers.id, db.t.customerMemberships.customerId))
      .where(eq(db.t.customerMemberships.userId, userId)),
  });

  it('a sign-up without an invitation still joins the primary (oldest) workspace, never a newer one', async () => {
    expect((await ensurePrimaryWorkspace({ db })).id).toBe(primaryId);
    for (const label of ['walk-in-1', 'walk-in-2']) {
      const user = await newUser(label);
      const outcome = await ensureUserProvisioned({ db, userId: user.id, adminEmails: [] });
      expect(outcome).toMatchObject({ status: 'provisioned', workspaceId: primaryId, selfSignUpCustomerId: selfSignUpCustomerId(primaryId, user.id) });
      expect(await rolesOf(user.id)).toEqual({ admin: [], customers: [{ customerId: selfSignUpCustomerId(primaryId, user.id), role: 'owner', workspaceId: primaryId }] });
    }
  });

  it('a bootstrap admin email becomes an admin of the primary workspace only', async () => {
    const user = await newUser('boot');
    await ensureUserProvisioned({ db, userId: user.id, adminEmails: [user.email] });
    expect(await rolesOf(user.id)).toEqual({ admin: [primaryId], customers: [] });
  });

  it("an email invited to the newer workspace's customer joins that customer only, with no customer in the primary", async () => {
    const user = await newUser('ops-member');
    const { invitation } = await createInvitation({ db, workspaceId: secondId, email: user.email, role: 'member', customerId: secondCustomerId });
    const outcome = await ensureUserProvisioned({ db, userId: user.id, adminEmails: [] });
    expect(outcome).toMatchObject({ status: 'provisioned', acceptedInvitationIds: [invitation.id], selfSignUpCustomerId: null });
    expect(await rolesOf(user.id)).toEqual({ admin: [], customers: [{ customerId: secondCustomerId, role: 'member', workspaceId: secondId }] });
  });

  it('an email invited as admin of the newer workspace administers that one only', async () => {
    const user = await newUser('ops-admin');
    await createInvitation({ db, workspaceId: secondId, email: user.email, role: 'admin' });
    await ensureUserProvisioned({ db, userId: user.id, adminEmails: [] });
    expect(await rolesOf(user.id)).toEqual({ admin: [secondId], customers: [] });
  });
});

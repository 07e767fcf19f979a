import { eq } from '@tally/db';
import { testDialects, type TestDatabase } from '@tally/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../src/errors';
import { newId } from '../src/ids';
import { createInvitation } from '../src/invitations/create';
import { findPendingInvitations } from '../src/invitations/find-pending';

describe.each(testDialects)('createInvitation ($name)', ({ create }) => {
  let db: TestDatabase;
  let workspaceId: string;
  let otherWorkspaceId: string;
  let customerId: string;
  let foreignCustomerId: string;
  beforeAll(async () => {
    db = await create();
    workspaceId = newId();
    otherWorkspaceId = newId();
    customerId = newId();
    foreignCustomerId = newId();
    await db.q.insert(db.t.workspaces).values([
      { id: workspaceId, name: 'W', slug: `w-${workspaceId}`, currency: 'usd' },
      { id: otherWorkspaceId, name: 'X', slug: `x-${otherWorkspaceId}`, currency: 'usd' },
    ]);
    await db.q.insert(db.t.customers).values([
      { id: customerId, workspaceId, name: 'Acme' },
      { id: foreignCustomerId, workspaceId: otherWorkspaceId, name: 'Elsewhere' },
    ]);
  });
  afterAll(() => db.destroy());
  const all = () => db.q.select().from(db.t.invitations);

  it('stores a pending invitation with the email trimmed and lowercased', async () => {
    const inviter = newId();
    const { invitation, created } = await createInvitation({ db, workspaceId, email: '  New.Admin@Example.COM ', role: 'admin', invitedByUserId: inviter });
    expect(created).toBe(true);
    expect(invitation).toMatchObject({ workspaceId, email: 'new.admin@example.com', role: 'admin', customerId: null, invitedByUserId: inviter, acceptedAt: null });
    expect(await findPendingInvitations({ db, email: 'NEW.ADMIN@example.com' })).toMatchObject([{ id: invitation.id }]);
  });

  it('inviting again while the same invitation is pending returns it instead of a second row', async () => {
    const first = await createInvitation({ db, workspaceId, email: 'owner@acme.test', role: 'owner', customerId });
    const again = await createInvitation({ db, workspaceId, email: 'Owner@Acme.test', role: 'owner', customerId });
    expect(again).toEqual({ invitation: first.invitation, created: false });
    const asMember = await createInvitation({ db, workspaceId, email: 'owner@acme.test', role: 'member', customerId });
    expect(asMember.created).toBe(true);
    expect((await all()).filter((i) => i.email === 'owner@acme.test')).toHaveLength(2);
  });

  it.each([
    [{ email: 'not an email', role: 'owner' }, 'BAD_REQUEST', /email must be an email address/],
    [{ email: `${'a'.repeat(250)}@x.test`, role: 'owner' }, 'BAD_REQUEST', /at most 254/],
    [{ email: 'a@b.test', role: 'superuser' }, 'BAD_REQUEST', /role must be one of admin, owner, member/],
    [{ email: 'a@b.test', role: 'admin', customerId: 'CUSTOMER' }, 'BAD_REQUEST', /leave customerId empty/],
    [{ email: 'a@b.test', role: 'member' }, 'BAD_REQUEST', /needs the customerId/],
    [{ email: 'a@b.test', role: 'member', customerId: 'FOREIGN' }, 'NOT_FOUND', /Customer not found/],
    [{ email: 'a@b.test', role: 'owner', customerId: 'MISSING' }, 'NOT_FOUND', /Customer not found/],
    [{ email: 'a@b.test', role: 'admin', workspaceId: 'MISSING' }, 'NOT_FOUND', /Workspace not found/],
  ] as const)('refuses %o (%s) and stores nothing', async (input, code, message) => {
    const before = await all();
    const ids: Record<string, string> = { CUSTOMER: customerId, FOREIGN: foreignCustomerId, MISSING: newId() };
    const opts = { db, workspaceId, ...input } as Record<string, unknown>;
    if (typeof opts.customerId === 'string') opts.customerId = ids[opts.customerId];
    if (opts.workspaceId === 'MISSING') opts.workspaceId = ids.MISSING;
    const error = await createInvitation(opts as never).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ code, message: expect.stringMatching(message) });
    expect(await all()).toEqual(before);
  });

  it('an accepted invitation is no longer pending', async () => {
    const { invitation } = await createInvitation({ db, workspaceId, email: 'done@example.test', role: 'owner' });
    await db.q.update(db.t.invitations).set({ acceptedAt: new Date() }).where(eq(db.t.invitations.id, invitation.id));
    expect(await findPendingInvitations({ db, email: 'done@example.test' })).toEqual([]);
    expect((await createInvitation({ db, workspaceId, email: 'done@example.test', role: 'owner' })).created).toBe(true);
  });
});

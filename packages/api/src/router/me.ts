import { asc, eq } from '@tally/db';
import { findWorkspaceForAdmin, listAdminWorkspaces } from '../workspaces/find-for-admin';
import { createTRPCRouter, publicProcedure } from '../trpc';

export const meRouter = createTRPCRouter({
  /**
   * The signed-in user, their roles and Stripe mode; `user: null` when signed out.
   * `adminWorkspaces`: every workspace they administer (the switcher); `adminWorkspace`: the
   * selected one (`X-Tally-Workspace`, else the first), null when the selection is not theirs.
   */
  get: publicProcedure.query(async ({ ctx }) => {
    const stripeMode = ctx.config.stripeMode;
    if (!ctx.actor) return { user: null, adminWorkspace: null, adminWorkspaces: [], customers: [], stripeMode };
    const { customers, customerMemberships, workspaces } = ctx.db.t;
    const memberships = await ctx.db.q
      .select({ id: customers.id, name: customers.name, role: customerMemberships.role, workspaceId: customers.workspaceId, workspaceName: workspaces.name })
      .from(customerMemberships)
      .innerJoin(customers, eq(customers.id, customerMemberships.customerId))
      .innerJoin(workspaces, eq(workspaces.id, customers.workspaceId))
      .where(eq(customerMemberships.userId, ctx.actor.userId))
      .orderBy(asc(customerMemberships.createdAt));
    const adminWorkspaces = await listAdminWorkspaces({ db: ctx.db, userId: ctx.actor.userId });
    const adminWorkspace = (await findWorkspaceForAdmin({ db: ctx.db, userId: ctx.actor.userId, workspaceId: ctx.selectedWorkspaceId })) ?? null;
    return { user: { id: ctx.actor.userId, email: ctx.actor.email }, adminWorkspace, adminWorkspaces, customers: memberships, stripeMode };
  }),
});

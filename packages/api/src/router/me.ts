import { asc, eq } from '@tally/db';
import { findWorkspaceForAdmin } from '../workspaces/find-for-admin';
import { createTRPCRouter, publicProcedure } from '../trpc';

export const meRouter = createTRPCRouter({
  /** The signed-in user, their roles and Stripe mode; `user: null` when signed out. */
  get: publicProcedure.query(async ({ ctx }) => {
    const stripeMode = ctx.config.stripeMode;
    if (!ctx.actor) return { user: null, adminWorkspace: null, customers: [], stripeMode };
    const { customers, customerMemberships } = ctx.db.t;
    const memberships = await ctx.db.q
      .select({ id: customers.id, name: customers.name, role: customerMemberships.role })
      .from(customerMemberships)
      .innerJoin(customers, eq(customers.id, customerMemberships.customerId))
      .where(eq(customerMemberships.userId, ctx.actor.userId))
      .orderBy(asc(customerMemberships.createdAt));
    const adminWorkspace = (await findWorkspaceForAdmin({ db: ctx.db, userId: ctx.actor.userId })) ?? null;
    return { user: { id: ctx.actor.userId, email: ctx.actor.email }, adminWorkspace, customers: memberships, stripeMode };
  }),
});

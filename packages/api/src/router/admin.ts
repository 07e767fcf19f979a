import { listStripeEvents } from '../activity/list-stripe-events';
import { listTopups } from '../activity/list-topups';
import { AdminEventsListInput, AdminTopupsListInput } from '../schemas';
import { adminProcedure, createTRPCRouter } from '../trpc';
import { emailsRouter } from './emails';

export const adminRouter = createTRPCRouter({
  /** Stripe event log with processing outcome, filterable by status. */
  events: adminProcedure.input(AdminEventsListInput).query(({ ctx, input }) =>
    listStripeEvents({ db: ctx.db, workspaceId: ctx.workspaceId, status: input.status, limit: input.limit, cursor: input.cursor }),
  ),
  /** Recent top-ups of the workspace, filterable by status. */
  topups: adminProcedure.input(AdminTopupsListInput).query(({ ctx, input }) =>
    listTopups({ db: ctx.db, workspaceId: ctx.workspaceId, status: input.status, limit: input.limit, cursor: input.cursor }),
  ),
  /** The email outbox: what was sent to whom, and what is pending or failed. */
  emails: emailsRouter,
});

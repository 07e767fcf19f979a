import { z } from 'zod';
import { EMAIL_STATUS_VALUES, listEmails } from '../email/list';
import { PageInput, tallyIdSchema } from '../schemas';
import { adminProcedure, createTRPCRouter } from '../trpc';

/** Outbox page: filter by status; the cursor is the last email id seen (UUIDv7). */
export const AdminEmailsListInput = PageInput.extend({ status: z.enum(EMAIL_STATUS_VALUES).optional(), cursor: tallyIdSchema('cursor').nullish() });

export const emailsRouter = createTRPCRouter({
  /** The outbox of the admin's workspace, newest first; bodies only outside production. */
  list: adminProcedure.input(AdminEmailsListInput).query(({ ctx, input }) =>
    listEmails({
      db: ctx.db,
      workspaceId: ctx.workspaceId,
      environment: ctx.config.environment,
      status: input.status,
      limit: input.limit,
      cursor: input.cursor,
    }),
  ),
});

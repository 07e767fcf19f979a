import { listAuditLog } from '../audit/record';
import { AuditListInput } from '../schemas/customers';
import { adminProcedure, createTRPCRouter } from '../trpc';

export const auditRouter = createTRPCRouter({
  /**
   * The admin *Audit* page: the selected workspace's audit log only, newest first.
   * `{ limit (1..100, default 50), cursor? (last id seen), action? ('noun.verb') }` ->
   * `{ items: [{ id, createdAt, actorUserId, actorLabel, action, targetType, targetId, before, after, requestId }], nextCursor }`.
   * FORBIDDEN for non-admins (and for a workspace the caller does not administer).
   */
  list: adminProcedure
    .input(AuditListInput)
    .query(({ ctx, input }) => listAuditLog({ db: ctx.db, workspaceId: ctx.workspaceId, limit: input.limit, cursor: input.cursor, action: input.action })),
});

import { createApiKey, listApiKeys, revokeApiKey } from '../api-keys/index';
import { CreateApiKeyInput, RevokeApiKeyInput } from '../schemas/api-keys';
import { adminProcedure, createTRPCRouter } from '../trpc';

/**
 * Workspace API keys for other backends (issue 9 item 2; `/api/v1` routes take them as
 * `Authorization: Bearer tly_...`). Admin only, scoped to the selected workspace; create and
 * revoke are audited. The key is returned once, by `create`; lists show its display prefix.
 */
export const apiKeyRouter = createTRPCRouter({
  list: adminProcedure.query(({ ctx }) => listApiKeys(ctx.db, { workspaceId: ctx.workspaceId })),
  create: adminProcedure.input(CreateApiKeyInput).mutation(({ ctx, input }) =>
    createApiKey(ctx.db, { workspaceId: ctx.workspaceId, name: input.name, mode: input.mode, createdByUserId: ctx.actor.userId, actor: ctx.actor }),
  ),
  /** NOT_FOUND for a key of another workspace; revoking twice answers the first `revokedAt`. */
  revoke: adminProcedure.input(RevokeApiKeyInput).mutation(({ ctx, input }) => revokeApiKey(ctx.db, { workspaceId: ctx.workspaceId, keyId: input.keyId, actor: ctx.actor })),
});

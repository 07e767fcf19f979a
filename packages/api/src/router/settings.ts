import { SaveStripeSettingsInput } from '../schemas/settings';
import { clearStripeSettings } from '../settings/clear-stripe-settings';
import { getStripeSettings } from '../settings/get-stripe-settings';
import { registerWebhookEndpoint } from '../settings/register-webhook-endpoint';
import { saveStripeSettings } from '../settings/save-stripe-settings';
import type { StripeSettingsDeps } from '../settings/shared';
import { adminProcedure, createTRPCRouter } from '../trpc';

/** The Settings -> Stripe verbs' dependencies from an admin procedure's context (the selected workspace). */
const depsOf = (ctx: Omit<StripeSettingsDeps, 'workspaceId'> & { workspaceId: string }): StripeSettingsDeps => ({
  db: ctx.db,
  stripeAccounts: ctx.stripeAccounts,
  config: ctx.config,
  logger: ctx.logger,
  workspaceId: ctx.workspaceId,
  actor: ctx.actor,
  requestId: ctx.requestId,
});

/** Settings of the selected workspace (admins of it only). Never returns a key or a secret. */
export const settingsRouter = createTRPCRouter({
  stripe: createTRPCRouter({
    /** StripeSettingsView: mode, last 4, saved by/at, verified, webhook URL, `stripe listen` line, last event. */
    get: adminProcedure.query(({ ctx }) => getStripeSettings(depsOf(ctx))),
    /** Check the key with Stripe (`GET /v1/account`) and store it sealed; `verification` says whether Stripe answered. */
    save: adminProcedure.input(SaveStripeSettingsInput).mutation(({ ctx, input }) => saveStripeSettings(depsOf(ctx), input)),
    /** Remove the workspace's own keys: it falls back to the deployment's Stripe (or none). */
    clear: adminProcedure.mutation(({ ctx }) => clearStripeSettings(depsOf(ctx))),
    /** Create the webhook endpoint on the workspace's Stripe account and store its signing secret. */
    registerWebhookEndpoint: adminProcedure.mutation(({ ctx }) => registerWebhookEndpoint(depsOf(ctx))),
  }),
});

import { eq, type Database } from '@tally/db';
import type { StripeAccounts } from '../stripe/accounts';
import type { StripeAccountExpectation } from './payment-mismatches';
import { DEPLOYMENT_SCOPE, type EventReceipt } from './types';
import { isTallyId } from '../ids';

/** How to verify a delivery to one webhook URL, or why the URL cannot take one. */
export type WebhookEndpointResolution =
  | { ok: true; receipt: EventReceipt; webhookSecret: string; expected: StripeAccountExpectation }
  | { ok: false; httpStatus: 404 | 409; error: string };

/** `<publicUrl>/api/stripe/webhook/<workspaceId>`: the URL a workspace's Stripe account sends events to. */
export const workspaceWebhookUrl = (publicUrl: string, workspaceId: string) => `${publicUrl}/api/stripe/webhook/${workspaceId}`;

/**
 * The secret and scope for a delivery to `/api/stripe/webhook` (`workspaceId` null: the
 * deployment's env secret, or the emulator's) or `/api/stripe/webhook/<workspaceId>` (that
 * workspace's own secret; a workspace on the env keys uses the env secret). Nothing about
 * the workspace is trusted until the signature verifies with this secret.
 * - unknown or malformed workspace id -> 404, nothing stored;
 * - no secret to verify with -> 409, saying which URL or setting to use.
 */
export async function resolveWebhookEndpoint({
  db,
  stripeAccounts,
  publicUrl,
  workspaceId,
}: {
  db: Database;
  stripeAccounts: StripeAccounts;
  publicUrl: string;
  workspaceId: string | null;
}): Promise<WebhookEndpointResolution> {
  const { deployment } = stripeAccounts;
  if (workspaceId === null) {
    if (!deployment.webhookSecret) {
      return {
        ok: false,
        httpStatus: 409,
        error: `This deployment has no STRIPE_WEBHOOK_SECRET: each workspace receives its events at ${workspaceWebhookUrl(publicUrl, '<workspaceId>')} (shown in Settings -> Stripe)`,
      };
    }
    return { ok: true, receipt: { scope: DEPLOYMENT_SCOPE, workspaceId: null }, webhookSecret: deployment.webhookSecret, expected: { livemode: deployment.mode === 'live' } };
  }
  if (!isTallyId(workspaceId)) return { ok: false, httpStatus: 404, error: 'Unknown workspace' };
  const { workspaces } = db.t;
  const [workspace] = await db.q.select({ id: workspaces.id }).from(workspaces).where(eq(workspaces.id, workspaceId)).limit(1);
  if (!workspace) return { ok: false, httpStatus: 404, error: 'Unknown workspace' };
  const stripe = await stripeAccounts.forWorkspace(db, workspace.id);
  if (!stripe.configured) return { ok: false, httpStatus: 409, error: stripe.reason };
  if (!stripe.webhookSecret) {
    return {
      ok: false,
      httpStatus: 409,
      error: 'This workspace has no webhook signing secret yet: paste it, or use Register webhook endpoint, in Settings -> Stripe',
    };
  }
  return { ok: true, receipt: { scope: workspace.id, workspaceId: workspace.id }, webhookSecret: stripe.webhookSecret, expected: stripe.expected };
}

import { all, and, eq, isNull } from '@tally/db';
import Stripe from 'stripe';
import { recordAuditInTx } from '../audit/record';
import { AppError } from '../errors';
import { decryptSecret, encryptSecret, SecretDecryptionError } from '../secrets/encryption';
import { STRIPE_WEBHOOK_SECRET_PATTERN } from '../schemas/settings';
import { workspaceWebhookUrl } from '../webhooks/endpoint';
import { stripeEventHandlers } from '../webhooks/handlers/index';
import { getStripeSettings, type StripeSettingsView } from './get-stripe-settings';
import {
  classifyStripeError,
  last4,
  maskSecrets,
  requireKeyring,
  SETTINGS_STRIPE_TIMEOUT_MS,
  stripeErrorFields,
  stripeSettingsSnapshot,
  type StripeSettingsDeps,
} from './shared';

/** The event types Tally handles (`webhooks/handlers/index.ts`), which a registered endpoint subscribes to. */
export const registeredEventTypes = (): string[] => Object.keys(stripeEventHandlers).sort();

/** Endpoints looked at when removing earlier registrations: one page of Stripe's largest size (an account has at most 16 endpoints per mode). */
const ENDPOINT_PAGE = 100;

/**
 * "Register webhook endpoint": create the workspace's webhook endpoint on its own Stripe
 * account (`POST /v1/webhook_endpoints`, stripe.com/docs/api/webhook_endpoints/create) for
 * `<TALLY_PUBLIC_URL>/api/stripe/webhook/<workspaceId>`, subscribed to every event type Tally
 * handles, pinned to the SDK's API version, described `Tally workspace <name>` with metadata
 * `tally_workspace_id`; store the `secret` Stripe returns (only in that response) sealed, with
 * the endpoint id and when.
 *
 * Never two: after the new endpoint is stored, earlier ones of this workspace on the account
 * (the stored endpoint id, or any with this URL or this `tally_workspace_id`) are deleted
 * (best effort; logged). The stored row is switched with a compare-and-set on the key and the
 * endpoint id read at the start, so of two registrations at once one wins and the other
 * deletes its own endpoint and returns the winner's state.
 *
 * Audited as `stripe_settings.register_webhook_endpoint` (endpoint id and secret's last 4).
 * @returns the settings view.
 * @throws AppError PRECONDITION_FAILED (no keyring; no own keys: "paste this workspace's keys
 *   first"; keys that cannot be decrypted; Stripe refused the request, message masked),
 *   BAD_GATEWAY (Stripe unreachable: nothing changed), NOT_FOUND (workspace gone).
 */
export async function registerWebhookEndpoint(deps: StripeSettingsDeps): Promise<StripeSettingsView> {
  const { db, stripeAccounts, config, logger, workspaceId, actor, requestId } = deps;
  const keyring = requireKeyring(stripeAccounts);
  const { workspaceStripeAccounts: w, workspaces } = db.t;
  const [[row], [workspace]] = await Promise.all([
    db.q.select().from(w).where(eq(w.workspaceId, workspaceId)).limit(1),
    db.q.select({ name: workspaces.name }).from(workspaces).where(eq(workspaces.id, workspaceId)).limit(1),
  ]);
  if (!workspace) throw new AppError('NOT_FOUND', 'Workspace not found');
  if (!row) {
    throw new AppError(
      'PRECONDITION_FAILED',
      "This workspace uses the deployment's Stripe account: paste this workspace's keys first (Settings -> Stripe), then register its webhook endpoint.",
    );
  }
  let secretKey: string;
  try {
    secretKey = decryptSecret({ keyring, workspaceId, sealed: row.secretKeySealed });
  } catch (err) {
    if (!(err instanceof SecretDecryptionError)) throw err;
    throw new AppError('PRECONDITION_FAILED', "This workspace's Stripe key cannot be decrypted with TALLY_SECRET_ENCRYPTION_KEY: paste it again first.");
  }
  const client = stripeAccounts.clientForKey(secretKey);
  const url = workspaceWebhookUrl(config.publicUrl, workspaceId);
  const callOptions = { timeout: SETTINGS_STRIPE_TIMEOUT_MS, maxNetworkRetries: 1 };

  let endpoint: Stripe.WebhookEndpoint;
  try {
    endpoint = await client.webhookEndpoints.create(
      {
        url,
        enabled_events: registeredEventTypes() as Stripe.WebhookEndpointCreateParams.EnabledEvent[],
        api_version: Stripe.API_VERSION as Stripe.WebhookEndpointCreateParams.ApiVersion,
        description: `Tally workspace ${workspace.name}`.slice(0, 500),
        metadata: { tally_workspace_id: workspaceId },
      },
      callOptions,
    );
  } catch (err) {
    const kind = classifyStripeError(err);
    if (kind === 'other') throw err;
    logger.warn({ requestId, workspaceId, step: 'webhookEndpoints.create', ...stripeErrorFields(err, [secretKey]) }, 'Could not register the workspace webhook endpoint');
    if (kind === 'unreachable') {
      throw new AppError('BAD_GATEWAY', 'Stripe could not be reached to register the webhook endpoint; nothing changed. Try again in a moment.', { cause: err });
    }
    throw new AppError('PRECONDITION_FAILED', `Stripe refused to create the webhook endpoint: ${maskSecrets((err as Error).message, [secretKey])}`, { cause: err });
  }

  const secret = endpoint.secret;
  if (typeof secret !== 'string' || !STRIPE_WEBHOOK_SECRET_PATTERN.test(secret)) {
    await deleteEndpoints(deps, client, [endpoint.id], secretKey);
    throw new AppError('BAD_GATEWAY', 'Stripe created the webhook endpoint without a signing secret; it was deleted again. Try again in a moment.');
  }
  const webhookSecretSealed = encryptSecret({ keyring, workspaceId, plaintext: secret });
  const now = new Date();

  const won = await db.transaction(function* (tx) {
    const t = db.t;
    const updated = yield* all(
      tx
        .update(w)
        .set({ webhookSecretSealed, webhookSecretLast4: last4(secret), webhookEndpointId: endpoint.id, webhookEndpointRegisteredAt: now })
        .where(
          and(
            eq(w.workspaceId, workspaceId),
            eq(w.secretKeySealed, row.secretKeySealed),
            row.webhookEndpointId === null ? isNull(w.webhookEndpointId) : eq(w.webhookEndpointId, row.webhookEndpointId),
          ),
        )
        .returning(),
    );
    if (updated.length === 0) return false;
    yield* recordAuditInTx(tx, t, {
      workspaceId,
      actor,
      action: 'stripe_settings.register_webhook_endpoint',
      targetType: 'stripe_settings',
      targetId: workspaceId,
      before: stripeSettingsSnapshot(row),
      after: { ...stripeSettingsSnapshot(updated[0]), enabledEvents: endpoint.enabled_events },
      requestId,
    });
    return true;
  });

  if (!won) {
    // The keys or the endpoint changed meanwhile (another registration, or new keys): ours is not used.
    await deleteEndpoints(deps, client, [endpoint.id], secretKey);
    logger.info({ requestId, workspaceId, webhookEndpointId: endpoint.id }, 'Workspace settings changed during webhook endpoint registration; the new endpoint was deleted again');
    return getStripeSettings(deps);
  }
  logger.info({ requestId, workspaceId, webhookEndpointId: endpoint.id }, 'Registered the workspace webhook endpoint');

  // Never two endpoints for one workspace: remove earlier registrations (best effort).
  const stale = new Set<string>(row.webhookEndpointId && row.webhookEndpointId !== endpoint.id ? [row.webhookEndpointId] : []);
  try {
    const page = await client.webhookEndpoints.list({ limit: ENDPOINT_PAGE }, callOptions);
    for (const other of page.data) {
      if (other.id !== endpoint.id && (other.url === url || other.metadata?.tally_workspace_id === workspaceId)) stale.add(other.id);
    }
  } catch (err) {
    logger.warn({ requestId, workspaceId, step: 'webhookEndpoints.list', ...stripeErrorFields(err, [secretKey]) }, 'Could not list webhook endpoints to remove earlier registrations');
  }
  await deleteEndpoints(deps, client, [...stale], secretKey);
  return getStripeSettings(deps);
}

/** Delete endpoints, best effort: already gone is fine, anything else is logged. */
async function deleteEndpoints(deps: StripeSettingsDeps, client: Stripe, ids: readonly string[], secretKey: string): Promise<void> {
  for (const id of ids) {
    try {
      await client.webhookEndpoints.del(id, undefined, { timeout: SETTINGS_STRIPE_TIMEOUT_MS, maxNetworkRetries: 1 });
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) continue;
      deps.logger.warn({ requestId: deps.requestId, workspaceId: deps.workspaceId, webhookEndpointId: id, ...stripeErrorFields(err, [secretKey]) }, 'Could not delete a webhook endpoint at Stripe');
    }
  }
}

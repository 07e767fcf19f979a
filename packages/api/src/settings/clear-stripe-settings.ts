import { all, eq } from '@tally/db';
import { recordAuditInTx } from '../audit/record';
import { decryptSecret, SecretDecryptionError } from '../secrets/encryption';
import { getStripeSettings, type StripeSettingsView } from './get-stripe-settings';
import { clearStripeCustomerIdsInTx } from './save-stripe-settings';
import { classifyStripeError, SETTINGS_STRIPE_TIMEOUT_MS, stripeErrorFields, stripeSettingsSnapshot, type StripeSettingsDeps } from './shared';

/**
 * Remove a workspace's own Stripe keys: it falls back to the deployment's env keys, or the
 * emulator in development, or none (`source` in the returned view).
 *
 * 1. A webhook endpoint Tally registered on the workspace's account is deleted there first
 *    (`DELETE /v1/webhook_endpoints/:id`, stripe.com/docs/api/webhook_endpoints/delete), so
 *    Stripe stops sending to a URL that can no longer verify it. Best effort: when Stripe
 *    refuses or is unreachable (or the key cannot be decrypted) it is logged and the keys are
 *    removed anyway (`webhookEndpointDeleted: false` in the audit entry).
 * 2. One transaction: the row is deleted, the customers' Stripe customer ids (of the account
 *    being left) are cleared, and `stripe_settings.clear` is audited (before: mode, kind,
 *    last 4...; never a key or secret). Clearing a workspace without keys changes nothing and
 *    writes no entry.
 * @returns the settings view after the change.
 */
export async function clearStripeSettings(deps: StripeSettingsDeps): Promise<StripeSettingsView> {
  const { db, stripeAccounts, logger, workspaceId, actor, requestId } = deps;
  const w = db.t.workspaceStripeAccounts;
  const [row] = await db.q.select().from(w).where(eq(w.workspaceId, workspaceId)).limit(1);
  if (!row) return getStripeSettings(deps);

  const webhookEndpointDeleted = row.webhookEndpointId ? await deleteRegisteredEndpoint(deps, row.webhookEndpointId, row.secretKeySealed) : null;

  await db.transaction(function* (tx) {
    const t = db.t;
    const removed = yield* all(tx.delete(w).where(eq(w.workspaceId, workspaceId)).returning());
    if (removed.length === 0) return; // cleared concurrently: that call audited it
    const cleared = yield* clearStripeCustomerIdsInTx(tx, t, workspaceId);
    yield* recordAuditInTx(tx, t, {
      workspaceId,
      actor,
      action: 'stripe_settings.clear',
      targetType: 'stripe_settings',
      targetId: workspaceId,
      before: stripeSettingsSnapshot(removed[0]),
      after: { fallsBackTo: stripeAccounts.deployment.mode === 'none' ? 'none' : 'deployment', stripeCustomerIdsCleared: cleared, webhookEndpointDeleted },
      requestId,
    });
  });
  logger.info({ requestId, workspaceId, webhookEndpointDeleted }, 'Cleared workspace Stripe keys');
  return getStripeSettings(deps);
}

/** Delete the endpoint Tally registered, with the workspace's key. Best effort: false (and logged) when it could not. */
async function deleteRegisteredEndpoint(deps: StripeSettingsDeps, webhookEndpointId: string, secretKeySealed: string): Promise<boolean> {
  const { stripeAccounts, logger, workspaceId, requestId } = deps;
  const couldNot = (fields: Record<string, unknown>) => {
    logger.warn({ requestId, workspaceId, webhookEndpointId, ...fields }, 'Could not delete the workspace webhook endpoint at Stripe; removing the keys anyway');
    return false;
  };
  if (!stripeAccounts.keyring) return couldNot({ reason: 'TALLY_SECRET_ENCRYPTION_KEY is not set' });
  let secretKey: string;
  try {
    secretKey = decryptSecret({ keyring: stripeAccounts.keyring, workspaceId, sealed: secretKeySealed });
  } catch (err) {
    if (!(err instanceof SecretDecryptionError)) throw err;
    return couldNot({ reason: err.message });
  }
  try {
    await stripeAccounts.clientForKey(secretKey).webhookEndpoints.del(webhookEndpointId, undefined, { timeout: SETTINGS_STRIPE_TIMEOUT_MS, maxNetworkRetries: 1 });
    return true;
  } catch (err) {
    // Already gone (deleted in the Dashboard): what was wanted.
    if (classifyStripeError(err) === 'refused' && (err as { statusCode?: number }).statusCode === 404) return true;
    return couldNot(stripeErrorFields(err, [secretKey]));
  }
}

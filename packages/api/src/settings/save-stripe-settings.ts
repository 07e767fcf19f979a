import { all, and, eq, get, sql, type Tables, type TxBody, type TxBuilder } from '@tally/db';
import { recordAuditInTx } from '../audit/record';
import { AppError } from '../errors';
import { STRIPE_SECRET_KEY_PATTERN, STRIPE_WEBHOOK_SECRET_PATTERN, type SaveStripeSettingsInput } from '../schemas/settings';
import { decryptSecret, encryptSecret, SecretDecryptionError, type SecretKeyring } from '../secrets/encryption';
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
  type WorkspaceStripeAccountRow,
} from './shared';

/** Account ids as Stripe writes them (`acct_1Pgc...`), checked before one is stored. */
const ACCOUNT_ID_PATTERN = /^acct_[A-Za-z0-9_]{1,255}$/;

/**
 * Save a workspace's own Stripe key (and optionally its webhook signing secret), after
 * checking the key with Stripe.
 *
 * 1. Without a keyring (TALLY_SECRET_ENCRYPTION_KEY unset) -> PRECONDITION_FAILED naming it;
 *    nothing is stored, ever in plain text.
 * 2. Shapes: `sk_`/`rk_` + `test`/`live` + `_` + 8 or more `[A-Za-z0-9_]`; `whsec_` + 8 or more
 *    (BAD_REQUEST otherwise, never echoing the value).
 * 3. `GET /v1/account` with the key (stripe.com/docs/api/accounts/retrieve, the SDK's
 *    `accounts.retrieveCurrent()`), 10 s timeout:
 *    - Stripe refuses the key (401 authentication, 403 permission, other 4xx) -> BAD_REQUEST
 *      "Stripe refused this key: <Stripe's message, keys masked>", nothing stored;
 *    - Stripe unreachable (connection error, 5xx, 429) -> saved with `verifiedAt` null
 *      (`verification: 'unverified'`, "not verified" on the page), and logged;
 *    - accepted -> saved with `verifiedAt` and the `acct_...` id.
 * 4. One transaction: upsert the row (key and secret sealed with AES-256-GCM for this
 *    workspace, last 4 characters, mode and kind from the key, who and when), and the audit
 *    entry `stripe_settings.save` (before/after: mode, kind, last 4, verified, account id,
 *    secret's last 4, endpoint id).
 *
 * The Stripe account changes ("another account") unless the new key is the stored key, or
 * both are verified with the same `acct_...` id and have the same mode (test objects do not
 * exist in live mode). A first save replaces the deployment's Stripe, another account too.
 * When it changes, in the same transaction, the workspace's customers lose their
 * `stripeCustomerId` (those belong to the old account; the next payment creates them in the
 * new one: `stripeCustomerIdsCleared` in the audit entry), and a stored webhook secret and
 * registered endpoint are dropped unless `webhookSecret` is given. Without a change, saving
 * without `webhookSecret` keeps the stored one and the endpoint.
 *
 * @returns the settings view and `verification`.
 * @throws AppError PRECONDITION_FAILED (no keyring), BAD_REQUEST (shape, or Stripe refused the key).
 */
export async function saveStripeSettings(
  deps: StripeSettingsDeps,
  input: SaveStripeSettingsInput,
): Promise<StripeSettingsView & { verification: 'verified' | 'unverified' }> {
  const { db, stripeAccounts, logger, workspaceId, actor, requestId } = deps;
  const keyring = requireKeyring(stripeAccounts);
  const secretKey = typeof input.secretKey === 'string' ? input.secretKey.trim() : '';
  const webhookSecret = typeof input.webhookSecret === 'string' && input.webhookSecret.trim() !== '' ? input.webhookSecret.trim() : null;
  if (!STRIPE_SECRET_KEY_PATTERN.test(secretKey)) throw new AppError('BAD_REQUEST', 'secretKey must be a Stripe secret key (sk_test_..., sk_live_...) or restricted key (rk_test_..., rk_live_...)');
  if (webhookSecret !== null && !STRIPE_WEBHOOK_SECRET_PATTERN.test(webhookSecret)) throw new AppError('BAD_REQUEST', 'webhookSecret must be a Stripe webhook signing secret (whsec_...)');
  const secrets = webhookSecret ? [secretKey, webhookSecret] : [secretKey];

  // Verify before anything is written (never inside the transaction: no awaits there).
  let stripeAccountId: string | null = null;
  try {
    const account = await stripeAccounts.clientForKey(secretKey).accounts.retrieveCurrent(undefined, { timeout: SETTINGS_STRIPE_TIMEOUT_MS, maxNetworkRetries: 1 });
    stripeAccountId = typeof account.id === 'string' && ACCOUNT_ID_PATTERN.test(account.id) ? account.id : null;
  } catch (err) {
    const kind = classifyStripeError(err);
    if (kind === 'other') throw err;
    if (kind === 'refused') {
      logger.warn({ requestId, workspaceId, ...stripeErrorFields(err, secrets) }, 'Stripe refused a workspace key; not saved');
      throw new AppError('BAD_REQUEST', `Stripe refused this key: ${maskSecrets((err as Error).message, secrets)}`);
    }
    logger.warn({ requestId, workspaceId, ...stripeErrorFields(err, secrets) }, 'Stripe unreachable while checking a workspace key; saved as not verified');
  }
  const verifiedAt = stripeAccountId ? new Date() : null;

  const mode = secretKey.includes('_live_') ? ('live' as const) : ('test' as const);
  const keyKind = secretKey.startsWith('rk_') ? ('restricted' as const) : ('secret' as const);
  const secretKeySealed = encryptSecret({ keyring, workspaceId, plaintext: secretKey });
  const webhookSecretSealed = webhookSecret ? encryptSecret({ keyring, workspaceId, plaintext: webhookSecret }) : null;
  const now = new Date();

  await db.transaction(function* (tx) {
    const t = db.t;
    const w = t.workspaceStripeAccounts;
    const previous = yield* get(tx.select().from(w).where(eq(w.workspaceId, workspaceId)).limit(1));
    const sameAccount = previous !== undefined && isSameAccount({ keyring, workspaceId, previous, secretKey, mode, stripeAccountId });
    const keepWebhook = sameAccount && webhookSecretSealed === null;
    const values = {
      workspaceId,
      secretKeySealed,
      keyKind,
      mode,
      keyLast4: last4(secretKey),
      webhookSecretSealed: keepWebhook ? previous!.webhookSecretSealed : webhookSecretSealed,
      webhookSecretLast4: keepWebhook ? previous!.webhookSecretLast4 : webhookSecret ? last4(webhookSecret) : null,
      stripeAccountId,
      verifiedAt,
      // A registered endpoint lives on its account and sends with its own secret.
      webhookEndpointId: keepWebhook ? previous!.webhookEndpointId : null,
      webhookEndpointRegisteredAt: keepWebhook ? previous!.webhookEndpointRegisteredAt : null,
      savedByUserId: actor.userId,
      savedAt: now,
    };
    const { workspaceId: _key, ...changes } = values;
    const [saved] = yield* all(tx.insert(w).values(values).onConflictDoUpdate({ target: w.workspaceId, set: changes }).returning());
    const cleared = sameAccount ? 0 : yield* clearStripeCustomerIdsInTx(tx, t, workspaceId);
    yield* recordAuditInTx(tx, t, {
      workspaceId,
      actor,
      action: 'stripe_settings.save',
      targetType: 'stripe_settings',
      targetId: workspaceId,
      before: stripeSettingsSnapshot(previous),
      after: { ...stripeSettingsSnapshot(saved), accountChanged: !sameAccount, stripeCustomerIdsCleared: cleared },
      requestId,
    });
  });
  logger.info({ requestId, workspaceId, verified: verifiedAt !== null, stripeAccountId }, 'Saved workspace Stripe key');
  return { ...(await getStripeSettings(deps)), verification: verifiedAt ? 'verified' : 'unverified' };
}

/**
 * Whether a new key reaches the same Stripe account, in the same mode, as the stored row:
 * the very same key, or both verified as one `acct_...`. Anything unknown counts as another
 * account (the safe side: ids are recreated rather than used against the wrong account).
 */
function isSameAccount({
  keyring,
  workspaceId,
  previous,
  secretKey,
  mode,
  stripeAccountId,
}: {
  keyring: SecretKeyring;
  workspaceId: string;
  previous: WorkspaceStripeAccountRow;
  secretKey: string;
  mode: 'test' | 'live';
  stripeAccountId: string | null;
}): boolean {
  if (previous.mode !== mode) return false;
  if (stripeAccountId && previous.stripeAccountId) return stripeAccountId === previous.stripeAccountId;
  try {
    return decryptSecret({ keyring, workspaceId, sealed: previous.secretKeySealed }) === secretKey;
  } catch (err) {
    if (err instanceof SecretDecryptionError) return false;
    throw err;
  }
}

/**
 * Transaction step: forget the Stripe customer ids of the workspace's customers (they belong
 * to a Stripe account the workspace no longer uses; `ensureStripeCustomer` creates new ones
 * on next use). Returns how many were cleared.
 */
export function* clearStripeCustomerIdsInTx(tx: TxBuilder, t: Tables, workspaceId: string): TxBody<number> {
  const c = t.customers;
  const cleared = yield* all(
    tx
      .update(c)
      .set({ stripeCustomerId: null })
      .where(and(eq(c.workspaceId, workspaceId), sql`${c.stripeCustomerId} is not null`))
      .returning({ id: c.id }),
  );
  return cleared.length;
}

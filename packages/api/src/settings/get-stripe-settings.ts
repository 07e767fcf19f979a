import { desc, eq, type Database } from '@tally/db';
import type { ApiConfig } from '../services';
import type { DeploymentStripeMode, StripeAccounts } from '../stripe/accounts';
import { workspaceWebhookUrl } from '../webhooks/endpoint';

/**
 * What Settings -> Stripe shows. Never a key or a secret: only their last 4 characters.
 * - `encryptionAvailable`: TALLY_SECRET_ENCRYPTION_KEY is set (else `save` is refused).
 * - `source`: which Stripe the workspace uses now: its own keys, the deployment's env keys (or
 *   the emulator), or none (`unavailableReason` says why, e.g. keys that cannot be decrypted).
 * - `key`: the stored key, if any; `verified` when `GET /v1/account` accepted it (`verifiedAt`).
 * - `webhookUrl`: `<TALLY_PUBLIC_URL>/api/stripe/webhook/<workspaceId>`; `listenCommand`: the
 *   Stripe CLI line forwarding test events to it (stripe.com/docs/stripe-cli#forward-events).
 * - `lastEventAt`: when the last signed event of this workspace was received (either URL).
 */
export interface StripeSettingsView {
  encryptionAvailable: boolean;
  source: 'workspace' | 'deployment' | 'none';
  deploymentMode: DeploymentStripeMode;
  key: null | {
    mode: 'test' | 'live';
    kind: 'secret' | 'restricted';
    last4: string;
    savedAt: Date;
    savedByEmail: string | null;
    verified: boolean;
    verifiedAt: Date | null;
    stripeAccountId: string | null;
  };
  webhookSecret: null | { last4: string };
  webhookEndpoint: null | { id: string; registeredAt: Date | null };
  webhookUrl: string;
  listenCommand: string;
  lastEventAt: Date | null;
  /** Why payments cannot start for this workspace (no Stripe, or stored keys that cannot be decrypted); null when they can. */
  unavailableReason: string | null;
}

/** The Stripe settings of `workspaceId`, as an admin of it sees them (reads only; never calls Stripe). */
export async function getStripeSettings({
  db,
  stripeAccounts,
  config,
  workspaceId,
}: {
  db: Database;
  stripeAccounts: StripeAccounts;
  config: ApiConfig;
  workspaceId: string;
}): Promise<StripeSettingsView> {
  const { workspaceStripeAccounts: w, users, stripeEvents: e } = db.t;
  const [[row], [last], stripe] = await Promise.all([
    db.q
      .select({ account: w, savedByEmail: users.email })
      .from(w)
      .leftJoin(users, eq(users.id, w.savedByUserId))
      .where(eq(w.workspaceId, workspaceId))
      .limit(1),
    // The newest of the workspace's events (index stripe_events_workspace_id_received_at_idx).
    db.q.select({ at: e.receivedAt }).from(e).where(eq(e.workspaceId, workspaceId)).orderBy(desc(e.receivedAt)).limit(1),
    stripeAccounts.forWorkspace(db, workspaceId),
  ]);
  const account = row?.account;
  const webhookUrl = workspaceWebhookUrl(config.publicUrl, workspaceId);
  return {
    encryptionAvailable: stripeAccounts.keyring !== null,
    source: stripe.source,
    deploymentMode: stripeAccounts.deployment.mode,
    key: account
      ? {
          mode: account.mode,
          kind: account.keyKind,
          last4: account.keyLast4,
          savedAt: account.savedAt,
          savedByEmail: row?.savedByEmail ?? null,
          verified: account.verifiedAt !== null,
          verifiedAt: account.verifiedAt,
          stripeAccountId: account.stripeAccountId,
        }
      : null,
    webhookSecret: account?.webhookSecretLast4 ? { last4: account.webhookSecretLast4 } : null,
    webhookEndpoint: account?.webhookEndpointId ? { id: account.webhookEndpointId, registeredAt: account.webhookEndpointRegisteredAt } : null,
    webhookUrl,
    listenCommand: `stripe listen --forward-to ${webhookUrl}`,
    lastEventAt: last?.at ?? null,
    unavailableReason: stripe.configured ? null : stripe.reason,
  };
}


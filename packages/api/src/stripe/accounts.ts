/**
 * One Stripe client per workspace, chosen per request (never a process-global key).
 *
 * A workspace with its own keys (Settings -> Stripe, `workspace_stripe_accounts`, sealed
 * under TALLY_SECRET_ENCRYPTION_KEY) uses them; one without uses the deployment's
 * (`STRIPE_SECRET_KEY`/`STRIPE_WEBHOOK_SECRET`, or the emulator in development). Clients are
 * cached by secret key, so two workspaces pasting the same key share one client and a
 * changed key gets a new one.
 */
import { eq, type Database } from '@tally/db';
import type Stripe from 'stripe';
import { decryptSecret, SecretDecryptionError, type SecretKeyring } from '../secrets/encryption';
import type { StripeAccountExpectation } from '../webhooks/payment-mismatches';

/** What the deployment itself talks to. `none`: no env key and no emulator (production with per-workspace keys only). */
export type DeploymentStripeMode = 'emulator' | 'test' | 'live' | 'none';

export interface DeploymentStripe {
  mode: DeploymentStripeMode;
  /** The env key's client (or the emulator's); null when `mode` is `none`. */
  client: Stripe | null;
  /** `STRIPE_WEBHOOK_SECRET` (or the emulator's); null when `mode` is `none`. */
  webhookSecret: string | null;
}

/** The Stripe a workspace uses right now. */
export type WorkspaceStripe =
  | {
      configured: true;
      /** `workspace`: its own pasted keys; `deployment`: the env keys or the emulator. */
      source: 'workspace' | 'deployment';
      client: Stripe;
      mode: 'emulator' | 'test' | 'live';
      /** Events must carry this `livemode`. */
      expected: StripeAccountExpectation;
      /** Verifies this workspace's webhook URL; null until one is pasted or registered. */
      webhookSecret: string | null;
      /** `acct_...` when verified (own keys only). */
      stripeAccountId: string | null;
    }
  | {
      configured: false;
      source: 'workspace' | 'none';
      /** Why payments cannot start, for the admin (CONFLICT message). */
      reason: string;
      webhookSecret: null;
    };

export interface StripeAccounts {
  deployment: DeploymentStripe;
  /** Seals and opens workspace secrets; null without TALLY_SECRET_ENCRYPTION_KEY. */
  keyring: SecretKeyring | null;
  /** A client for a secret key (cached), pointed where the deployment's Stripe is (Stripe, or the emulator). */
  clientForKey(secretKey: string): Stripe;
  /** The Stripe `workspaceId` uses. Never throws for a missing row; decryption failures become `configured: false`. */
  forWorkspace(db: Database, workspaceId: string): Promise<WorkspaceStripe>;
}

/** Most cached clients; the oldest is dropped beyond it. */
const CLIENT_CACHE_SIZE = 500;

export function createStripeAccounts({
  deployment,
  keyring,
  createClient,
}: {
  deployment: DeploymentStripe;
  keyring: SecretKeyring | null;
  /** Builds the real `stripe` SDK for a key (the server points it at Stripe or at the emulator). */
  createClient: (secretKey: string) => Stripe;
}): StripeAccounts {
  const cache = new Map<string, Stripe>();
  const clientForKey = (secretKey: string): Stripe => {
    let client = cache.get(secretKey);
    if (!client) {
      client = createClient(secretKey);
      cache.set(secretKey, client);
      if (cache.size > CLIENT_CACHE_SIZE) cache.delete(cache.keys().next().value as string);
    }
    return client;
  };

  const fromDeployment = (): WorkspaceStripe =>
    deployment.mode === 'none' || !deployment.client
      ? {
          configured: false,
          source: 'none',
          reason: 'Stripe is not configured for this workspace: an admin pastes its keys in Settings -> Stripe (this deployment has no STRIPE_SECRET_KEY). Payments can still be marked paid by hand.',
          webhookSecret: null,
        }
      : {
          configured: true,
          source: 'deployment',
          client: deployment.client,
          mode: deployment.mode,
          expected: { livemode: deployment.mode === 'live' },
          webhookSecret: deployment.webhookSecret,
          stripeAccountId: null,
        };

  return {
    deployment,
    keyring,
    clientForKey,
    async forWorkspace(db, workspaceId) {
      const { workspaceStripeAccounts: w } = db.t;
      const [row] = await db.q.select().from(w).where(eq(w.workspaceId, workspaceId)).limit(1);
      if (!row) return fromDeployment();
      if (!keyring) {
        return {
          configured: false,
          source: 'workspace',
          reason: "This workspace's Stripe keys are stored encrypted, but TALLY_SECRET_ENCRYPTION_KEY is not set on this server, so they cannot be used.",
          webhookSecret: null,
        };
      }
      try {
        const secretKey = decryptSecret({ keyring, workspaceId, sealed: row.secretKeySealed });
        const webhookSecret = row.webhookSecretSealed ? decryptSecret({ keyring, workspaceId, sealed: row.webhookSecretSealed }) : null;
        return {
          configured: true,
          source: 'workspace',
          client: clientForKey(secretKey),
          mode: deployment.mode === 'emulator' ? 'emulator' : row.mode,
          expected: { livemode: row.mode === 'live' },
          webhookSecret,
          stripeAccountId: row.stripeAccountId,
        };
      } catch (err) {
        if (!(err instanceof SecretDecryptionError)) throw err;
        return {
          configured: false,
          source: 'workspace',
          reason: "This workspace's Stripe keys cannot be decrypted with TALLY_SECRET_ENCRYPTION_KEY (rotated without TALLY_SECRET_ENCRYPTION_KEY_PREVIOUS?); an admin must paste them again.",
          webhookSecret: null,
        };
      }
    },
  };
}

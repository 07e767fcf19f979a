/**
 * Zod inputs of Settings -> Stripe (`settings.stripe.*`), shared with the SPA (no server
 * imports; nothing from `../schemas` either, which re-exports this file). No message ever
 * contains the value it refuses: a pasted key is a secret even when it is malformed.
 */
import { z } from 'zod';

/**
 * A Stripe secret key (`sk_test_...`, `sk_live_...`) or restricted key (`rk_test_...`,
 * `rk_live_...`): prefix, mode, `_`, then at least 8 letters, digits or `_`
 * (stripe.com/docs/keys#obtain-api-keys). Publishable keys (`pk_...`) cannot call the API.
 */
export const STRIPE_SECRET_KEY_PATTERN = /^(sk|rk)_(test|live)_[A-Za-z0-9_]{8,}$/;
/** A webhook endpoint's signing secret (`whsec_...`, stripe.com/docs/webhooks#endpoint-secrets). */
export const STRIPE_WEBHOOK_SECRET_PATTERN = /^whsec_[A-Za-z0-9_]{8,}$/;
/** Longest key or signing secret accepted, characters. Stripe's keys are about 100 characters; Stripe documents no maximum. */
export const STRIPE_SECRET_MAX = 500;

const secretKeyMessage = 'secretKey must be a Stripe secret key (sk_test_..., sk_live_...) or restricted key (rk_test_..., rk_live_...)';
const webhookSecretMessage = 'webhookSecret must be a Stripe webhook signing secret (whsec_...)';

/** A pasted secret or restricted key: surrounding whitespace trimmed, then checked by shape and length. */
export const stripeSecretKeySchema = z
  .string({ error: secretKeyMessage })
  .max(STRIPE_SECRET_MAX * 2, secretKeyMessage)
  .trim()
  .max(STRIPE_SECRET_MAX, secretKeyMessage)
  .regex(STRIPE_SECRET_KEY_PATTERN, secretKeyMessage);

/** A pasted webhook signing secret: trimmed, checked by shape and length. */
export const stripeWebhookSecretSchema = z
  .string({ error: webhookSecretMessage })
  .max(STRIPE_SECRET_MAX * 2, webhookSecretMessage)
  .trim()
  .max(STRIPE_SECRET_MAX, webhookSecretMessage)
  .regex(STRIPE_WEBHOOK_SECRET_PATTERN, webhookSecretMessage);

/**
 * Input of `settings.stripe.save`. `webhookSecret` absent, null or empty (a blank field):
 * keep the stored one if the key still reaches the same Stripe account and mode.
 */
export const SaveStripeSettingsInput = z.object({
  secretKey: stripeSecretKeySchema,
  webhookSecret: z.preprocess((v) => (v === null || (typeof v === 'string' && v.trim() === '') ? undefined : v), stripeWebhookSecretSchema.optional()),
});
export type SaveStripeSettingsInput = z.infer<typeof SaveStripeSettingsInput>;

/**
 * Plain constants shared with other packages (`@tally/stripe-emulator/defaults`).
 * This module must stay import-free so that importing it never loads the emulator.
 */

/** Port the emulator listens on by default (the same one stripe-mock uses). */
export const EMULATOR_DEFAULT_PORT = 12111;

/** Test-mode secret key for local development against the emulator: the key of the default account. Any `sk_test_` key of 12+ chars works. */
export const EMULATOR_DEV_API_KEY = 'sk_test_tally_emulator_dev';

/** Webhook signing secret the emulator uses in development (`Stripe-Signature` v1 HMAC key). */
export const EMULATOR_DEV_WEBHOOK_SECRET = 'whsec_tally_emulator_dev_only_not_a_secret';

/** Stripe API version the emulator renders objects and events in (the `stripe` 23.1.0 SDK's pinned version). */
export const EMULATOR_API_VERSION = '2026-10-28.endive';

/**
 * A second ready-made test key, for tests and demos that need two Stripe accounts on one
 * emulator: with `accountPerKey` (on in `pnpm dev`) it reaches an account of its own, separate
 * from {@link EMULATOR_DEV_API_KEY}'s (the default account).
 */
export const EMULATOR_SECOND_API_KEY = 'sk_test_tally_emulator_second_account';

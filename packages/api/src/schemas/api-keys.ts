/**
 * Workspace API keys (issue 8 item 4; issue 9 item 2 adds the admin page): shapes shared by
 * the server, the CLI and the SPA (no server imports; nothing from `../schemas`, which
 * re-exports this file).
 *
 * A key is `tly_live_` or `tly_test_` followed by 43 base62 characters (0-9, A-Z, a-z):
 * 43 x log2(62) = 256 bits from `crypto.randomBytes`. It is shown once, when created, and
 * stored only as its SHA-256 (hex). Lists show `displayPrefix`: the mode prefix and the first
 * 5 random characters (`tly_test_Ab3dE`).
 */
import { z } from 'zod';

export const API_KEY_MODES = ['live', 'test'] as const;
export type ApiKeyMode = (typeof API_KEY_MODES)[number];

/** `tly_<mode>_`. */
export const API_KEY_PREFIX: Readonly<Record<ApiKeyMode, string>> = { live: 'tly_live_', test: 'tly_test_' };
/** Random characters after the prefix (base62: 43 characters carry 256 bits). */
export const API_KEY_RANDOM_LENGTH = 43;
/** Random characters kept in `displayPrefix`. */
export const API_KEY_DISPLAY_CHARS = 5;
/** The whole shape of a key; anything else is refused before any query. */
export const API_KEY_PATTERN = /^tly_(live|test)_[0-9A-Za-z]{43}$/;

/** Longest key name, characters (after trimming). */
export const API_KEY_NAME_MAX = 100;

// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

/** A key's name (what it is for, e.g. "voice backend"): trimmed, 1 to 100 characters, no control characters. */
export const apiKeyNameSchema = z
  .string({ error: 'name is required' })
  .trim()
  .min(1, 'name must not be empty')
  .max(API_KEY_NAME_MAX, `name must be at most ${API_KEY_NAME_MAX} characters`)
  .refine((s) => !CONTROL_CHARACTERS.test(s), 'name must not contain control characters');

export const apiKeyModeSchema = z.enum(API_KEY_MODES, { error: 'mode must be live or test' });

/** Creating a key (CLI now; the admin page of issue 9). */
export const CreateApiKeyInput = z.object({ name: apiKeyNameSchema, mode: apiKeyModeSchema });
export type CreateApiKeyInput = z.input<typeof CreateApiKeyInput>;

/** Revoking a key: its id (a Tally UUID). */
export const RevokeApiKeyInput = z.object({ keyId: z.uuid({ error: 'keyId must be a Tally id (a UUID)' }) });
export type RevokeApiKeyInput = z.infer<typeof RevokeApiKeyInput>;

/** Whether `value` has the shape of a Tally API key (`tly_live_`/`tly_test_` + 43 base62 characters). */
export function isApiKeyShaped(value: unknown): value is string {
  return typeof value === 'string' && value.length === 9 + API_KEY_RANDOM_LENGTH && API_KEY_PATTERN.test(value);
}

import { randomBytes } from 'node:crypto';
import { eq, run, type Database } from '@tally/db';
import { recordAuditInTx, type AuditActor } from '../audit/record';
import { AppError, notFound } from '../errors';
import { newId, isTallyId } from '../ids';
import { API_KEY_DISPLAY_CHARS, API_KEY_PREFIX, API_KEY_RANDOM_LENGTH, CreateApiKeyInput, type ApiKeyMode } from '../schemas/api-keys';
import { hashApiKey } from './hash';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/**
 * `length` base62 characters from `crypto.randomBytes`, unbiased: bytes >= 248 (= 4 x 62) are
 * dropped (rejection sampling), so each character is uniform over the 62.
 */
export function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte >= 248) continue;
      out += BASE62[byte % 62];
      if (out.length === length) break;
    }
  }
  return out;
}

export interface CreatedApiKey {
  id: string;
  /** The whole key: returned once, here, and never stored or shown again. */
  key: string;
  /** `tly_<mode>_` and the first 5 random characters, for lists. */
  displayPrefix: string;
  name: string;
  mode: ApiKeyMode;
  workspaceId: string;
  createdAt: Date;
}

/**
 * Create a workspace API key: `tly_live_` / `tly_test_` + 43 base62 characters (256 random
 * bits), stored as its SHA-256 hex (`api_keys.key_hash`); the key itself is only in the result.
 * With `actor`, an `api_key.create` audit entry (name, mode, display prefix; never the key) is
 * written in the same transaction.
 * @throws AppError BAD_REQUEST for a malformed workspace id, name (1-100 characters, no control
 *   characters) or mode (`live` | `test`); NOT_FOUND for an unknown workspace.
 */
export async function createApiKey(
  db: Database,
  { workspaceId, name, mode, createdByUserId, actor }: { workspaceId: string; name: string; mode: ApiKeyMode; createdByUserId?: string | null; actor?: AuditActor },
): Promise<CreatedApiKey> {
  if (typeof workspaceId !== 'string' || !isTallyId(workspaceId)) throw new AppError('BAD_REQUEST', 'workspaceId must be a Tally id (a UUID)');
  if (createdByUserId != null && (typeof createdByUserId !== 'string' || createdByUserId.length > 255)) throw new AppError('BAD_REQUEST', 'createdByUserId must be a user id');
  const parsed = CreateApiKeyInput.safeParse({ name, mode });
  if (!parsed.success) throw new AppError('BAD_REQUEST', parsed.error.issues.map((i) => i.message).join('; '));
  const input = parsed.data;

  const { workspaces: w } = db.t;
  const [workspace] = await db.q.select({ id: w.id }).from(w).where(eq(w.id, workspaceId));
  if (!workspace) throw notFound('Workspace');

  const random = randomBase62(API_KEY_RANDOM_LENGTH);
  const key = `${API_KEY_PREFIX[input.mode]}${random}`;
  const displayPrefix = `${API_KEY_PREFIX[input.mode]}${random.slice(0, API_KEY_DISPLAY_CHARS)}`;
  const id = newId();
  const createdAt = new Date();
  await db.transaction(function* (tx) {
    const t = db.t;
    yield* run(tx.insert(t.apiKeys).values({ id, workspaceId, name: input.name, mode: input.mode, displayPrefix, keyHash: hashApiKey(key), createdByUserId: createdByUserId ?? null, createdAt }));
    if (actor) {
      yield* recordAuditInTx(tx, t, {
        workspaceId,
        actor,
        action: 'api_key.create',
        targetType: 'api_key',
        targetId: id,
        after: { name: input.name, mode: input.mode, displayPrefix },
      });
    }
  });
  return { id, key, displayPrefix, name: input.name, mode: input.mode, workspaceId, createdAt };
}


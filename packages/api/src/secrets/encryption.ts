/**
 * Workspace secrets at rest (Stripe keys, webhook signing secrets): AES-256-GCM
 * (NIST SP 800-38D) with a random 96-bit nonce per value and the workspace id as additional
 * authenticated data, so a value copied into another workspace's row does not decrypt.
 *
 * Sealed form (one ASCII string, safe in a text column):
 * `v1.<keyId>.<nonce>.<ciphertext>.<tag>`, base64url parts; `keyId` is the first 12 hex
 * characters of SHA-256 of the key, so a sealed value names the key that opens it and
 * rotation (`TALLY_SECRET_ENCRYPTION_KEY_PREVIOUS`) can tell which values still need it.
 * Keys are 32 random bytes (`openssl rand -base64 32`).
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/** The key new values are sealed with, and optionally the one being rotated out (both 32 bytes). */
export interface SecretKeyring {
  current: Buffer;
  previous?: Buffer | null;
}

/** A sealed value that cannot be opened: wrong workspace, tampered, unknown key, or malformed. Its message never contains the value. */
export class SecretDecryptionError extends Error {
  constructor(reason: string) {
    super(`Stored secret cannot be decrypted: ${reason}`);
    this.name = 'SecretDecryptionError';
  }
}

const VERSION = 'v1';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/** Id of a key as written in sealed values: first 12 hex characters of its SHA-256. */
export function secretKeyId(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 12);
}

/**
 * A 32-byte key from its text form (base64, base64url or 64 hex characters).
 * @throws RangeError naming what is wrong (never echoing the key).
 */
export function parseSecretKey(text: string): Buffer {
  const t = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(t) ? Buffer.from(t, 'hex') : /^[A-Za-z0-9+/_-]+={0,2}$/.test(t) ? Buffer.from(t, 'base64') : null;
  if (!key || key.length !== 32) throw new RangeError('must be 32 bytes, written as base64 (openssl rand -base64 32) or 64 hex characters');
  return key;
}

const aad = (workspaceId: string) => Buffer.from(`tally-workspace-secret:${workspaceId}`, 'utf8');

/** Seal `plaintext` for `workspaceId` under the keyring's current key (a fresh nonce each call). */
export function encryptSecret({ keyring, workspaceId, plaintext }: { keyring: SecretKeyring; workspaceId: string; plaintext: string }): string {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', keyring.current, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad(workspaceId));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [VERSION, secretKeyId(keyring.current), nonce.toString('base64url'), ciphertext.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
}

/**
 * Open a value sealed by `encryptSecret` for `workspaceId`, with whichever keyring key it names.
 * @throws SecretDecryptionError when it is malformed, names a key the keyring lacks, belongs
 *   to another workspace, or was altered.
 */
export function decryptSecret({ keyring, workspaceId, sealed }: { keyring: SecretKeyring; workspaceId: string; sealed: string }): string {
  const parts = sealed.split('.');
  if (parts.length !== 5 || parts[0] !== VERSION) throw new SecretDecryptionError('not a v1 sealed value');
  const [, keyId, nonceText, ciphertextText, tagText] = parts as [string, string, string, string, string];
  const key = [keyring.current, keyring.previous].find((k): k is Buffer => Boolean(k) && secretKeyId(k!) === keyId);
  if (!key) throw new SecretDecryptionError(`sealed with key ${keyId}, which is neither TALLY_SECRET_ENCRYPTION_KEY nor TALLY_SECRET_ENCRYPTION_KEY_PREVIOUS`);
  const nonce = Buffer.from(nonceText, 'base64url');
  const tag = Buffer.from(tagText, 'base64url');
  if (nonce.length !== NONCE_BYTES || tag.length !== TAG_BYTES) throw new SecretDecryptionError('malformed nonce or tag');
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
    decipher.setAAD(aad(workspaceId));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(Buffer.from(ciphertextText, 'base64url')), decipher.final()]).toString('utf8');
  } catch {
    throw new SecretDecryptionError('authentication failed (another workspace, or altered)');
  }
}

/** Whether a sealed value is under another key than the current one (rotation re-seals it). */
export function isSealedWithOldKey(keyring: SecretKeyring, sealed: string): boolean {
  return sealed.split('.')[1] !== secretKeyId(keyring.current);
}

/**
 * Re-seal a value under the current key (rotation: `pnpm tally secrets rotate`); unchanged when
 * it already is. @throws SecretDecryptionError as `decryptSecret`.
 */
export function resealSecret({ keyring, workspaceId, sealed }: { keyring: SecretKeyring; workspaceId: string; sealed: string }): string {
  if (!isSealedWithOldKey(keyring, sealed)) return sealed;
  return encryptSecret({ keyring, workspaceId, plaintext: decryptSecret({ keyring, workspaceId, sealed }) });
}

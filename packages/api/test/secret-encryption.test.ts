import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decryptSecret, encryptSecret, isSealedWithOldKey, parseSecretKey, resealSecret, SecretDecryptionError, secretKeyId } from '../src/secrets/encryption';

const SECRET = 'sk_test_0123456789abcdefFAKE';
const keyA = randomBytes(32);
const keyB = randomBytes(32);

describe('workspace secret encryption (AES-256-GCM, workspace id as AAD)', () => {
  it('round-trips, with a fresh nonce each time and no trace of the plaintext', () => {
    const keyring = { current: keyA };
    const one = encryptSecret({ keyring, workspaceId: 'ws-1', plaintext: SECRET });
    const two = encryptSecret({ keyring, workspaceId: 'ws-1', plaintext: SECRET });
    expect(one).not.toBe(two);
    expect(one).not.toContain(SECRET.slice(8));
    expect(one.split('.')).toHaveLength(5);
    expect(one.split('.')[1]).toBe(secretKeyId(keyA));
    expect(decryptSecret({ keyring, workspaceId: 'ws-1', sealed: one })).toBe(SECRET);
    expect(decryptSecret({ keyring, workspaceId: 'ws-1', sealed: two })).toBe(SECRET);
  });

  it("refuses a value moved to another workspace's row, a tampered one, an unknown key and garbage", () => {
    const keyring = { current: keyA };
    const sealed = encryptSecret({ keyring, workspaceId: 'ws-1', plaintext: SECRET });
    expect(() => decryptSecret({ keyring, workspaceId: 'ws-2', sealed })).toThrow(SecretDecryptionError);
    const parts = sealed.split('.');
    const flipped = Buffer.from(parts[3]!, 'base64url');
    flipped[0]! ^= 1;
    const tampered = [...parts.slice(0, 3), flipped.toString('base64url'), parts[4]].join('.');
    expect(() => decryptSecret({ keyring, workspaceId: 'ws-1', sealed: tampered })).toThrow(/authentication failed/);
    expect(() => decryptSecret({ keyring: { current: keyB }, workspaceId: 'ws-1', sealed })).toThrow(/neither TALLY_SECRET_ENCRYPTION_KEY/);
    for (const garbage of ['', 'v1.x', SECRET, 'v2.a.b.c.d']) expect(() => decryptSecret({ keyring, workspaceId: 'ws-1', sealed: garbage })).toThrow(SecretDecryptionError);
    try {
      decryptSecret({ keyring, workspaceId: 'ws-2', sealed });
    } catch (err) {
      expect(String(err)).not.toContain(SECRET);
    }
  });

  it('rotates: the previous key still opens old values, resealing moves them to the new key, then the old key is not needed', () => {
    const old = encryptSecret({ keyring: { current: keyA }, workspaceId: 'ws-1', plaintext: SECRET });
    const rotating = { current: keyB, previous: keyA };
    expect(isSealedWithOldKey(rotating, old)).toBe(true);
    expect(decryptSecret({ keyring: rotating, workspaceId: 'ws-1', sealed: old })).toBe(SECRET);
    const resealed = resealSecret({ keyring: rotating, workspaceId: 'ws-1', sealed: old });
    expect(isSealedWithOldKey(rotating, resealed)).toBe(false);
    expect(resealSecret({ keyring: rotating, workspaceId: 'ws-1', sealed: resealed })).toBe(resealed);
    expect(decryptSecret({ keyring: { current: keyB }, workspaceId: 'ws-1', sealed: resealed })).toBe(SECRET);
  });

  it('parses 32-byte keys from base64 or hex and refuses anything else without echoing it', () => {
    expect(parseSecretKey(keyA.toString('base64')).equals(keyA)).toBe(true);
    expect(parseSecretKey(keyA.toString('base64url')).equals(keyA)).toBe(true);
    expect(parseSecretKey(keyA.toString('hex')).equals(keyA)).toBe(true);
    for (const bad of ['', 'short', randomBytes(16).toString('base64'), randomBytes(33).toString('hex'), 'not base64 at all!']) {
      expect(() => parseSecretKey(bad)).toThrow(/must be 32 bytes/);
    }
  });
});

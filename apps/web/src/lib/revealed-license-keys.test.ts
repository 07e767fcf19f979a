import { afterEach, describe, expect, it } from 'vitest';
import { forgetRevealedKeys, rememberRevealedKeys, revealedKeysSnapshot } from './revealed-license-keys';

const KEY_A = 'TLY-AAAA-BBBB-CCCC-DDDD-EEEE-FFFF-GGGG';
const KEY_B = 'TLY-1111-2222-3333-4444-5555-6666-7777';

describe('revealed license keys', () => {
  afterEach(() => forgetRevealedKeys());

  it('keeps a key shown once when a later list masks it', () => {
    rememberRevealedKeys([{ id: 'a', fullKey: KEY_A }, { id: 'b', fullKey: null }]);
    rememberRevealedKeys([{ id: 'a', fullKey: null }, { id: 'b', fullKey: null }]);
    expect(revealedKeysSnapshot().get('a')).toBe(KEY_A);
    expect(revealedKeysSnapshot().has('b')).toBe(false);
  });

  it('adds keys revealed later and changes the snapshot only when something is new', () => {
    rememberRevealedKeys([{ id: 'a', fullKey: KEY_A }]);
    const before = revealedKeysSnapshot();
    rememberRevealedKeys([{ id: 'a', fullKey: KEY_A }]);
    expect(revealedKeysSnapshot()).toBe(before);
    rememberRevealedKeys([{ id: 'b', fullKey: KEY_B }]);
    expect(revealedKeysSnapshot()).not.toBe(before);
    expect([...revealedKeysSnapshot().entries()]).toEqual([
      ['a', KEY_A],
      ['b', KEY_B],
    ]);
  });

  it('forgets everything when the session changes', () => {
    rememberRevealedKeys([{ id: 'a', fullKey: KEY_A }]);
    forgetRevealedKeys();
    expect(revealedKeysSnapshot().size).toBe(0);
  });
});

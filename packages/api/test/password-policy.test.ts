import { describe, expect, it } from 'vitest';
import { checkPasswordPolicy, PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH, passwordUserInputs } from '../src/auth/password-policy';

const owner = passwordUserInputs({ email: 'Owner@Example.com', name: 'Olivia Owner' });

describe('password policy', () => {
  it('derives guessable words from the account', () => {
    expect(owner).toEqual(expect.arrayContaining(['owner@example.com', 'owner', 'example', 'olivia owner', 'olivia']));
    expect(passwordUserInputs({})).toEqual([]);
  });

  it('refuses passwords shorter than 12 or longer than 128 characters, saying so', () => {
    expect(checkPasswordPolicy('12345678')).toEqual({ ok: false, code: 'PASSWORD_TOO_SHORT', score: null, message: `Password must be at least ${PASSWORD_MIN_LENGTH} characters long.` });
    expect(checkPasswordPolicy('x'.repeat(PASSWORD_MAX_LENGTH + 1))).toMatchObject({ ok: false, code: 'PASSWORD_TOO_LONG', message: `Password must be at most ${PASSWORD_MAX_LENGTH} characters long.` });
  });

  it.each(['password1234', '123456789012', 'qwertyuiop12', 'aaaaaaaaaaaaaaaa', 'p@ssw0rd1234'])('refuses the common password %s with zxcvbn advice', (password) => {
    const verdict = checkPasswordPolicy(password, { userInputs: owner });
    expect(verdict).toMatchObject({ ok: false, code: 'PASSWORD_TOO_WEAK' });
    if (!verdict.ok) {
      expect(verdict.score).toBeLessThan(3);
      expect(verdict.message).toMatch(/^Password is too easy to guess\. \S/);
    }
  });

  it.each(['Owner@Example.com', 'owner@example.com1', '0wner@Example.c0m!', 'Owner@Example.com2024', 'OWNER@EXAMPLE.COM', 'moc.elpmaxe@renwo'])(
    'refuses %s, derived from the account email',
    (password) => {
      const verdict = checkPasswordPolicy(password, { userInputs: owner });
      expect(verdict).toMatchObject({ ok: false, code: 'PASSWORD_TOO_WEAK' });
      expect(verdict.ok ? '' : verdict.message).toContain('personal');
    },
  );

  it('counts the account words: the email as a password passes for anyone else', () => {
    expect(checkPasswordPolicy('Owner@Example.com')).toMatchObject({ ok: true });
  });

  it('accepts a long random passphrase, and a strong password at the maximum length', () => {
    expect(checkPasswordPolicy('violet anchor mistral quorum', { userInputs: owner })).toMatchObject({ ok: true });
    expect(checkPasswordPolicy('tangerine-Glacier-47-orbit', { userInputs: owner })).toMatchObject({ ok: true });
    expect(checkPasswordPolicy('Zq8#kLp2@vN5!xR7'.repeat(8), { userInputs: owner })).toMatchObject({ ok: true });
  });
});

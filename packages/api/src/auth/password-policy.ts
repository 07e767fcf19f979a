/**
 * Tally's password rule, as a pure function: 12 to 128 characters, and a zxcvbn strength
 * score of at least 3 ("safely unguessable: moderate protection from offline slow-hash
 * attack") with the account's email and name counted as guessable words. This follows NIST
 * SP 800-63B §3.1.1.2 (a length floor, no composition rules, compare against commonly used
 * and context-specific words) and OWASP's Authentication Cheat Sheet (max length >= 64).
 * The estimator is zxcvbn-ts with its common and English dictionaries, entirely offline.
 */
import { ZxcvbnFactory, type Score } from '@zxcvbn-ts/core';
import * as zxcvbnCommon from '@zxcvbn-ts/language-common';
import * as zxcvbnEn from '@zxcvbn-ts/language-en';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from '../schemas';

// Length bounds live in schemas.ts so the SPA shows the same rule (12 to 128 characters:
// NIST SP 800-63B asks for at least 8; OWASP asks to allow at least 64; the maximum bounds hashing work).
export { PASSWORD_MIN_LENGTH, PASSWORD_MAX_LENGTH } from '../schemas';
/** Lowest zxcvbn score accepted (0..4). */
export const PASSWORD_MIN_SCORE: Score = 3;
/**
 * zxcvbn scores the first this many characters only. Its matching runs on the event loop and
 * grows fast with the length (with its defaults a random 128-character string took 1.5 s; with
 * this prefix and `l33tMaxSubstitutions: 10`, random passwords take ~20-100 ms), and a strong
 * 40-character prefix makes the whole password strong (a weak prefix can only refuse more).
 */
const SCORED_PREFIX_LENGTH = 40;

export type PasswordVerdict =
  | { ok: true; score: Score }
  | { ok: false; code: 'PASSWORD_TOO_SHORT' | 'PASSWORD_TOO_LONG' | 'PASSWORD_TOO_WEAK'; message: string; score: Score | null };

let estimator: ZxcvbnFactory | undefined;
/** The estimator, built once per process (its dictionaries are large: ~300 ms to build). */
function zxcvbn(): ZxcvbnFactory {
  estimator ??= new ZxcvbnFactory({
    dictionary: { ...zxcvbnCommon.dictionary, ...zxcvbnEn.dictionary },
    graphs: zxcvbnCommon.adjacencyGraphs,
    translations: zxcvbnEn.translations,
    maxLength: SCORED_PREFIX_LENGTH,
    // The default (100) makes l33t matching of symbol-heavy passwords take ~1 s; 10 still
    // catches the usual substitutions (p@ssw0rd).
    l33tMaxSubstitutions: 10,
  });
  return estimator;
}

/**
 * The words an account's own details give an attacker: the email, its local part and
 * domain labels, and the name and its words. Lowercased, deduplicated, empty ones dropped.
 */
export function passwordUserInputs({ email, name }: { email?: string | null; name?: string | null }): string[] {
  const words = new Set<string>();
  const add = (w: string | undefined) => {
    const v = w?.trim().toLowerCase();
    if (v && v.length >= 2) words.add(v);
  };
  if (email) {
    add(email);
    const [local, domain] = email.split('@');
    add(local);
    for (const part of local?.split(/[._+-]+/) ?? []) add(part);
    for (const label of domain?.split('.') ?? []) add(label);
  }
  if (name) {
    add(name);
    for (const part of name.split(/\s+/)) add(part);
  }
  return [...words];
}

/**
 * Judge a new password against Tally's rule (see the module doc). Pure apart from the
 * cached estimator; takes ~5-100 ms of CPU on the calling thread, depending on the password.
 * @param password the candidate, as typed.
 * @param userInputs words from the account (`passwordUserInputs`) that count as guessable.
 * @returns `{ ok: true }`, or a code and a message naming what is wrong and how to fix it
 *   (zxcvbn's warning and suggestions), ready to show to the user.
 */
export function checkPasswordPolicy(password: string, { userInputs = [] }: { userInputs?: readonly string[] } = {}): PasswordVerdict {
  if (password.length < PASSWORD_MIN_LENGTH) {
    return { ok: false, code: 'PASSWORD_TOO_SHORT', score: null, message: `Password must be at least ${PASSWORD_MIN_LENGTH} characters long.` };
  }
  if (password.length > PASSWORD_MAX_LENGTH) {
    return { ok: false, code: 'PASSWORD_TOO_LONG', score: null, message: `Password must be at most ${PASSWORD_MAX_LENGTH} characters long.` };
  }
  const result = zxcvbn().check(password, [...userInputs]);
  if (result.score >= PASSWORD_MIN_SCORE) return { ok: true, score: result.score };
  const advice = [result.feedback.warning, ...result.feedback.suggestions].filter((s): s is string => Boolean(s));
  const hint = advice.length ? ` ${advice.join(' ')}` : ' Use a longer passphrase of several uncommon words.';
  return { ok: false, code: 'PASSWORD_TOO_WEAK', score: result.score, message: `Password is too easy to guess.${hint}` };
}

import { describe, expect, it } from 'vitest';
import { linkErrorAndNext, passwordLengthError, retryAfterSeconds, tooManyAttemptsText } from './auth-errors';

describe('retryAfterSeconds', () => {
  const now = new Date('2030-01-01T00:00:00Z');
  it('reads delay-seconds from Retry-After, then X-Retry-After', () => {
    expect(retryAfterSeconds(new Headers({ 'Retry-After': '120' }), now)).toBe(120);
    expect(retryAfterSeconds(new Headers({ 'X-Retry-After': '9' }), now)).toBe(9);
    expect(retryAfterSeconds(new Headers({ 'Retry-After': '30', 'X-Retry-After': '9' }), now)).toBe(30);
  });
  it('reads an HTTP-date', () => {
    expect(retryAfterSeconds(new Headers({ 'Retry-After': 'Tue, 01 Jan 2030 00:05:00 GMT' }), now)).toBe(300);
  });
  it('is null without a usable header', () => {
    expect(retryAfterSeconds(new Headers(), now)).toBeNull();
    expect(retryAfterSeconds(new Headers({ 'Retry-After': 'soon' }), now)).toBeNull();
  });
});

describe('tooManyAttemptsText', () => {
  it('says minutes, rounded up, or seconds under a minute', () => {
    expect(tooManyAttemptsText(900)).toBe('Too many attempts. Try again in 15 minutes.');
    expect(tooManyAttemptsText(61)).toBe('Too many attempts. Try again in 2 minutes.');
    expect(tooManyAttemptsText(60)).toBe('Too many attempts. Try again in 1 minute.');
    expect(tooManyAttemptsText(10)).toBe('Too many attempts. Try again in 10 seconds.');
    expect(tooManyAttemptsText(null)).toBe('Too many attempts. Try again in a few minutes.');
  });
});

describe('passwordLengthError', () => {
  it('refuses 11 characters and accepts 12', () => {
    expect(passwordLengthError('12345678901')).toMatch(/at least 12 characters/);
    expect(passwordLengthError('123456789012')).toBeNull();
  });
});

describe('linkErrorAndNext', () => {
  it('takes the verification error out of next', () => {
    expect(linkErrorAndNext(new URLSearchParams({ next: '/?error=INVALID_TOKEN' }))).toEqual({ linkError: 'INVALID_TOKEN', next: '/' });
    expect(linkErrorAndNext(new URLSearchParams({ next: '/ledger?page=2&error=TOKEN_EXPIRED' }))).toEqual({
      linkError: 'TOKEN_EXPIRED',
      next: '/ledger?page=2',
    });
  });
  it('reads ?error= directly and keeps an unsafe next out', () => {
    expect(linkErrorAndNext(new URLSearchParams({ error: 'INVALID_TOKEN', next: '//evil.example/' }))).toEqual({ linkError: 'INVALID_TOKEN', next: '/' });
    expect(linkErrorAndNext(new URLSearchParams())).toEqual({ linkError: null, next: '/' });
  });
});

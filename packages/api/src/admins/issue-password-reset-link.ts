import { generateId } from 'better-auth';
import type { Auth } from '../auth';

/** How long an operator's sign-in link works: one hour, better-auth's own reset default (seconds). */
export const SIGN_IN_LINK_TTL_SECONDS = 3600;

/**
 * A one-time password-reset link for `userId`, made exactly as better-auth's
 * `requestPasswordReset` makes the one it emails (a 24-character random token in a
 * `reset-password:<token>` verification row, through better-auth's own adapter so its
 * storage options apply) but returned instead of sent: for an operator at the server, on a
 * deployment without mail. Following it leads through `GET /api/auth/reset-password/:token`
 * to `callbackURL?token=...` (the SPA's reset page); setting a password there consumes it,
 * ends the account's sessions and marks the email verified (auth.ts `onPasswordReset`).
 * @param callbackURL the SPA's reset page, absolute (`<web URL>/reset-password`), on a trusted origin.
 * @returns the link and when it stops working.
 */
export async function issuePasswordResetLink({
  auth,
  userId,
  callbackURL,
  expiresInSeconds = SIGN_IN_LINK_TTL_SECONDS,
}: {
  auth: Auth;
  userId: string;
  callbackURL: string;
  expiresInSeconds?: number;
}): Promise<{ url: string; expiresAt: Date }> {
  const ctx = await auth.$context;
  const token = generateId(24);
  const expiresAt = new Date(Date.now() + expiresInSeconds * 1000);
  await ctx.internalAdapter.createVerificationValue({ value: userId, identifier: `reset-password:${token}`, expiresAt });
  return { url: `${ctx.baseURL}/reset-password/${token}?callbackURL=${encodeURIComponent(callbackURL)}`, expiresAt };
}

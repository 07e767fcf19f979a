/**
 * Where better-auth's emailed links send the browser back to: this SPA's own origin, absolute,
 * because a relative path resolves on the API server's origin (in development the API is on
 * :3000 and the SPA on :5173). The server accepts only trusted origins (ALLOWED_FRONTEND_ORIGINS).
 */
export const verifiedCallbackURL = (): string => `${window.location.origin}/`;
export const resetPasswordURL = (): string => `${window.location.origin}/reset-password`;

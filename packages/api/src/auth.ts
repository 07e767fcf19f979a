/**
 * Sign-in through better-auth: email + password, HTTP-only cookie sessions, stored by its
 * Drizzle adapter in our `users`/`sessions`/`accounts`/`verifications` tables on either
 * dialect. Hardened per issue 6:
 * - an email must be verified (better-auth's verification flow) before it can sign in, and
 *   roles are granted only then (`ensureUserProvisioned`, on every new session);
 * - password reset with better-auth's flow; a completed reset proves the mailbox, so it marks
 *   the email verified (how a real owner takes back an address someone registered first);
 * - password policy (`auth/password-policy.ts`) on sign-up, reset and change;
 * - failed sign-ins throttled per account (`auth/sign-in-throttle.ts`);
 * - per-IP rate limits in the shared `rate_limits` table, keyed by the IP Express resolved
 *   (`auth/client-ip.ts`), never by a client-sent header;
 * - `signUp: 'invite'` admits only invited or bootstrap-admin emails.
 */
import { eq, type Database } from '@tally/db';
import { betterAuth, type BetterAuthRateLimitOptions } from 'better-auth';
import { drizzleAdapter } from 'better-auth/adapters/drizzle';
import { APIError, createAuthMiddleware, getSessionFromCtx, isAPIError } from 'better-auth/api';
import { issuePasswordResetLink } from './admins/issue-password-reset-link';
import { sendAccountEmail } from './auth/account-emails';
import { CLIENT_IP_HEADER } from './auth/client-ip';
import { checkPasswordPolicy, PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH, passwordUserInputs } from './auth/password-policy';
import { databaseRateLimitStorage } from './auth/rate-limit-storage';
import { clearSignInFailures, countSignInAttempt, forgiveSignInAttempt, signInFailureKey } from './auth/sign-in-throttle';
import { ensureUserProvisioned } from './customers/ensure-user-provisioned';
import { findPendingInvitations } from './invitations/find-pending';
import { silentLogger, type Logger } from './logger';

export interface AuthOptions {
  db: Database;
  /** >= 32 chars; signs session cookies and verification tokens. */
  secret: string;
  /** Public URL of the server, e.g. http://localhost:3000: the origin of links in emails. */
  baseURL: string;
  /** Origins allowed to call the auth endpoints and to be redirect targets (the SPA's). */
  trustedOrigins: readonly string[];
  /** Lowercased emails that become admins of the primary workspace once verified. */
  adminEmails: readonly string[];
  /** `open`: anyone may sign up; `invite`: only emails with a pending invitation or in `adminEmails`. */
  signUp?: 'open' | 'invite';
  /**
   * Where the SPA is served (TALLY_WEB_URL), for links Tally itself starts (the reset link
   * sent when someone signs up with an address that already has an account). Used when its
   * origin is trusted; otherwise (and by default) the SPA on `baseURL`, as a relative path.
   */
  appURL?: string;
  /** Per-path overrides of `AUTH_RATE_LIMITS.customRules` (tests use small ones). */
  rateLimits?: Partial<Record<keyof typeof AUTH_RATE_LIMITS.customRules, { window: number; max: number }>>;
  logger?: Logger;
}

/**
 * Per-IP limits (requests per window of seconds), keyed `<ip>|<path>` by better-auth. Sized
 * so a few wrong passwords never lock out anyone else (another IP has its own bucket; a
 * second user on the same IP still has room, e.g. an office behind one NAT) while a flood
 * from one IP is stopped (sign-in: 30 per 5 minutes, under 9,000 a day); the per-account
 * throttle (5 failures / 15 min) is what bounds guessing one password.
 */
export const AUTH_RATE_LIMITS = {
  default: { window: 10, max: 100 },
  customRules: {
    '/sign-in/email': { window: 300, max: 30 },
    '/sign-up/email': { window: 600, max: 20 },
    '/change-password': { window: 60, max: 10 },
    '/reset-password': { window: 60, max: 10 },
    '/reset-password/*': { window: 60, max: 30 },
    '/verify-email': { window: 60, max: 30 },
    // Each of these sends an email: also capped per address (auth/account-emails.ts).
    '/request-password-reset': { window: 60, max: 3 },
    '/send-verification-email': { window: 60, max: 3 },
  },
} as const satisfies { default: { window: number; max: number }; customRules: Record<string, { window: number; max: number }> };

const LONGEST_WINDOW_SECONDS = Math.max(AUTH_RATE_LIMITS.default.window, ...Object.values(AUTH_RATE_LIMITS.customRules).map((r) => r.window));

const asRecord = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' ? (v as Record<string, unknown>) : {});
const asString = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

function refuseWeakPassword(password: unknown, account: { email?: string | null; name?: string | null }) {
  if (typeof password !== 'string') return; // better-auth answers the missing field itself
  const verdict = checkPasswordPolicy(password, { userInputs: passwordUserInputs(account) });
  if (!verdict.ok) throw new APIError('BAD_REQUEST', { code: verdict.code, message: verdict.message });
}

/**
 * The better-auth instance the server mounts at `/api/auth` (see the module doc for what it
 * enforces). The server must put the client IP in `CLIENT_IP_HEADER` (`setClientIpHeader`)
 * before its handler; without it rate limits share one bucket per path.
 */
export function createAuth({ db, secret, baseURL, trustedOrigins, adminEmails, signUp = 'open', appURL, rateLimits = {}, logger = silentLogger }: AuthOptions) {
  const t = db.t;
  const provision = (userId: string) => ensureUserProvisioned({ db, userId, adminEmails, signUp });
  // Absolute only when trusted: the reset link's callback is checked against trustedOrigins.
  const appOrigin = appURL && trustedOrigins.includes(new URL(appURL).origin) ? new URL(appURL).origin : null;
  const resetCallbackURL = appOrigin ? `${appOrigin}/reset-password` : '/reset-password';
  /** The address is a bootstrap admin or has a pending admin invitation. */
  const becomesAdmin = async (email: string) => {
    const lower = email.trim().toLowerCase();
    return adminEmails.includes(lower) || (await findPendingInvitations({ db, email: lower })).some((i) => i.role === 'admin');
  };

  const before = createAuthMiddleware(async (ctx) => {
    const body = asRecord(ctx.body);
    switch (ctx.path) {
      case '/sign-up/email': {
        const email = asString(body.email)?.trim().toLowerCase();
        if (signUp === 'invite' && email !== undefined) {
          const invited = adminEmails.includes(email) || (await findPendingInvitations({ db, email })).length > 0;
          if (!invited) {
            throw new APIError('FORBIDDEN', {
              code: 'SIGN_UP_BY_INVITATION_ONLY',
              message: 'Sign-up on this Tally is by invitation only. Ask an admin to invite your email address, then sign up with it.',
            });
          }
        }
        refuseWeakPassword(body.password, { email, name: asString(body.name) });
        return;
      }
      case '/reset-password': {
        const token = asString(body.token) ?? asString(asRecord(ctx.query).token);
        const verification = token ? await ctx.context.internalAdapter.findVerificationValue(`reset-password:${token}`) : null;
        const user = verification ? await ctx.context.internalAdapter.findUserById(verification.value) : null;
        refuseWeakPassword(body.newPassword, { email: user?.email, name: user?.name });
        return;
      }
      case '/change-password': {
        const session = await getSessionFromCtx(ctx);
        refuseWeakPassword(body.newPassword, { email: session?.user.email, name: session?.user.name });
        return;
      }
      case '/sign-in/email': {
        const key = signInFailureKey(body.email);
        if (!key) return;
        const attempt = await countSignInAttempt(db, { key });
        if (!attempt.allowed) {
          const minutes = Math.ceil(attempt.retryAfterSeconds / 60);
          throw new APIError(
            'TOO_MANY_REQUESTS',
            {
              code: 'TOO_MANY_FAILED_SIGN_INS',
              message: `Too many failed sign-ins for this account. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}, or reset your password.`,
            },
            { 'Retry-After': String(attempt.retryAfterSeconds) },
          );
        }
        return;
      }
    }
  });

  const after = createAuthMiddleware(async (ctx) => {
    if (ctx.path !== '/sign-in/email') return;
    const key = signInFailureKey(asRecord(ctx.body).email);
    if (!key) return;
    const returned = ctx.context.returned;
    if (!isAPIError(returned)) await clearSignInFailures(db, { key });
    else if (returned.statusCode !== 401) await forgiveSignInAttempt(db, { key }); // not a wrong password
  });

  const rateLimit: BetterAuthRateLimitOptions = {
    enabled: true,
    window: AUTH_RATE_LIMITS.default.window,
    max: AUTH_RATE_LIMITS.default.max,
    customRules: { ...AUTH_RATE_LIMITS.customRules, ...rateLimits },
    customStorage: databaseRateLimitStorage({ db, logger, longestWindowSeconds: Math.max(LONGEST_WINDOW_SECONDS, ...Object.values(rateLimits).map((r) => r?.window ?? 0)) }),
  };

  const auth = betterAuth({
    secret,
    baseURL,
    basePath: '/api/auth',
    trustedOrigins: [...trustedOrigins],
    database: drizzleAdapter(db.q, {
      provider: db.dialect === 'sqlite' ? 'sqlite' : 'pg',
      schema: { user: t.users, session: t.sessions, account: t.accounts, verification: t.verifications, rateLimit: t.rateLimits },
    }),
    emailAndPassword: {
      enabled: true,
      minPasswordLength: PASSWORD_MIN_LENGTH,
      maxPasswordLength: PASSWORD_MAX_LENGTH,
      requireEmailVerification: true,
      autoSignIn: true,
      revokeSessionsOnPasswordReset: true,
      // Signing up with an address that has an account answers like a new sign-up (no
      // enumeration) and mails the address a reset link: how its real owner takes over an
      // account someone else registered first (the reset proves the mailbox, see below).
      onExistingUserSignUp: async ({ user }) => {
        await auth.api.requestPasswordReset({ body: { email: user.email, redirectTo: resetCallbackURL } });
      },
      sendResetPassword: async ({ user, url }) => {
        await sendAccountEmail({ db, logger, kind: 'reset_password', to: user.email, userId: user.id, name: user.name, url });
      },
      onPasswordReset: async ({ user }) => {
        // Only the mailbox's owner can follow the reset link: that proves the address.
        await db.q.update(t.users).set({ emailVerified: true, updatedAt: new Date() }).where(eq(t.users.id, user.id));
        const key = signInFailureKey(user.email);
        if (key) await clearSignInFailures(db, { key });
        logger.info({ userId: user.id }, 'password reset: sessions revoked, email marked verified');
      },
    },
    emailVerification: {
      sendOnSignUp: true,
      sendOnSignIn: true,
      autoSignInAfterVerification: true,
      sendVerificationEmail: async ({ user, url }) => {
        // An address that would become an admin is never confirmed by a verification link:
        // whoever signed up with it chose the password, so a real owner clicking "verify" would
        // hand the admin role to a squatter. It gets a reset link instead: choosing the password
        // from the mailbox confirms the address (onPasswordReset) and replaces the squatter's.
        if (await becomesAdmin(user.email)) {
          const link = await issuePasswordResetLink({ auth, userId: user.id, callbackURL: resetCallbackURL });
          await sendAccountEmail({ db, logger, kind: 'confirm_admin', to: user.email, userId: user.id, name: user.name, url: link.url });
          return;
        }
        await sendAccountEmail({ db, logger, kind: 'verify_email', to: user.email, userId: user.id, name: user.name, url });
      },
      afterEmailVerification: async (user) => {
        await provision(user.id);
      },
    },
    rateLimit,
    advanced: {
      // Only the header the server sets from Express's req.ip (see auth/client-ip.ts).
      ipAddress: { ipAddressHeaders: [CLIENT_IP_HEADER] },
      // better-auth skips these checks when NODE_ENV=test; Tally checks in every environment.
      disableOriginCheck: false,
      disableCSRFCheck: false,
    },
    hooks: { before, after },
    databaseHooks: {
      session: {
        create: {
          after: async (session) => {
            await provision(session.userId);
          },
        },
      },
    },
    logger: {
      // Not 'warn' or 'error': at those levels better-auth also prints every refused request
      // (wrong password, weak password, ...) to the console, bypassing `log`.
      level: 'info',
      // Warnings and errors only, messages only: its info lines and extra arguments carry
      // emails (e.g. "Sign-up attempt for existing email: ..."), its errors the cause.
      log: (level, message, ...args) => {
        const err = args.find((a) => a instanceof Error);
        if (level === 'error') logger.error({ source: 'better-auth', ...(err ? { err } : {}) }, message);
        else if (level === 'warn') logger.warn({ source: 'better-auth' }, message);
      },
    },
    telemetry: { enabled: false },
  });
  return auth;
}

export type Auth = ReturnType<typeof createAuth>;

/**
 * Sign-in through better-auth: email + password, HTTP-only cookie sessions, stored by its
 * Drizzle adapter in our `users`/`sessions`/`accounts`/`verifications` tables on either
 * dialect. A new sign-up is provisioned as a customer (or admin, see `provisionUser`).
 */
import type { Database } from '@tally/db';
import { betterAuth } from 'better-auth';
import { drizzleAdapter } from 'better-auth/adapters/drizzle';
import { provisionUser } from './customers/provision-for-user';

export interface AuthOptions {
  db: Database;
  /** >= 32 chars; signs session cookies. */
  secret: string;
  /** Public URL of the server, e.g. http://localhost:3000. */
  baseURL: string;
  /** Origins allowed to call the auth endpoints (the SPA's). */
  trustedOrigins: readonly string[];
  adminEmails: readonly string[];
}

export function createAuth({ db, secret, baseURL, trustedOrigins, adminEmails }: AuthOptions) {
  const t = db.t;
  return betterAuth({
    secret,
    baseURL,
    basePath: '/api/auth',
    trustedOrigins: [...trustedOrigins],
    database: drizzleAdapter(db.q, {
      provider: db.dialect === 'sqlite' ? 'sqlite' : 'pg',
      schema: { user: t.users, session: t.sessions, account: t.accounts, verification: t.verifications },
    }),
    emailAndPassword: { enabled: true, minPasswordLength: 8, autoSignIn: true },
    telemetry: { enabled: false },
    databaseHooks: {
      user: {
        create: {
          after: async (user) => {
            await provisionUser({ db, user, adminEmails });
          },
        },
      },
    },
  });
}

export type Auth = ReturnType<typeof createAuth>;

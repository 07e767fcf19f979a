import { createAuth, type Auth, type Logger } from '@tally/api';
import type { Database } from '@tally/db';
import type { ServerConfig } from './config';

/** better-auth as the server configures it (secret, URLs, trusted origins, sign-up mode), for the server and the CLI. */
export function createServerAuth({ db, config, logger }: { db: Database; config: ServerConfig; logger: Logger }): Auth {
  return createAuth({
    db,
    secret: config.authSecret,
    baseURL: config.publicUrl,
    trustedOrigins: config.api.allowedFrontendOrigins,
    adminEmails: config.api.adminEmails,
    signUp: config.api.signUp,
    appURL: config.webUrl,
    logger,
  });
}

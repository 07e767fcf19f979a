import { createAuthClient } from 'better-auth/react';

/** better-auth's browser client; same origin, so it talks to `/api/auth/*`. */
export const authClient = createAuthClient();

/**
 * Zod 4 probes for eval (`new Function('')`) when it builds an object schema, to compile
 * faster parsers. The server's CSP forbids eval (`script-src 'self'`, no 'unsafe-eval'), so
 * the probe shows up as a CSP violation in every browser console. Jitless mode skips the
 * probe and parses the same way (zod.dev/api, `z.config`). It must run before any schema is
 * constructed, so main.tsx imports this module first.
 */
import { z } from 'zod';

z.config({ jitless: true });

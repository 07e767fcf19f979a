/**
 * Security headers on every response, with helmet (helmetjs.github.io): a Content Security
 * Policy the built SPA works under, nosniff, a Referrer-Policy, frame denial and, when the
 * public URL is https, HSTS. Sources: OWASP HTTP Headers Cheat Sheet, CSP Level 3 (W3C),
 * RFC 6797 (HSTS).
 */
import type { RequestHandler } from 'express';
import helmet from 'helmet';

/**
 * helmet configured for Tally. The CSP is explicit (no helmet defaults, whose `style-src`
 * allows `'unsafe-inline'` and any https origin):
 * - everything from this origin only (`'self'`): scripts, styles, fonts, XHR/fetch (tRPC and
 *   better-auth are same-origin); images also as `data:` (Vite inlines small assets);
 * - `frame-ancestors 'none'` (no framing, clickjacking) plus `X-Frame-Options: DENY` for old
 *   browsers; `object-src 'none'`, `base-uri 'self'`, `form-action 'self'`, no inline script
 *   or style attributes (`script-src-attr`/`style-src-attr 'none'`);
 * - `upgrade-insecure-requests` and HSTS (1 year, subdomains) only when `publicUrl` is
 *   https: on plain http (loopback, demos) they would make the browser try https and fail.
 *
 * Other helmet defaults stay (COOP same-origin, CORP same-origin, nosniff, ...), except
 * Origin-Agent-Cluster (see below).
 *
 * Referrer-Policy is `strict-origin-when-cross-origin`, not `no-referrer`: under
 * `no-referrer` browsers send `Origin: null` on same-origin POSTs (Fetch standard, "append a
 * request Origin header"), which the Origin checks on tRPC mutations and better-auth refuse.
 */
export function securityHeaders({ publicUrl }: { publicUrl: string }): RequestHandler {
  const https = new URL(publicUrl).protocol === 'https:';
  const headers = headersSetBy(helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        baseUri: ["'self'"],
        connectSrc: ["'self'"],
        fontSrc: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        imgSrc: ["'self'", 'data:'],
        objectSrc: ["'none'"],
        scriptSrc: ["'self'"],
        scriptSrcAttr: ["'none'"],
        styleSrc: ["'self'"],
        styleSrcAttr: ["'none'"],
        ...(https ? { upgradeInsecureRequests: [] } : {}),
      },
    },
    strictTransportSecurity: https ? { maxAge: 365 * 24 * 60 * 60, includeSubDomains: true } : false,
    referrerPolicy: { policy: 'strict-origin-when-cross-origin' },
    xFrameOptions: { action: 'deny' },
    // Off: `Origin-Agent-Cluster: ?1` delayed the SPA's first paint by about 250 ms in headless
    // Chromium (origin-keyed agent cluster on navigation), for little gain here: it only stops
    // `document.domain` relaxation between same-site origins, which Tally never uses.
    originAgentCluster: false,
  }));
  return (_req, res, next) => {
    for (const [name, value] of headers) res.setHeader(name, value);
    next();
  };
}

/**
 * The headers a helmet middleware sets, read once: helmet's output depends only on its
 * options, never on the request, so each response gets the same list set in one loop instead
 * of through helmet's chain of eleven middlewares (issue 11: the webhook path's cost).
 * @throws Error if the middleware does not finish synchronously or fails.
 */
function headersSetBy(middleware: RequestHandler): Array<[string, string]> {
  const headers: Array<[string, string]> = [];
  const recorder = {
    setHeader: (name: string, value: unknown) => headers.push([name, String(value)]),
    removeHeader: () => undefined,
    getHeader: () => undefined,
  };
  let finished = false;
  middleware({ headers: {} } as never, recorder as never, (err?: unknown) => {
    if (err) throw err instanceof Error ? err : new Error(String(err));
    finished = true;
  });
  if (!finished) throw new Error('helmet did not set its headers synchronously');
  return headers;
}

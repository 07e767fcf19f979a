/**
 * How better-auth learns the client IP: from one header of ours, which the server sets from
 * Express's `req.ip` (which honours `trust proxy`, TALLY_TRUST_PROXY) after deleting any value
 * the client sent. better-auth reads that header and nothing else, so a client-sent
 * `X-Forwarded-For` can never choose its rate-limit bucket.
 */

/** The request header carrying the client IP Express resolved. Clients cannot set it. */
export const CLIENT_IP_HEADER = 'x-tally-client-ip';

/**
 * Put the resolved client IP on a Node request's headers, replacing anything the client
 * sent under that name. Call it right before better-auth's handler.
 * @param headers the Node `IncomingMessage.headers` object (mutated).
 * @param ip Express's `req.ip`; when absent (socket gone) the header is simply removed.
 */
export function setClientIpHeader(headers: Record<string, string | string[] | undefined>, ip: string | undefined): void {
  delete headers[CLIENT_IP_HEADER];
  if (ip) headers[CLIENT_IP_HEADER] = ip;
}

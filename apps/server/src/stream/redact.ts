/**
 * Redis URLs in logs (issue 10: "Redact the Redis URL password in any log line").
 */

/** `redis://user:***@host:6379/0`: the URL with its password (and a password-only userinfo) replaced; unparseable input gives `redis://[unparseable URL]`. */
export function redactRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    else if (u.username && !u.password && (u.protocol === 'redis:' || u.protocol === 'rediss:')) {
      // `redis://secret@host` is a password-only userinfo for many Redis clients.
      u.username = '***';
    }
    return u.toString();
  } catch {
    return 'redis://[unparseable URL]';
  }
}

/** `text` with the URL's password (and the URL itself) replaced by their redacted forms: for error messages that might echo them. */
export function redactSecretsIn(text: string, url: string): string {
  let out = text.split(url).join(redactRedisUrl(url));
  try {
    const u = new URL(url);
    for (const secret of [u.password, u.username && !u.password ? u.username : '']) {
      if (secret && secret.length >= 3) {
        out = out.split(secret).join('***');
        const decoded = decodeURIComponent(secret);
        if (decoded !== secret) out = out.split(decoded).join('***');
      }
    }
  } catch {
    // Unparseable: nothing more to find.
  }
  return out;
}

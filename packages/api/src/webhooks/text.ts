/**
 * Making values from a webhook payload safe to store or log: Postgres `text` refuses the NUL
 * character (U+0000, SQLSTATE 22021), and a payload value may be any length.
 */

/** `value` without NUL characters, cut to `max` characters (default 2000). */
export function storableText(value: string, max = 2000): string {
  return value.replaceAll('\u0000', '').slice(0, max);
}

/**
 * An error as one log-safe line: `Name: message` (NUL removed, at most 500 characters). For
 * Drizzle's "Failed query: <sql> params: <values>" wrapper, the driver's own error (its
 * `cause`, with the SQLSTATE code) is described instead, so the bound values, which may be
 * a whole event payload, never reach a log or `last_error`.
 */
export function describeError(err: unknown): string {
  let e: unknown = err;
  if (e instanceof Error && e.message.startsWith('Failed query:')) {
    e = e.cause instanceof Error ? e.cause : new Error('database query failed');
  }
  if (!(e instanceof Error)) return storableText(String(e), 500);
  const code = (e as { code?: unknown }).code;
  const suffix = typeof code === 'string' && code ? ` (${code})` : '';
  return storableText(`${e.name}: ${e.message}${suffix}`, 500);
}

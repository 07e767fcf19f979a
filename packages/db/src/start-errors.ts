/**
 * Database errors as one line for an operator: where (DATABASE_URL with its password
 * replaced) and why (the driver's reason and code), never a stack, SQL text or parameters.
 * Used when a process starts (`openDatabase` in client.ts) and by anything that prints a
 * database failure to a terminal.
 */

/**
 * DATABASE_URL with any password replaced by `***` (userinfo password and a `password`
 * query parameter, which libpq and node-postgres also accept). SQLite paths and `pglite:`
 * URLs hold no secrets and are returned as given.
 */
export function redactDatabaseUrl(url: string): string {
  if (!/^postgres(ql)?:\/\//.test(url)) return url;
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    if (u.searchParams.has('password')) u.searchParams.set('password', '***');
    return u.toString();
  } catch {
    // Not parseable as a URL: show only the scheme rather than risk printing a password.
    return `${url.split('://')[0]}://(unparseable URL)`;
  }
}

/** Friendlier words for the network errors a database connection meets (Node's `code`). */
const NETWORK_REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
};

type ErrorLike = { name?: unknown; message?: unknown; code?: unknown; cause?: unknown; errors?: unknown };

/**
 * The reason a database operation failed, in one line: `<reason> (<code>)`, e.g.
 * `connection refused (ECONNREFUSED)`, `database "x" does not exist (3D000)` (Postgres
 * SQLSTATE), `unable to open database file (SQLITE_CANTOPEN)`,
 * `not a directory, mkdir '/srv/file/sub' (ENOTDIR)`. Drizzle's wrappers ("Failed query:
 * <sql> params: <values>") are unwrapped to the driver's error, so no SQL or parameter is
 * printed. `url`, if given, is scrubbed from the text (its password, should a driver echo it).
 */
export function describeDatabaseError(err: unknown, { url }: { url?: string } = {}): string {
  let e = err as ErrorLike | null;
  // Unwrap Drizzle's query wrappers to the driver error they carry.
  for (let depth = 0; e && depth < 4 && e.cause && isDrizzleWrapper(e); depth++) e = e.cause as ErrorLike;
  // Node's connect to `localhost` tries ::1 and 127.0.0.1 and fails with an AggregateError.
  if (e && !messageOf(e) && Array.isArray(e.errors) && e.errors.length > 0) e = { ...(e.errors[0] as ErrorLike), code: e.code ?? (e.errors[0] as ErrorLike).code };
  if (!e || typeof e !== 'object') return String(err);
  const code = typeof e.code === 'string' ? e.code : undefined;
  let reason = messageOf(e);
  if (code && NETWORK_REASONS[code]) reason = NETWORK_REASONS[code]!;
  // Node's fs errors read "ENOTDIR: not a directory, mkdir '/x'": keep the words, move the code.
  if (code && reason.startsWith(`${code}: `)) reason = reason.slice(code.length + 2);
  if (!reason) reason = typeof e.name === 'string' ? e.name : 'unknown error';
  let line = code && !reason.includes(`(${code})`) ? `${reason} (${code})` : reason;
  const password = url ? passwordOf(url) : undefined;
  if (password) line = line.split(password).join('***');
  return line.length > 300 ? `${line.slice(0, 297)}...` : line;
}

function messageOf(e: ErrorLike): string {
  return typeof e.message === 'string' ? (e.message.split('\n')[0] ?? '').trim() : '';
}

function isDrizzleWrapper(e: ErrorLike): boolean {
  return e.name === 'DrizzleQueryError' || e.name === 'DrizzleError' || (typeof e.message === 'string' && /^(Failed query:|Failed to run the query)/.test(e.message));
}

function passwordOf(url: string): string | undefined {
  try {
    const u = new URL(url);
    return decodeURIComponent(u.password) || u.searchParams.get('password') || undefined;
  } catch {
    return undefined;
  }
}

/** A database that cannot be opened or migrated at start: `message` is the one line to print. */
export class DatabaseStartError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DatabaseStartError';
  }
}

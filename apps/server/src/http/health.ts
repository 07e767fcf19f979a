/**
 * Readiness (`GET /readyz`) for load balancers and orchestrators: 200 `{ status: 'ready' }` only
 * once migrations have run and while the database answers `select 1` within a short timeout;
 * otherwise 503 `{ status: 'starting' | 'migrating' | 'unavailable', reason }`, so traffic is
 * sent elsewhere without restarting the process. `GET /healthz` (liveness, in app.ts) is unchanged.
 *
 * The server listens before it migrates (main.ts): `startingApp` answers meanwhile (503 on
 * every path, `/healthz` and `/readyz` included, with `Retry-After`), then the real app
 * takes over and `markReady(db)` is called.
 */
import { sql, type Database } from '@tally/db';
import express, { type Express, type Router } from 'express';

export type ReadinessState = 'starting' | 'migrating' | 'ready';

/** The process's startup state, shared by the starting app and the real one. */
export interface Readiness {
  readonly state: ReadinessState;
  /** The database once ready (null before). */
  readonly db: Database | null;
  /** Migrations are running: /readyz answers 503 `migrating`. */
  markMigrating(): void;
  /** Migrations are done and `db` is open: /readyz checks it from now on. */
  markReady(db: Database): void;
}

/** A readiness object in state `starting`. */
export function createReadiness(): Readiness {
  let state: ReadinessState = 'starting';
  let database: Database | null = null;
  return {
    get state() {
      return state;
    },
    get db() {
      return database;
    },
    markMigrating() {
      state = 'migrating';
    },
    markReady(db) {
      database = db;
      state = 'ready';
    },
  };
}

/** The readiness of a database already open and migrated (tests, and apps built after migrating). */
export function readyWith(db: Database): Readiness {
  const readiness = createReadiness();
  readiness.markReady(db);
  return readiness;
}

/** Longest wait for `select 1`, ms: a database slower than this is not ready for traffic. */
export const READINESS_QUERY_TIMEOUT_MS = 1_000;

/**
 * Whether the process can take traffic now (see the module doc).
 * @returns `{ ready: true }`, or `{ ready: false, status, reason }` with a one-line reason
 *   (never the database URL or its error text, which may name hosts and users).
 */
export async function checkReadiness(readiness: Readiness, timeoutMs = READINESS_QUERY_TIMEOUT_MS): Promise<{ ready: true } | { ready: false; status: 'starting' | 'migrating' | 'unavailable'; reason: string }> {
  if (readiness.state === 'starting') return { ready: false, status: 'starting', reason: 'The server is starting' };
  if (readiness.state === 'migrating') return { ready: false, status: 'migrating', reason: 'Database migrations are running' };
  const db = readiness.db;
  if (!db) return { ready: false, status: 'unavailable', reason: 'No database' };
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      db.rows(sql`select 1`),
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new Error('timeout')), timeoutMs);
      }),
    ]);
    return { ready: true };
  } catch (err) {
    const timedOut = err instanceof Error && err.message === 'timeout';
    return { ready: false, status: 'unavailable', reason: timedOut ? `The database did not answer within ${timeoutMs} ms` : 'The database is unreachable' };
  } finally {
    clearTimeout(timer);
  }
}

/** `GET /readyz`: 200 `{ status: 'ready', database: <dialect> }` or 503 `{ status, reason }` (see `checkReadiness`). Never cached. */
export function readinessRoutes(readiness: Readiness, { timeoutMs = READINESS_QUERY_TIMEOUT_MS }: { timeoutMs?: number } = {}): Router {
  const router = express.Router();
  router.get('/readyz', async (_req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    const result = await checkReadiness(readiness, timeoutMs);
    if (result.ready) {
      res.json({ status: 'ready', database: readiness.db?.dialect ?? null });
      return;
    }
    res.setHeader('Retry-After', '5');
    res.status(503).json({ status: result.status, reason: result.reason });
  });
  return router;
}

/**
 * What the server answers between listening and the real app: `/readyz` as above (503
 * `starting`/`migrating`), every other path 503 `{ error: 'Tally is starting (database migrations); retry shortly' }`
 * with `Retry-After: 5`, `/healthz` included (not live yet for traffic).
 */
export function startingApp(readiness: Readiness): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(readinessRoutes(readiness));
  app.use((_req, res) => {
    res.setHeader('Retry-After', '5');
    res.setHeader('Cache-Control', 'no-store');
    res.status(503).json({ error: 'Tally is starting (database migrations); retry shortly', status: readiness.state });
  });
  return app;
}

/**
 * Transport-neutral domain errors. Domain code throws `AppError`; the tRPC layer
 * (trpc.ts) and the Express webhook route map the code to a status in one place each.
 * Another tenant's row is NOT_FOUND, never FORBIDDEN.
 */
export type AppErrorCode =
  | 'BAD_REQUEST'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'PAYMENT_REQUIRED'
  | 'PRECONDITION_FAILED'
  /** A per-customer limit is reached (e.g. open top-ups); HTTP 429 through tRPC's own code of that name. */
  | 'TOO_MANY_REQUESTS'
  | 'BAD_GATEWAY';

export class AppError extends Error {
  readonly code: AppErrorCode;
  constructor(code: AppErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AppError';
    this.code = code;
  }
}

export const notFound = (what: string) => new AppError('NOT_FOUND', `${what} not found`);

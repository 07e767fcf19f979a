import { trpcErrorCode } from '../trpc';

/** A readable message for an API error, by tRPC code, falling back to the server's message. */
export function errorText(error: unknown): string {
  const code = trpcErrorCode(error);
  const message = error instanceof Error ? error.message : String(error);
  if (code === 'UNAUTHORIZED') return 'Your session has ended. Sign in again.';
  if (code === 'INTERNAL_SERVER_ERROR') return 'Something went wrong on our side. Please try again.';
  if (!code && error instanceof Error && /fetch|network|json/i.test(message)) {
    return 'Cannot reach the Tally server. Check your connection and try again.';
  }
  return message || 'Something went wrong.';
}

export function ErrorMessage({ error, title, onRetry }: { error: unknown; title?: string; onRetry?: () => void }) {
  return (
    <div className="alert alert-error" role="alert">
      <div>
        {title && <strong className="alert-title">{title}</strong>}
        <span>{errorText(error)}</span>
      </div>
      {onRetry && (
        <button type="button" className="button button-small button-ghost" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}

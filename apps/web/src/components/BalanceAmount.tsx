import { money } from '../lib/format';
import { trpc } from '../trpc';
import { ErrorMessage } from './ErrorMessage';

/** The customer's current balance, big. `refetchInterval` keeps it live where needed. */
export function BalanceAmount({ refetchInterval, label = 'Current balance' }: { refetchInterval?: number | false; label?: string }) {
  const balance = trpc.balance.get.useQuery(undefined, { refetchInterval: refetchInterval ?? false });
  return (
    <div className="balance">
      <p className="balance-label">{label}</p>
      {balance.data ? (
        <p className="balance-amount" data-testid="balance">
          {money(balance.data.amountMinor, balance.data.currency)}
        </p>
      ) : balance.isError ? (
        <ErrorMessage error={balance.error} title="Could not load your balance" onRetry={() => void balance.refetch()} />
      ) : (
        <p className="balance-amount balance-amount-loading" aria-busy="true">
          <span className="skeleton" />
        </p>
      )}
    </div>
  );
}

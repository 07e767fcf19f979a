import { signedMoney } from '../lib/format';
import { DateTime } from './DateTime';

/** What the table shows of an entry (`ledger.list` for customers, `customers.ledger` for admins). */
interface LedgerEntry {
  id: string;
  kind: string;
  amountMinor: number;
  currency: string;
  description: string | null;
  createdAt: Date;
}

const KIND_LABEL: Record<string, string> = {
  topup: 'Top-up',
  usage_charge: 'Usage charge',
  refund: 'Refund',
  adjustment: 'Adjustment',
  overpayment: 'Overpayment',
};

export function LedgerTable({ entries, caption }: { entries: LedgerEntry[]; caption: string }) {
  return (
    <div className="table-wrap">
      <table className="table">
        <caption className="sr-only">{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Date</th>
            <th scope="col">Description</th>
            <th scope="col">Kind</th>
            <th scope="col" className="num">
              Amount
            </th>
          </tr>
        </thead>
        <tbody>
          {entries.map((entry) => (
            <tr key={entry.id}>
              <td className="nowrap">
                <DateTime value={entry.createdAt} />
              </td>
              <td>{entry.description}</td>
              <td>
                <span className="kind">{KIND_LABEL[entry.kind] ?? entry.kind}</span>
              </td>
              <td className={`num amount ${entry.amountMinor < 0 ? 'amount-debit' : 'amount-credit'}`}>
                {signedMoney(entry.amountMinor, entry.currency)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

import { formatDateTime, isoDateTime } from '../lib/format';

export function DateTime({ value }: { value: Date | string | null | undefined }) {
  const iso = isoDateTime(value);
  return iso ? <time dateTime={iso}>{formatDateTime(value)}</time> : <span className="muted">—</span>;
}

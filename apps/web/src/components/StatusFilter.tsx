import { useId } from 'react';

/** A labelled status `<select>`; the empty value means "All". */
export function StatusFilter<T extends string>({
  label,
  values,
  value,
  onChange,
  labels,
}: {
  label: string;
  values: readonly T[];
  value: T | '';
  onChange: (value: T | '') => void;
  /** What each value reads as (default: the value, capitalized). */
  labels?: Partial<Record<T, string>>;
}) {
  const id = useId();
  return (
    <div className="filter">
      <label htmlFor={id}>{label}</label>
      <select id={id} value={value} onChange={(e) => onChange(e.target.value as T | '')}>
        <option value="">All</option>
        {values.map((v) => (
          <option key={v} value={v}>
            {labels?.[v] ?? v[0]!.toUpperCase() + v.slice(1)}
          </option>
        ))}
      </select>
    </div>
  );
}

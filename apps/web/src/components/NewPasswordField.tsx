import { PASSWORD_MIN_LENGTH, PASSWORD_RULE } from '../lib/auth-errors';

/** A new-password input with the policy under it (sign-up and reset). */
export function NewPasswordField({ id, label, value, onChange }: { id: string; label: string; value: string; onChange: (value: string) => void }) {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        type="password"
        autoComplete="new-password"
        required
        minLength={PASSWORD_MIN_LENGTH}
        aria-describedby={`${id}-hint`}
        value={value}
        onChange={(e) => onChange(e.target.value)}
      />
      <p id={`${id}-hint`} className="field-hint">
        {PASSWORD_RULE}
      </p>
    </div>
  );
}

import { topupAmountSchema } from '@tally/api/schemas';
import { useId, useMemo, useState, type FormEvent } from 'react';
import { currencyFractionDigits, minorToInput, parseAmountToMinor } from '../lib/amount';
import { money } from '../lib/format';
import { trpc, type RouterOutputs } from '../trpc';
import { errorText } from './ErrorMessage';

type Presets = RouterOutputs['topup']['presets'];

/** Check typed text against the same zod schema the server uses; the message to show, or the amount. */
function validate(text: string, presets: Presets): { amountMinor: number; error: null } | { amountMinor: null; error: string } {
  const parsed = parseAmountToMinor(text, currencyFractionDigits(presets.currency));
  if (!parsed.ok) return { amountMinor: null, error: parsed.error };
  const checked = topupAmountSchema(presets).safeParse(parsed.amountMinor);
  if (!checked.success) return { amountMinor: null, error: checked.error.issues[0]?.message ?? 'Invalid amount' };
  return { amountMinor: checked.data, error: null };
}

/** Preset buttons and a custom amount; "Top up" starts a Stripe Checkout and redirects to it. */
export function TopupForm({ presets }: { presets: Presets }) {
  const inputId = useId();
  const errorId = useId();
  const [text, setText] = useState('');
  const [touched, setTouched] = useState(false);
  const fractionDigits = currencyFractionDigits(presets.currency);
  const result = useMemo(() => validate(text, presets), [text, presets]);
  const showError = touched && text.trim() !== '' ? result.error : null;
  const [submitError, setSubmitError] = useState<string | null>(null);

  const checkout = trpc.topup.createCheckout.useMutation({
    onSuccess: ({ url }) => window.location.assign(url),
  });
  const redirecting = checkout.isPending || checkout.isSuccess;

  function choosePreset(amountMinor: number) {
    setText(minorToInput(amountMinor, fractionDigits));
    setTouched(false);
    setSubmitError(null);
    checkout.reset();
  }

  function onSubmit(e: FormEvent) {
    e.preventDefault();
    setTouched(true);
    checkout.reset();
    if (text.trim() === '') return setSubmitError('Choose an amount or enter a custom one.');
    if (result.amountMinor === null) return setSubmitError(null);
    setSubmitError(null);
    checkout.mutate({ amountMinor: result.amountMinor });
  }

  const code = presets.currency.toUpperCase();
  return (
    <form className="topup-form" onSubmit={onSubmit} noValidate>
      <fieldset className="presets" disabled={redirecting}>
        <legend>Choose an amount</legend>
        <div className="preset-grid">
          {presets.presetsMinor.map((amountMinor) => (
            <button
              key={amountMinor}
              type="button"
              className="preset"
              aria-pressed={result.amountMinor === amountMinor}
              onClick={() => choosePreset(amountMinor)}
            >
              {money(amountMinor, presets.currency)}
            </button>
          ))}
        </div>
      </fieldset>

      <div className="field">
        <label htmlFor={inputId}>Custom amount ({code})</label>
        <div className={`money-input${showError ? ' money-input-invalid' : ''}`}>
          <span className="money-input-prefix" aria-hidden="true">
            {code}
          </span>
          <input
            id={inputId}
            type="text"
            inputMode="decimal"
            autoComplete="off"
            placeholder={fractionDigits ? '25.00' : '2500'}
            value={text}
            disabled={redirecting}
            aria-invalid={showError ? true : undefined}
            aria-describedby={errorId}
            onChange={(e) => {
              setText(e.target.value);
              setSubmitError(null);
            }}
            onBlur={() => setTouched(true)}
          />
        </div>
        <p id={errorId} className={showError ? 'field-error' : 'field-hint'} aria-live="polite">
          {showError ?? `Between ${money(presets.minMinor, presets.currency)} and ${money(presets.maxMinor, presets.currency)}.`}
        </p>
      </div>

      {(submitError || checkout.error) && (
        <div className="alert alert-error" role="alert">
          <div>
            {checkout.error && !submitError && <strong className="alert-title">Could not start the payment</strong>}
            <span>{submitError ?? errorText(checkout.error)}</span>
          </div>
        </div>
      )}

      <div className="topup-actions">
        <p className="topup-summary muted" aria-live="polite">
          {result.amountMinor !== null ? (
            <>
              You will pay <strong>{money(result.amountMinor, presets.currency)}</strong> on Stripe Checkout.
            </>
          ) : (
            'Payments are handled securely by Stripe.'
          )}
        </p>
        <button type="submit" className="button button-primary" disabled={redirecting}>
          {redirecting ? 'Redirecting…' : 'Top up'}
        </button>
      </div>
    </form>
  );
}

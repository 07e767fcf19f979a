import { CUSTOMER_EXTERNAL_ID_MAX, CustomerUsageSettingsInput } from '@tally/api/schemas';
import { useId, useState, type FormEvent } from 'react';
import { currencyFractionDigits, minorToInput, parseAmountToMinor } from '../lib/amount';
import { money } from '../lib/format';
import { trpc, type RouterOutputs } from '../trpc';
import { ErrorMessage } from './ErrorMessage';
import { Loading } from './Loading';
import '../styles/meters.css';

type Settings = RouterOutputs['meter']['customerUsageSettings'];

/**
 * Admin: one customer's usage settings — the id the workspace's own system knows them by
 * (usage events may send it as `customerExternalId`) and the prepaid balance below which one
 * low-balance notice is sent. Self-contained: give it the customer's id.
 */
export function CustomerUsageSettingsCard({ customerId }: { customerId: string }) {
  const settings = trpc.meter.customerUsageSettings.useQuery({ customerId });
  const id = useId();
  return (
    <section className="card" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`} className="card-title">
        Usage settings
      </h2>
      {settings.isPending && <Loading label="Loading usage settings" />}
      {settings.isError && <ErrorMessage error={settings.error} title="Could not load usage settings" onRetry={() => void settings.refetch()} />}
      {settings.data && <SettingsForm key={settings.data.customerId} settings={settings.data} />}
    </section>
  );
}

function SettingsForm({ settings }: { settings: Settings }) {
  const utils = trpc.useUtils();
  const id = useId();
  const digits = currencyFractionDigits(settings.currency);
  const [externalId, setExternalId] = useState(settings.externalId ?? '');
  const [thresholdText, setThresholdText] = useState(settings.lowBalanceThresholdMinor === null ? '' : minorToInput(settings.lowBalanceThresholdMinor, digits));
  const [invalid, setInvalid] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  const save = trpc.meter.saveCustomerUsageSettings.useMutation({
    onSuccess: (next) => {
      setSaved(true);
      setExternalId(next.externalId ?? '');
      setThresholdText(next.lowBalanceThresholdMinor === null ? '' : minorToInput(next.lowBalanceThresholdMinor, digits));
      utils.meter.customerUsageSettings.setData({ customerId: settings.customerId }, next);
    },
  });

  function onSubmit(e: FormEvent) {
    e.preventDefault();
    save.reset();
    setSaved(false);
    let lowBalanceThresholdMinor: number | null = null;
    if (thresholdText.trim() !== '') {
      const parsed = parseAmountToMinor(thresholdText, digits);
      if (!parsed.ok) return setInvalid(`Low-balance threshold: ${parsed.error}.`);
      lowBalanceThresholdMinor = parsed.amountMinor;
    }
    const input = { customerId: settings.customerId, externalId: externalId.trim() === '' ? null : externalId, lowBalanceThresholdMinor };
    const parsed = CustomerUsageSettingsInput.safeParse(input);
    if (!parsed.success) return setInvalid(parsed.error.issues[0]?.message ?? 'Check the fields.');
    setInvalid(null);
    save.mutate(parsed.data);
  }

  const code = settings.currency.toUpperCase();
  return (
    <form className="form" onSubmit={onSubmit} noValidate>
      <div className="form-grid">
        <div className="field">
          <label htmlFor={`${id}-external`}>External id</label>
          <input
            id={`${id}-external`}
            type="text"
            maxLength={CUSTOMER_EXTERNAL_ID_MAX}
            value={externalId}
            onChange={(e) => setExternalId(e.target.value)}
            placeholder="the id in your system"
            autoComplete="off"
          />
          <span className="field-hint">Usage events may name the customer by it (customerExternalId). Unique in the workspace; empty for none.</span>
        </div>
        <div className="field">
          <label htmlFor={`${id}-threshold`}>Low-balance threshold ({code})</label>
          <div className={`money-input${invalid?.startsWith('Low-balance') ? ' money-input-invalid' : ''}`}>
            <span className="money-input-prefix" aria-hidden="true">
              {code}
            </span>
            <input
              id={`${id}-threshold`}
              type="text"
              inputMode="decimal"
              autoComplete="off"
              value={thresholdText}
              onChange={(e) => setThresholdText(e.target.value)}
              placeholder={digits ? '5.00' : '500'}
            />
          </div>
          <span className="field-hint">
            {settings.lowBalanceThresholdMinor === null
              ? 'Empty: no notice. Otherwise one email when prepaid usage takes the balance below it.'
              : `One email when prepaid usage takes the balance below ${money(settings.lowBalanceThresholdMinor, settings.currency)}.`}
          </span>
        </div>
      </div>
      {invalid && (
        <p className="field-error" role="alert">
          {invalid}
        </p>
      )}
      {save.error && <ErrorMessage error={save.error} title="Could not save the usage settings" />}
      <div className="form-actions">
        <button type="submit" className="button button-primary" disabled={save.isPending}>
          {save.isPending ? 'Saving…' : 'Save usage settings'}
        </button>
        {saved && !save.isPending && (
          <span className="muted small meters-saved" role="status">
            Saved.
          </span>
        )}
      </div>
    </form>
  );
}

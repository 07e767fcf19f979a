import {
  METER_AGGREGATION_VALUES,
  METER_BILLING_MODE_VALUES,
  METER_DISPLAY_NAME_MAX,
  METER_UNIT_MAX,
  MeterSaveInput,
  meterPriceLabel,
  type MeterAggregationValue,
  type MeterBillingModeValue,
} from '@tally/api/schemas';
import { useId, useState, type FormEvent } from 'react';
import { ErrorMessage } from '../components/ErrorMessage';
import { Loading } from '../components/Loading';
import { currencyFractionDigits, minorToInput, parseAmountToMinor } from '../lib/amount';
import { money } from '../lib/format';
import { trpc, type RouterOutputs } from '../trpc';
import '../styles/meters.css';

type AdminMeter = RouterOutputs['meter']['list'][number];

const AGGREGATION_LABEL: Record<MeterAggregationValue, string> = { sum: 'Sum of quantities', count: 'Count of events', max: 'Largest quantity' };
const MODE_LABEL: Record<MeterBillingModeValue, string> = { prepaid: 'Prepaid balance', invoice: 'Tally invoice', stripe_meter: 'Stripe meter' };
const MODE_HINT: Record<MeterBillingModeValue, string> = {
  prepaid: 'Each event debits the customer’s prepaid balance.',
  invoice: 'Tally invoices the month’s usage when the period closes.',
  stripe_meter: 'Each event is forwarded to a Stripe Billing Meter; Stripe bills it on the subscription’s metered price.',
};

/** "$1.00 per 1,000 words" in the workspace currency. */
function meterPrice(meter: Pick<AdminMeter, 'priceMinor' | 'blockSize' | 'unit'>, currency: string): string {
  return meterPriceLabel(meter, (amount) => money(amount, currency));
}

/** The admin's *Meters* page: what usage costs, who bills it, and the workspace's usage settings. */
export function AdminMetersPage() {
  const meters = trpc.meter.list.useQuery({ includeArchived: true });
  const settings = trpc.meter.usageSettings.useQuery();
  const utils = trpc.useUtils();
  const [editing, setEditing] = useState<AdminMeter | 'new' | null>(null);
  const archive = trpc.meter.archive.useMutation({ onSuccess: () => utils.meter.list.invalidate() });
  const currency = settings.data?.currency ?? 'usd';

  return (
    <main className="page">
      <div className="page-head">
        <h1 className="page-title">Meters</h1>
        <p className="muted">
          What your backends report with <code className="event-id">POST /api/v1/usage</code>, by meter key. A meter’s price is per block of units; blocks are
          counted on each customer’s total for the month and rounded up once, never per event.
        </p>
      </div>
      {editing ? (
        <MeterForm key={editing === 'new' ? 'new' : editing.id} meter={editing === 'new' ? null : editing} currency={currency} onDone={() => setEditing(null)} />
      ) : (
        <div className="page-actions">
          <button type="button" className="button button-primary" onClick={() => setEditing('new')}>
            New meter
          </button>
        </div>
      )}
      <section className="card card-flush" aria-labelledby="meters-title">
        <div className="card-header card-pad">
          <div className="card-header-title">
            <h2 id="meters-title" className="card-title">
              All meters
            </h2>
          </div>
        </div>
        {meters.isPending && <Loading label="Loading meters" />}
        {meters.isError && <ErrorMessage error={meters.error} title="Could not load meters" onRetry={() => void meters.refetch()} />}
        {archive.error && <ErrorMessage error={archive.error} title="Could not change the meter" />}
        {meters.data && meters.data.length === 0 && <p className="empty">No meters yet. Create one for each thing you bill by usage, like “stt_words”.</p>}
        {meters.data && meters.data.length > 0 && (
          <div className="table-wrap">
            <table className="table meters-table">
              <thead>
                <tr>
                  <th scope="col">Meter</th>
                  <th scope="col">Unit</th>
                  <th scope="col">Aggregation</th>
                  <th scope="col">Price</th>
                  <th scope="col">Billing</th>
                  <th scope="col">Status</th>
                  <th scope="col">
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {meters.data.map((m) => (
                  <tr key={m.id} data-testid="meter" className={m.archivedAt ? 'meter-archived' : undefined}>
                    <td>
                      <strong>{m.displayName}</strong>
                      <div>
                        <code className="event-id nowrap">{m.key}</code>
                      </div>
                    </td>
                    <td>{m.unit}</td>
                    <td>{m.aggregation}</td>
                    <td className="nowrap">{meterPrice(m, currency)}</td>
                    <td>
                      <div>{MODE_LABEL[m.billingMode as MeterBillingModeValue] ?? m.billingMode}</div>
                      {m.stripeMeterEventName && (
                        <div className="muted small">
                          event <code className="event-id">{m.stripeMeterEventName}</code>
                        </div>
                      )}
                    </td>
                    <td>
                      <span className={`badge badge-${m.archivedAt ? 'neutral' : 'success'}`}>{m.archivedAt ? 'archived' : 'active'}</span>
                    </td>
                    <td>
                      <div className="row-actions">
                        <button type="button" className="button button-small" onClick={() => setEditing(m)} aria-label={`Edit ${m.displayName}`}>
                          Edit
                        </button>
                        <button
                          type="button"
                          className="button button-small button-ghost"
                          disabled={archive.isPending}
                          onClick={() => {
                            const archived = !m.archivedAt;
                            if (!archived || window.confirm(`Archive “${m.displayName}”? New ${m.key} events are refused until you unarchive it; recorded usage stays.`)) {
                              archive.mutate({ meterId: m.id, archived });
                            }
                          }}
                        >
                          {m.archivedAt ? 'Unarchive' : 'Archive'}
                        </button>
                      </div>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      <UsageSettingsCard />
    </main>
  );
}

/** The workspace's usage settings (one query with the page's, deduplicated by React Query). */
function UsageSettingsCard() {
  const settings = trpc.meter.usageSettings.useQuery();
  const utils = trpc.useUtils();
  // Optimistic: the box follows the click at once; a failure puts the server's value back.
  const save = trpc.meter.saveUsageSettings.useMutation({
    onMutate: (input) => {
      const previous = utils.meter.usageSettings.getData();
      if (previous) utils.meter.usageSettings.setData(undefined, { ...previous, ...input });
    },
    onSuccess: (next) => utils.meter.usageSettings.setData(undefined, next),
    onError: () => void utils.meter.usageSettings.invalidate(),
  });
  return (
    <section className="card" aria-labelledby="usage-settings-title">
      <h2 id="usage-settings-title" className="card-title">
        Usage settings
      </h2>
      {settings.isPending && <Loading label="Loading usage settings" />}
      {settings.isError && <ErrorMessage error={settings.error} title="Could not load usage settings" onRetry={() => void settings.refetch()} />}
      {settings.data && (
        <div className="form">
          <div className="checkbox meters-setting">
            <input
              id="allow-negative-balance"
              type="checkbox"
              checked={settings.data.allowNegativeBalance}
              disabled={save.isPending}
              onChange={(e) => save.mutate({ allowNegativeBalance: e.target.checked })}
            />
            <label htmlFor="allow-negative-balance">Allow prepaid usage to take a balance below zero</label>
          </div>
          <p className="field-hint">
            {settings.data.allowNegativeBalance
              ? 'Prepaid events are accepted even when the balance cannot cover them; the balance goes negative until the next top-up.'
              : 'A prepaid event the balance cannot cover is refused with 402 Payment Required.'}
          </p>
          {save.error && <ErrorMessage error={save.error} title="Could not save the setting" />}
        </div>
      )}
    </section>
  );
}

function MeterForm({ meter, currency, onDone }: { meter: AdminMeter | null; currency: string; onDone: () => void }) {
  const utils = trpc.useUtils();
  const id = useId();
  const digits = currencyFractionDigits(currency);
  const [key, setKey] = useState(meter?.key ?? '');
  const [displayName, setDisplayName] = useState(meter?.displayName ?? '');
  const [unit, setUnit] = useState(meter?.unit ?? '');
  const [aggregation, setAggregation] = useState<MeterAggregationValue>((meter?.aggregation as MeterAggregationValue | undefined) ?? 'sum');
  const [priceText, setPriceText] = useState(meter ? minorToInput(meter.priceMinor, digits) : '');
  const [blockText, setBlockText] = useState(String(meter?.blockSize ?? 1000));
  const [billingMode, setBillingMode] = useState<MeterBillingModeValue>((meter?.billingMode as MeterBillingModeValue | undefined) ?? 'invoice');
  const [eventName, setEventName] = useState(meter?.stripeMeterEventName ?? '');
  const [invalid, setInvalid] = useState<string | null>(null);
  const save = trpc.meter.save.useMutation({
    onSuccess: async () => {
      await utils.meter.list.invalidate();
      onDone();
    },
  });

  const price = parseAmountToMinor(priceText, digits);
  const blockSize = Number(blockText);
  const preview = price.ok && Number.isInteger(blockSize) && blockSize >= 1 && unit.trim() ? meterPrice({ priceMinor: price.amountMinor, blockSize, unit: unit.trim() }, currency) : null;

  function onSubmit(e: FormEvent) {
    e.preventDefault();
    save.reset();
    if (!price.ok) return setInvalid(`Price: ${price.error}.`);
    const input = {
      ...(meter ? { meterId: meter.id } : {}),
      key,
      displayName,
      unit,
      aggregation,
      priceMinor: price.amountMinor,
      blockSize: blockText.trim() === '' ? Number.NaN : blockSize,
      billingMode,
      stripeMeterEventName: billingMode === 'stripe_meter' ? eventName.trim() : null,
    };
    // The server's own rules and messages (shared schema), before the round trip.
    const parsed = MeterSaveInput.safeParse(input);
    if (!parsed.success) return setInvalid(parsed.error.issues[0]?.message ?? 'Check the fields.');
    setInvalid(null);
    save.mutate(parsed.data);
  }

  return (
    <section className="card" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`} className="card-title">
        {meter ? `Edit ${meter.displayName}` : 'New meter'}
      </h2>
      <form className="form" onSubmit={onSubmit} noValidate>
        <div className="form-grid">
          <div className="field">
            <label htmlFor={`${id}-key`}>Key</label>
            <input
              id={`${id}-key`}
              type="text"
              maxLength={64}
              value={key}
              disabled={meter !== null}
              onChange={(e) => setKey(e.target.value.toLowerCase())}
              placeholder="stt_words"
              autoComplete="off"
            />
            <span className="field-hint">{meter ? 'Usage events name the meter by its key, so it cannot change.' : 'a-z, 0-9 and _; cannot change later.'}</span>
          </div>
          <div className="field">
            <label htmlFor={`${id}-name`}>Name</label>
            <input id={`${id}-name`} type="text" maxLength={METER_DISPLAY_NAME_MAX} value={displayName} onChange={(e) => setDisplayName(e.target.value)} placeholder="Speech-to-text" />
          </div>
          <div className="field">
            <label htmlFor={`${id}-unit`}>Unit (singular)</label>
            <input id={`${id}-unit`} type="text" maxLength={METER_UNIT_MAX} value={unit} onChange={(e) => setUnit(e.target.value)} placeholder="word" />
          </div>
          <div className="field">
            <label htmlFor={`${id}-aggregation`}>Aggregation</label>
            <select id={`${id}-aggregation`} value={aggregation} onChange={(e) => setAggregation(e.target.value as MeterAggregationValue)}>
              {METER_AGGREGATION_VALUES.map((a) => (
                <option key={a} value={a}>
                  {a} — {AGGREGATION_LABEL[a]}
                </option>
              ))}
            </select>
          </div>
        </div>
        <div className="form-grid">
          <div className="field">
            <label htmlFor={`${id}-price`}>Price per block ({currency.toUpperCase()})</label>
            <div className={`money-input${priceText && !price.ok ? ' money-input-invalid' : ''}`}>
              <span className="money-input-prefix" aria-hidden="true">
                {currency.toUpperCase()}
              </span>
              <input id={`${id}-price`} type="text" inputMode="decimal" autoComplete="off" value={priceText} onChange={(e) => setPriceText(e.target.value)} placeholder={digits ? '1.00' : '100'} />
            </div>
          </div>
          <div className="field">
            <label htmlFor={`${id}-block`}>Units per block</label>
            <input id={`${id}-block`} type="number" min={1} step={1} value={blockText} onChange={(e) => setBlockText(e.target.value)} />
          </div>
          <div className="field">
            <label htmlFor={`${id}-mode`}>Billing</label>
            <select id={`${id}-mode`} value={billingMode} onChange={(e) => setBillingMode(e.target.value as MeterBillingModeValue)}>
              {METER_BILLING_MODE_VALUES.map((m) => (
                <option key={m} value={m}>
                  {MODE_LABEL[m]}
                </option>
              ))}
            </select>
          </div>
          {billingMode === 'stripe_meter' && (
            <div className="field">
              <label htmlFor={`${id}-event`}>Stripe meter event name</label>
              <input id={`${id}-event`} type="text" maxLength={100} value={eventName} onChange={(e) => setEventName(e.target.value)} placeholder="api_requests" autoComplete="off" />
            </div>
          )}
        </div>
        <p className="muted small meters-preview" aria-live="polite">
          {preview ? (
            <>
              <strong>{preview}</strong> · {MODE_HINT[billingMode]}
            </>
          ) : (
            MODE_HINT[billingMode]
          )}
        </p>
        {invalid && (
          <p className="field-error" role="alert">
            {invalid}
          </p>
        )}
        {save.error && <ErrorMessage error={save.error} title="Could not save the meter" />}
        <div className="dialog-actions">
          <button type="button" className="button button-ghost" onClick={onDone}>
            Cancel
          </button>
          <button type="submit" className="button button-primary" disabled={save.isPending}>
            {save.isPending ? (billingMode === 'stripe_meter' ? 'Checking the meter in Stripe…' : 'Saving…') : meter ? 'Save meter' : 'Create meter'}
          </button>
        </div>
      </form>
    </section>
  );
}

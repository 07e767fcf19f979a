/**
 * Parse an amount typed by a person ("12.34", "5", "0.5") into integer minor units without
 * floating-point arithmetic: the integer and fraction digits are combined as strings.
 *
 * Accepts plain digits with an optional "." and at most `fractionDigits` decimals (2 for USD).
 * Rejects signs, exponents ("1e3"), thousands separators, spaces inside, empty input and
 * values beyond Number.MAX_SAFE_INTEGER minor units. Leading/trailing whitespace is ignored.
 */
export type ParsedAmount = { ok: true; amountMinor: number } | { ok: false; error: string };

export function parseAmountToMinor(input: string, fractionDigits = 2): ParsedAmount {
  const text = input.trim();
  if (text === '') return { ok: false, error: 'Enter an amount' };
  const match = /^(\d*)(?:\.(\d*))?$/.exec(text);
  const whole = match?.[1] ?? '';
  const fraction = match?.[2] ?? '';
  if (!match || (whole === '' && fraction === '')) {
    return { ok: false, error: 'Enter an amount in numbers, like 12.34' };
  }
  if (fraction.length > fractionDigits) {
    return {
      ok: false,
      error: fractionDigits === 0 ? 'Enter a whole amount, without decimals' : `Use at most ${fractionDigits} decimal places`,
    };
  }
  const digits = (whole + fraction.padEnd(fractionDigits, '0')).replace(/^0+(?=\d)/, '');
  const amountMinor = Number(digits);
  if (!Number.isSafeInteger(amountMinor)) return { ok: false, error: 'That amount is too large' };
  return { ok: true, amountMinor };
}

/** Minor units back to the plain decimal string the input accepts, e.g. 1234 -> "12.34". */
export function minorToInput(amountMinor: number, fractionDigits = 2): string {
  if (fractionDigits === 0) return String(amountMinor);
  const s = String(Math.abs(amountMinor)).padStart(fractionDigits + 1, '0');
  return `${amountMinor < 0 ? '-' : ''}${s.slice(0, -fractionDigits)}.${s.slice(-fractionDigits)}`;
}

/** Decimal places of a currency's minor unit (USD 2, JPY 0), as Intl knows it. */
export function currencyFractionDigits(currency: string): number {
  try {
    const fmt = new Intl.NumberFormat('en-US', { style: 'currency', currency: currency.toUpperCase() });
    return fmt.resolvedOptions().maximumFractionDigits ?? 2;
  } catch {
    return 2;
  }
}

/**
 * A signed amount ("-12.34", "+5", "5") into signed integer minor units, for balance
 * adjustments: an optional leading `-`, `+` or `−` (U+2212), then what `parseAmountToMinor`
 * accepts. Zero is refused (an adjustment moves the balance).
 */
export function parseSignedAmountToMinor(input: string, fractionDigits = 2): ParsedAmount {
  const text = input.trim();
  const sign = /^[-+\u2212]/.exec(text)?.[0];
  const rest = sign ? text.slice(1) : text;
  if (sign && /^\s/.test(rest)) return { ok: false, error: 'Enter an amount in numbers, like -12.34' };
  const parsed = parseAmountToMinor(rest, fractionDigits);
  if (!parsed.ok) return parsed;
  if (parsed.amountMinor === 0) return { ok: false, error: 'Enter an amount other than zero' };
  return { ok: true, amountMinor: sign === '-' || sign === '\u2212' ? -parsed.amountMinor : parsed.amountMinor };
}

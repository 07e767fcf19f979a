/** A string of HTML that is already safe to embed. */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

/** Escapes text for HTML element content and double-quoted attributes. */
function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

type Interpolation = Html | string | number | null | undefined | false | readonly Interpolation[];

function render(value: Interpolation): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof Html) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(String(value));
}

/** Tagged template for HTML: interpolated strings are escaped, {@link Html} values and arrays of them are not. */
export function html(strings: TemplateStringsArray, ...values: readonly Interpolation[]): Html {
  return new Html(strings.reduce((out, part, index) => out + part + (index < values.length ? render(values[index]!) : ''), ''));
}

/**
 * An amount in a currency's minor unit, formatted for display: `formatAmount(3000, 'usd')` →
 * `$30.00`, `formatAmount(500, 'jpy')` → `¥500` (zero-decimal currencies per ISO 4217).
 */
export function formatAmount(amount: number, currency: string): string {
  const format = new Intl.NumberFormat('en-US', { style: 'currency', currency: currency.toUpperCase() });
  const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
  return format.format(amount / 10 ** digits);
}

const STYLES = `
  :root { color-scheme: light; --ink: #1a1f36; --muted: #697386; --line: #e3e8ee; --accent: #635bff; --danger: #df1b41; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: #f6f9fc; }
  .banner { background: #ffde92; color: #5d3a00; text-align: center; font-size: 13px; font-weight: 600; padding: 6px; letter-spacing: .02em; }
  main { max-width: 920px; margin: 32px auto; padding: 0 20px; }
  .card { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 28px; }
  .columns { display: grid; grid-template-columns: 1fr 1fr; gap: 32px; }
  @media (max-width: 720px) { .columns { grid-template-columns: 1fr; } }
  h1, h2 { font-size: 20px; margin: 0 0 16px; }
  .amount { font-size: 32px; font-weight: 700; margin: 0 0 20px; }
  table { width: 100%; border-collapse: collapse; }
  th, td { text-align: left; padding: 8px 6px; border-bottom: 1px solid var(--line); vertical-align: top; }
  td.num, th.num { text-align: right; white-space: nowrap; }
  tfoot td { font-weight: 700; border-bottom: 0; }
  label { display: block; font-size: 13px; font-weight: 600; margin: 14px 0 6px; }
  input { width: 100%; font: inherit; padding: 10px 12px; border: 1px solid #cfd7df; border-radius: 6px; }
  input:focus { outline: 2px solid var(--accent); outline-offset: -1px; }
  input[aria-invalid="true"] { border-color: var(--danger); }
  .row { display: grid; grid-template-columns: 1fr 1fr; gap: 12px; }
  button { width: 100%; margin-top: 20px; font: inherit; font-weight: 600; color: #fff; background: var(--accent); border: 0; border-radius: 6px; padding: 12px; cursor: pointer; }
  button.secondary { background: #fff; color: var(--danger); border: 1px solid var(--danger); }
  .alert { background: #fff0f3; border: 1px solid #ffc7d3; color: #a41c3c; border-radius: 6px; padding: 10px 12px; margin-bottom: 8px; }
  .muted { color: var(--muted); font-size: 13px; }
  .links { margin-top: 16px; text-align: center; }
  a { color: var(--accent); }
  code { font: 13px ui-monospace, SFMono-Regular, Menlo, monospace; }
  details { margin-top: 20px; }
`;

/** A full page with the emulator's banner and styles. */
export function page(title: string, body: Html): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Stripe emulator</title>
<style>${new Html(STYLES)}</style>
</head>
<body>
<div class="banner" role="note">Stripe emulator — test mode</div>
<main>${body}</main>
</body>
</html>
`.value;
}

/** Current Unix time in whole seconds, the unit of every Stripe timestamp (`created`, `expires_at`, ...). */
export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

import type Stripe from 'stripe';
import { z } from 'zod';
import { p } from '../http/params';

/** Parameters of endpoints that take none besides `expand[]` (anything else is an unknown parameter). */
export const noParams = p.object({});

/** An address hash (`address[line1]=...`), or `""` to unset it. */
export const addressParam = z
  .union(
    [
      z.literal(''),
      p.object({
        city: p.nullableString(200).optional(),
        country: p.nullableString(2).optional(),
        line1: p.nullableString(200).optional(),
        line2: p.nullableString(200).optional(),
        postal_code: p.nullableString(20).optional(),
        state: p.nullableString(200).optional(),
      }),
    ],
    { error: 'Invalid object' },
  )
  .transform((value): Stripe.Address | null =>
    value === ''
      ? null
      : {
          city: value.city ?? null,
          country: value.country ?? null,
          line1: value.line1 ?? null,
          line2: value.line2 ?? null,
          postal_code: value.postal_code ?? null,
          state: value.state ?? null,
        },
  );

/**
 * Applies a parsed `metadata` parameter (see `p.metadata`) to `current`: `undefined` keeps it,
 * `null` clears it, and a hash merges in, where an empty value removes that key (Stripe's rules).
 */
export function mergeMetadata(current: Stripe.Metadata, update: Record<string, string> | null | undefined): Stripe.Metadata {
  if (update === undefined) return current;
  if (update === null) return {};
  const merged = { ...current };
  for (const [key, value] of Object.entries(update)) {
    if (value === '') delete merged[key];
    else merged[key] = value;
  }
  return merged;
}

/** Copies of the entries of `update` that are not `undefined` (for partial updates). */
export function definedEntries<T extends object>(update: T): Partial<T> {
  return Object.fromEntries(Object.entries(update).filter(([, value]) => value !== undefined)) as Partial<T>;
}

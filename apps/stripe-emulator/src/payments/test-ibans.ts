import { createHash } from 'node:crypto';
import type Stripe from 'stripe';

/** How a SEPA Direct Debit from a test IBAN settles after `processing`. */
export type DebitOutcome = 'succeed' | 'fail';

/** A Stripe test IBAN (https://docs.stripe.com/testing#sepa-direct-debit). */
export interface TestIban {
  iban: string;
  outcome: DebitOutcome;
}

/**
 * The supported test IBANs. Austrian ones are from Stripe's testing docs; the Italian pair is
 * the one the Stripe CLI's `checkout.session.async_payment_*` triggers use (`IT60X…` for the
 * failure). Any other IBAN is refused.
 */
export const TEST_IBANS: readonly TestIban[] = [
  { iban: 'AT611904300234573201', outcome: 'succeed' },
  { iban: 'AT861904300235473202', outcome: 'fail' },
  { iban: 'IT40S0542811101000000123456', outcome: 'succeed' },
  { iban: 'IT60X0542811101000000123456', outcome: 'fail' },
];

/** An IBAN's stable fingerprint (`sepa_debit.fingerprint`). */
export function ibanFingerprint(iban: string): string {
  return createHash('sha256').update(`iban:${iban}`).digest('base64url').slice(0, 16);
}

/** The test IBAN for `iban` (spaces ignored, case-insensitive), if any. */
export function testIban(iban: string): TestIban | undefined {
  const normalized = iban.replace(/\s+/g, '').toUpperCase();
  return TEST_IBANS.find((test) => test.iban === normalized);
}

/** How a SEPA PaymentMethod's debits settle, recognised by fingerprint. */
export function testIbanOutcome(paymentMethod: Stripe.PaymentMethod): DebitOutcome {
  const test = TEST_IBANS.find((candidate) => ibanFingerprint(candidate.iban) === paymentMethod.sepa_debit?.fingerprint);
  if (!test) throw new Error(`PaymentMethod ${paymentMethod.id} is not a test IBAN`);
  return test.outcome;
}

import { run, type Database } from '@tally/db';
import { recordAuditInTx } from '../audit/record';
import type { Actor } from '../context';
import { AppError } from '../errors';
import { newId } from '../ids';
import { CreateCustomerInput } from '../schemas/customers';

/**
 * Create a customer of the workspace, managed by its admin: a name and an optional billing
 * email. No membership is needed: a customer who never signs in can still be billed (pay
 * links); members are invited separately (`inviteCustomerMember`). The Stripe customer is
 * created on first payment (`ensureStripeCustomer`), not here.
 * Writes the audit entry `customer.create` in the same transaction.
 * @param input `name` (trimmed, 1..200, no control characters) and `email` (lowercased, valid,
 *   <= 254; empty/null/missing = none), checked again here for callers other than tRPC.
 * @returns `{ id }` of the new customer.
 * @throws AppError BAD_REQUEST for an invalid name or email (nothing is stored).
 */
export async function createCustomer({
  db,
  workspaceId,
  actor,
  requestId,
  input,
}: {
  db: Database;
  workspaceId: string;
  actor: Actor;
  requestId?: string | null;
  input: CreateCustomerInput;
}): Promise<{ id: string }> {
  const parsed = CreateCustomerInput.safeParse(input);
  if (!parsed.success) throw new AppError('BAD_REQUEST', parsed.error.issues.map((i) => i.message).join('; '));
  const { name, email } = parsed.data;
  const id = newId();
  const t = db.t;
  await db.transaction(function* (tx) {
    yield* run(tx.insert(t.customers).values({ id, workspaceId, name, email, createdAt: new Date() }));
    yield* recordAuditInTx(tx, t, {
      workspaceId,
      actor,
      action: 'customer.create',
      targetType: 'customer',
      targetId: id,
      before: null,
      after: { name, email },
      requestId: requestId ?? null,
    });
  });
  return { id };
}

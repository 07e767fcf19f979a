import type { Database } from '@tally/db';
import type { BillingRecordStatus } from '../schemas/billing-records';
import { findRecordByPayToken } from './find-by-pay-token';
import { isOverdue } from './view';

/** What a pay link shows to anyone holding it: no emails, no ids. `amountMinor` is integer minor units. */
export interface PayLinkView {
  workspaceName: string;
  customerName: string;
  description: string;
  amountMinor: number;
  currency: string;
  dueDate: string;
  status: BillingRecordStatus;
  overdue: boolean;
}

/**
 * `payLink.get` (public): the record behind `/pay/<token>`.
 * @throws AppError NOT_FOUND for a malformed or unknown token.
 */
export async function getPayLink({ db, token }: { db: Database; token: string }): Promise<PayLinkView> {
  const { record, customerName, workspaceName } = await findRecordByPayToken({ db, token });
  return {
    workspaceName,
    customerName,
    description: record.description,
    amountMinor: record.amountMinor,
    currency: record.currency,
    dueDate: record.dueDate,
    status: record.status,
    overdue: isOverdue(record),
  };
}

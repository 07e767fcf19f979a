import { createBillingRecord } from '../billing-records/create';
import { getBillingRecord } from '../billing-records/get';
import { listBillingRecords } from '../billing-records/list';
import { markBillingRecordPaid } from '../billing-records/mark-paid';
import { payBillingRecord } from '../billing-records/pay';
import { voidBillingRecord } from '../billing-records/void';
import {
  BillingRecordCreateInput,
  BillingRecordGetInput,
  BillingRecordListInput,
  BillingRecordMarkPaidInput,
  BillingRecordPayInput,
  BillingRecordVoidInput,
} from '../schemas/billing-records';
import { adminProcedure, createTRPCRouter, customerProcedure } from '../trpc';

/** Billing records (issue 7): admins issue and settle them, customers' members (or admins) pay them. */
export const billingRecordRouter = createTRPCRouter({
  create: adminProcedure.input(BillingRecordCreateInput).mutation(({ ctx, input }) => createBillingRecord({ ctx, input })),
  /** `audience: 'admin'` checks admin rights on the selected workspace itself (FORBIDDEN otherwise). */
  list: customerProcedure.input(BillingRecordListInput).query(({ ctx, input }) => listBillingRecords({ ctx, input })),
  get: customerProcedure.input(BillingRecordGetInput).query(({ ctx, input }) => getBillingRecord({ ctx, input })),
  pay: customerProcedure.input(BillingRecordPayInput).mutation(({ ctx, input }) => payBillingRecord({ ctx, input })),
  markPaid: adminProcedure.input(BillingRecordMarkPaidInput).mutation(({ ctx, input }) => markBillingRecordPaid({ ctx, input })),
  void: adminProcedure.input(BillingRecordVoidInput).mutation(({ ctx, input }) => voidBillingRecord({ ctx, input })),
});

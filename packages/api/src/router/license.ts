import { resolveCustomerForActor } from '../customers/resolve-for-actor';
import { listLicensesForAdmin, listLicensesForCustomer } from '../licenses/list';
import { resetLicenseFingerprint } from '../licenses/reset-fingerprint';
import { AdminLicenseListInput, LicenseListInput, ResetLicenseFingerprintInput } from '../schemas/licenses';
import { adminProcedure, createTRPCRouter, customerProcedure } from '../trpc';

/**
 * License keys of licensing plans (issue 8 item 6). Customers see only their own customer's
 * licenses (a foreign `customerId` or `licenseId` is NOT_FOUND); admins see any customer of the
 * selected workspace, never a full key. Reads reconcile the customer's subscriptions first.
 */
export const licenseRouter = createTRPCRouter({
  /**
   * `{ customerId? }` -> `LicenseView[]`, oldest first. A key not yet shown comes in full in
   * `fullKey` in this answer only (then it is erased; later lists show `maskedKey`).
   */
  list: customerProcedure.input(LicenseListInput).query(async ({ ctx, input }) => {
    const customer = await resolveCustomerForActor({ db: ctx.db, userId: ctx.actor.userId, customerId: input?.customerId });
    return listLicensesForCustomer({
      db: ctx.db,
      workspaceId: customer.workspaceId,
      customerId: customer.id,
      keyring: ctx.stripeAccounts.keyring,
      graceDays: ctx.config.dunningGraceDays,
      logger: ctx.logger,
    });
  }),
  /** `{ licenseId, customerId? }` -> `{ id, fingerprintBound: false }`: the next verify with a fingerprint binds that machine. */
  resetFingerprint: customerProcedure.input(ResetLicenseFingerprintInput).mutation(async ({ ctx, input }) => {
    const customer = await resolveCustomerForActor({ db: ctx.db, userId: ctx.actor.userId, customerId: input.customerId });
    return resetLicenseFingerprint({ db: ctx.db, workspaceId: customer.workspaceId, customerId: customer.id, licenseId: input.licenseId });
  }),
  /** Admin: `{ customerId }` -> `AdminLicenseView[]` (masked keys only). NOT_FOUND for a customer of another workspace. */
  listForCustomer: adminProcedure.input(AdminLicenseListInput).query(({ ctx, input }) =>
    listLicensesForAdmin({ db: ctx.db, workspaceId: ctx.workspaceId, customerId: input.customerId, keyring: ctx.stripeAccounts.keyring, graceDays: ctx.config.dunningGraceDays }),
  ),
});

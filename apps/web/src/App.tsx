import { Route, Routes } from 'react-router';
import { Layout } from './components/Layout';
import { RequireAdmin, RequireAuth, RequireCustomer } from './components/guards';
import { StripeModeBanner } from './components/StripeModeBanner';
import { AdminActivityPage } from './pages/AdminActivityPage';
import { AdminAuditPage } from './pages/AdminAuditPage';
import { AdminPlansPage } from './pages/AdminPlansPage';
import { AdminApiKeysPage } from './pages/AdminApiKeysPage';
import { AdminMetersPage } from './pages/AdminMetersPage';
import { AdminUsagePage } from './pages/AdminUsagePage';
import { UsagePage } from './pages/UsagePage';
import { AdminBillingRecordsPage } from './pages/AdminBillingRecordsPage';
import { AdminCustomerPage } from './pages/AdminCustomerPage';
import { AdminCustomersPage } from './pages/AdminCustomersPage';
import { AdminEmailsPage } from './pages/AdminEmailsPage';
import { AdminEventPage } from './pages/AdminEventPage';
import { AdminStripeSettingsPage } from './pages/AdminStripeSettingsPage';
import { BalancePage } from './pages/BalancePage';
import { BillingPage } from './pages/BillingPage';
import { ForgotPasswordPage } from './pages/ForgotPasswordPage';
import { InvoicesPage } from './pages/InvoicesPage';
import { LedgerPage } from './pages/LedgerPage';
import { LicensesPage } from './pages/LicensesPage';
import { NotFoundPage } from './pages/NotFoundPage';
import { PayLinkPage } from './pages/PayLinkPage';
import { ResetPasswordPage } from './pages/ResetPasswordPage';
import { SignInPage } from './pages/SignInPage';
import { SignUpPage } from './pages/SignUpPage';
import { SubscriptionPage } from './pages/SubscriptionPage';
import { TopupCancelledPage } from './pages/TopupCancelledPage';
import { TopupSuccessPage } from './pages/TopupSuccessPage';

export function App() {
  return (
    <>
      <StripeModeBanner />
      <Routes>
        <Route path="/sign-in" element={<SignInPage />} />
        <Route path="/sign-up" element={<SignUpPage />} />
        <Route path="/forgot-password" element={<ForgotPasswordPage />} />
        <Route path="/reset-password" element={<ResetPasswordPage />} />
        {/* A billing record's pay link: no sign-in. */}
        <Route path="/pay/:token" element={<PayLinkPage />} />
        <Route element={<RequireAuth />}>
          <Route element={<Layout />}>
            <Route element={<RequireCustomer />}>
              <Route index element={<BalancePage />} />
              <Route path="billing" element={<BillingPage />} />
              <Route path="ledger" element={<LedgerPage />} />
              <Route path="subscription" element={<SubscriptionPage />} />
              <Route path="invoices" element={<InvoicesPage />} />
              <Route path="usage" element={<UsagePage />} />
              <Route path="licenses" element={<LicensesPage />} />
              <Route path="topup/success" element={<TopupSuccessPage />} />
            </Route>
            <Route path="topup/cancelled" element={<TopupCancelledPage />} />
            <Route element={<RequireAdmin />}>
              <Route path="admin" element={<AdminActivityPage />} />
              <Route path="admin/customers" element={<AdminCustomersPage />} />
              <Route path="admin/customers/:customerId" element={<AdminCustomerPage />} />
              <Route path="admin/billing-records" element={<AdminBillingRecordsPage />} />
              <Route path="admin/plans" element={<AdminPlansPage />} />
              <Route path="admin/meters" element={<AdminMetersPage />} />
              <Route path="admin/usage" element={<AdminUsagePage />} />
              <Route path="admin/api-keys" element={<AdminApiKeysPage />} />
              <Route path="admin/audit" element={<AdminAuditPage />} />
              <Route path="admin/emails" element={<AdminEmailsPage />} />
              <Route path="admin/events/:scope/:eventId" element={<AdminEventPage />} />
              <Route path="admin/settings/stripe" element={<AdminStripeSettingsPage />} />
            </Route>
            <Route path="*" element={<NotFoundPage />} />
          </Route>
        </Route>
      </Routes>
    </>
  );
}

import { Route, Routes } from 'react-router';
import { Layout } from './components/Layout';
import { RequireAdmin, RequireAuth, RequireCustomer } from './components/guards';
import { StripeModeBanner } from './components/StripeModeBanner';
import { AdminActivityPage } from './pages/AdminActivityPage';
import { BalancePage } from './pages/BalancePage';
import { LedgerPage } from './pages/LedgerPage';
import { NotFoundPage } from './pages/NotFoundPage';
import { SignInPage } from './pages/SignInPage';
import { SignUpPage } from './pages/SignUpPage';
import { TopupCancelledPage } from './pages/TopupCancelledPage';
import { TopupSuccessPage } from './pages/TopupSuccessPage';

export function App() {
  return (
    <>
      <StripeModeBanner />
      <Routes>
        <Route path="/sign-in" element={<SignInPage />} />
        <Route path="/sign-up" element={<SignUpPage />} />
        <Route element={<RequireAuth />}>
          <Route element={<Layout />}>
            <Route element={<RequireCustomer />}>
              <Route index element={<BalancePage />} />
              <Route path="ledger" element={<LedgerPage />} />
              <Route path="topup/success" element={<TopupSuccessPage />} />
            </Route>
            <Route path="topup/cancelled" element={<TopupCancelledPage />} />
            <Route element={<RequireAdmin />}>
              <Route path="admin" element={<AdminActivityPage />} />
            </Route>
            <Route path="*" element={<NotFoundPage />} />
          </Route>
        </Route>
      </Routes>
    </>
  );
}

import { useState, type FormEvent } from 'react';
import { Link, Navigate, useNavigate, useSearchParams } from 'react-router';
import { authClient } from '../auth';
import { AuthCard, AuthNotice } from '../components/AuthCard';
import { useMe, useRefreshSession } from '../components/useMe';
import {
  captureRetryAfter,
  genericAuthErrorText,
  linkErrorAndNext,
  NETWORK_ERROR_TEXT,
  tooManyAttemptsText,
  verificationLinkErrorText,
} from '../lib/auth-errors';
import { resendVerificationEmail } from './CheckEmailPage';

type Unverified = { email: string; state: 'idle' | 'sending' | 'sent' };

export function SignInPage() {
  const me = useMe();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const refreshSession = useRefreshSession();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [unverified, setUnverified] = useState<Unverified | null>(null);
  const [busy, setBusy] = useState(false);
  const { linkError, next } = linkErrorAndNext(params);
  const [showLinkError, setShowLinkError] = useState(linkError !== null);

  if (me.data?.user && !busy) return <Navigate to={next} replace />;

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    setError(null);
    setUnverified(null);
    setShowLinkError(false);
    setBusy(true);
    const retry = captureRetryAfter();
    try {
      const { error: authError } = await authClient.signIn.email({ email: email.trim(), password }, retry.fetchOptions);
      if (authError) {
        if (authError.status === 401 || authError.code === 'INVALID_EMAIL_OR_PASSWORD') {
          setError('Wrong email or password.');
        } else if (authError.code === 'EMAIL_NOT_VERIFIED') {
          setUnverified({ email: email.trim(), state: 'idle' });
        } else if (authError.status === 429) {
          // The per-account throttle (wrong passwords for this email) or the per-IP limit.
          const forAccount = authError.code === 'TOO_MANY_FAILED_SIGN_INS';
          setError(`${tooManyAttemptsText(retry.seconds)}${forAccount ? ' Forgot your password? Reset it with the link below.' : ''}`);
        } else {
          setError(genericAuthErrorText(authError, 'Could not sign in. Please try again.'));
        }
        return;
      }
      await refreshSession();
      navigate(next, { replace: true });
    } catch {
      setError(NETWORK_ERROR_TEXT);
    } finally {
      setBusy(false);
    }
  }

  async function resend(to: string) {
    setError(null);
    setUnverified({ email: to, state: 'sending' });
    const failure = await resendVerificationEmail(to);
    if (failure) {
      setUnverified({ email: to, state: 'idle' });
      setError(failure);
    } else {
      setUnverified({ email: to, state: 'sent' });
    }
  }

  return (
    <AuthCard
      title="Sign in"
      subtitle="Welcome back. Sign in to see your balance and billing."
      footer={
        <>
          New to Tally? <Link to={`/sign-up${params.size ? `?${params}` : ''}`}>Create an account</Link>
        </>
      }
    >
      <form className="form" onSubmit={(e) => void onSubmit(e)} noValidate>
        {showLinkError && linkError && (
          <AuthNotice tone="error" testId="link-error">
            {verificationLinkErrorText(linkError)}
          </AuthNotice>
        )}
        {error && <AuthNotice tone="error">{error}</AuthNotice>}
        {unverified && unverified.state === 'sent' && (
          <AuthNotice tone="success" testId="unverified">
            We sent a new link to <strong>{unverified.email}</strong>. Open it to confirm your address and sign in.
          </AuthNotice>
        )}
        {unverified && unverified.state !== 'sent' && (
          <AuthNotice
            tone="info"
            title="Confirm your email first"
            testId="unverified"
            action={
              <button
                type="button"
                className="button button-small notice-action"
                onClick={() => void resend(unverified.email)}
                disabled={unverified.state === 'sending'}
              >
                {unverified.state === 'sending' ? 'Sending…' : 'Send a new link'}
              </button>
            }
          >
            We emailed a link to {unverified.email}: open it to confirm the address and sign in. Nothing arrived? Send a new one.
          </AuthNotice>
        )}
        <div className="field">
          <label htmlFor="email">Email</label>
          <input id="email" type="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
        </div>
        <div className="field">
          <div className="field-label-row">
            <label htmlFor="password">Password</label>
            <Link to="/forgot-password" className="field-label-link">
              Forgot password?
            </Link>
          </div>
          <input
            id="password"
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </div>
        <button type="submit" className="button button-primary button-block" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </AuthCard>
  );
}

import { useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { authClient } from '../auth';
import { AuthCard, AuthNotice } from '../components/AuthCard';
import { captureRetryAfter, NETWORK_ERROR_TEXT, tooManyAttemptsText } from '../lib/auth-errors';
import { resetPasswordURL } from '../lib/auth-links';

/** Where the reset email's link lands (better-auth appends `?token=` or `?error=INVALID_TOKEN`). */

/**
 * Asks better-auth for a password-reset email (`POST /api/auth/request-password-reset`). The
 * answer is the same whether or not the address has an account, so the page cannot be used
 * to find out who has one (OWASP Forgot Password Cheat Sheet: "return a consistent message").
 */
export function ForgotPasswordPage() {
  const [email, setEmail] = useState('');
  const [sentTo, setSentTo] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    setError(null);
    const address = email.trim();
    if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(address)) return setError('Enter a valid email address.');
    setBusy(true);
    const retry = captureRetryAfter();
    try {
      const { error: authError } = await authClient.requestPasswordReset({ email: address, redirectTo: resetPasswordURL() }, retry.fetchOptions);
      if (authError?.status === 429) return setError(tooManyAttemptsText(retry.seconds));
      if (authError && authError.status >= 500) return setError('Something went wrong on our side. Please try again.');
      // Any other answer reads the same: saying "no such account" would reveal who has one.
      setSentTo(address);
    } catch {
      setError(NETWORK_ERROR_TEXT);
    } finally {
      setBusy(false);
    }
  }

  if (sentTo) {
    return (
      <AuthCard
        title="Check your email"
        footer={
          <>
            Remembered it? <Link to="/sign-in">Sign in</Link>
          </>
        }
      >
        <AuthNotice tone="success" testId="reset-requested">
          If an account exists for <strong>{sentTo}</strong>, we sent it a link to choose a new password.
        </AuthNotice>
        <p className="muted auth-steps">The link works once and expires soon. Nothing after a few minutes? Check your spam folder or ask again.</p>
        <div className="auth-actions">
          <button type="button" className="button button-ghost" onClick={() => setSentTo(null)}>
            Use another email
          </button>
        </div>
      </AuthCard>
    );
  }

  return (
    <AuthCard
      title="Reset your password"
      subtitle="Enter the email you signed up with. We will send you a link to choose a new password."
      footer={
        <>
          Remembered it? <Link to="/sign-in">Sign in</Link>
        </>
      }
    >
      <form className="form" onSubmit={(e) => void onSubmit(e)} noValidate>
        {error && <AuthNotice tone="error">{error}</AuthNotice>}
        <div className="field">
          <label htmlFor="email">Email</label>
          <input id="email" type="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
        </div>
        <button type="submit" className="button button-primary button-block" disabled={busy}>
          {busy ? 'Sending…' : 'Send reset link'}
        </button>
      </form>
    </AuthCard>
  );
}

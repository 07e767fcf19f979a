import { useState } from 'react';
import { Link } from 'react-router';
import { authClient } from '../auth';
import { AuthCard, AuthNotice } from '../components/AuthCard';
import { captureRetryAfter, genericAuthErrorText, NETWORK_ERROR_TEXT, tooManyAttemptsText } from '../lib/auth-errors';
import { verifiedCallbackURL } from '../lib/auth-links';

/** Where better-auth sends the browser after a verification link: signed in, on the balance. */

/**
 * Sends (again) the verification email for `email` through better-auth
 * (`POST /api/auth/send-verification-email`). better-auth answers the same whether or not
 * the address has an unverified account, so the result says nothing about other people's
 * accounts. Resolves to an error text, or null when sent.
 */
export async function resendVerificationEmail(email: string): Promise<string | null> {
  const retry = captureRetryAfter();
  try {
    const { error } = await authClient.sendVerificationEmail({ email, callbackURL: verifiedCallbackURL() }, retry.fetchOptions);
    if (!error) return null;
    if (error.status === 429) return tooManyAttemptsText(retry.seconds);
    return genericAuthErrorText(error, 'Could not send the email. Please try again.');
  } catch {
    return NETWORK_ERROR_TEXT;
  }
}

/**
 * After sign-up (which makes no session until the address is verified): where the link
 * went, and a button to send it again.
 */
export function CheckEmailPage({ email, onUseAnotherEmail }: { email: string; onUseAnotherEmail: () => void }) {
  const [busy, setBusy] = useState(false);
  const [sentAgain, setSentAgain] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function resend() {
    setBusy(true);
    setError(null);
    setSentAgain(false);
    const failure = await resendVerificationEmail(email);
    setBusy(false);
    if (failure) setError(failure);
    else setSentAgain(true);
  }

  return (
    <AuthCard
      title="Check your email"
      subtitle={
        <>
          We sent a link to <strong className="auth-email">{email}</strong>.
        </>
      }
      footer={
        <>
          Already confirmed? <Link to="/sign-in">Sign in</Link>
        </>
      }
    >
      <div className="auth-steps">
        <p>Open the link in that email to confirm the address. It signs you in and your account is ready.</p>
        <p className="muted">Nothing after a few minutes? Check your spam folder, or send the link again.</p>
      </div>
      {sentAgain && (
        <AuthNotice tone="success" testId="resend-status">
          Sent again. It can take a minute to arrive.
        </AuthNotice>
      )}
      {error && <AuthNotice tone="error">{error}</AuthNotice>}
      <div className="auth-actions">
        <button type="button" className="button" onClick={() => void resend()} disabled={busy}>
          {busy ? 'Sending…' : 'Send the link again'}
        </button>
        <button type="button" className="button button-ghost" onClick={onUseAnotherEmail}>
          Use another email
        </button>
      </div>
    </AuthCard>
  );
}

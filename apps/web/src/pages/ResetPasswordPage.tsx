import { useState, type FormEvent } from 'react';
import { Link, useSearchParams } from 'react-router';
import { authClient } from '../auth';
import { AuthCard, AuthNotice } from '../components/AuthCard';
import {
  captureRetryAfter,
  genericAuthErrorText,
  NETWORK_ERROR_TEXT,
  PASSWORD_TOO_SHORT_TEXT,
  passwordLengthError,
  tooManyAttemptsText,
} from '../lib/auth-errors';
import { NewPasswordField } from '../components/NewPasswordField';

function InvalidLink() {
  return (
    <AuthCard
      title="This link does not work"
      footer={
        <>
          Remembered it? <Link to="/sign-in">Sign in</Link>
        </>
      }
    >
      <AuthNotice tone="error" testId="reset-link-error">
        This password reset link is not valid any more: it was already used, has expired, or is incomplete.
      </AuthNotice>
      <Link to="/forgot-password" className="button button-primary button-block">
        Get a new link
      </Link>
    </AuthCard>
  );
}

/**
 * The reset email's link goes through better-auth (`GET /api/auth/reset-password/:token`),
 * which redirects here with `?token=` when the token is live or `?error=INVALID_TOKEN` when
 * it is unknown, used or expired. The new password is sent with the token
 * (`POST /api/auth/reset-password`); the server then ends every session of the account.
 */
export function ResetPasswordPage() {
  const [params] = useSearchParams();
  const token = params.get('token');
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [linkExpired, setLinkExpired] = useState(false);
  const [done, setDone] = useState(false);
  const [busy, setBusy] = useState(false);

  if (params.get('error') || !token || linkExpired) return <InvalidLink />;

  if (done) {
    return (
      <AuthCard title="Password changed">
        <AuthNotice tone="success" testId="reset-done">
          Your new password is set. For your safety, every device that was signed in has been signed out.
        </AuthNotice>
        <Link to="/sign-in" className="button button-primary button-block">
          Sign in
        </Link>
      </AuthCard>
    );
  }

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    setError(null);
    const tooShort = passwordLengthError(password);
    if (tooShort) return setError(tooShort);
    if (confirm !== password) return setError('The two passwords do not match.');
    setBusy(true);
    const retry = captureRetryAfter();
    try {
      const { error: authError } = await authClient.resetPassword({ newPassword: password, token: token! }, retry.fetchOptions);
      if (!authError) return setDone(true);
      if (authError.code === 'INVALID_TOKEN' || authError.code === 'USER_NOT_FOUND') setLinkExpired(true);
      else if (authError.code === 'PASSWORD_TOO_SHORT') setError(PASSWORD_TOO_SHORT_TEXT);
      else if (authError.status === 429) setError(tooManyAttemptsText(retry.seconds));
      // The strength check answers 400 with its own words (what makes the password weak).
      else setError(genericAuthErrorText(authError, 'Could not change the password. Please try again.'));
    } catch {
      setError(NETWORK_ERROR_TEXT);
    } finally {
      setBusy(false);
    }
  }

  return (
    <AuthCard title="Choose a new password" subtitle="After this, sign in with the new password on every device.">
      <form className="form" onSubmit={(e) => void onSubmit(e)} noValidate>
        {error && <AuthNotice tone="error">{error}</AuthNotice>}
        <NewPasswordField id="new-password" label="New password" value={password} onChange={setPassword} />
        <div className="field">
          <label htmlFor="confirm-password">Confirm new password</label>
          <input
            id="confirm-password"
            type="password"
            autoComplete="new-password"
            required
            value={confirm}
            onChange={(e) => setConfirm(e.target.value)}
          />
        </div>
        <button type="submit" className="button button-primary button-block" disabled={busy}>
          {busy ? 'Saving…' : 'Set new password'}
        </button>
      </form>
    </AuthCard>
  );
}

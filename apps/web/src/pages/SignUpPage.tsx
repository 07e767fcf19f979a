import { useState, type FormEvent } from 'react';
import { Link, Navigate, useNavigate, useSearchParams } from 'react-router';
import { authClient } from '../auth';
import { AuthCard, AuthNotice } from '../components/AuthCard';
import { useMe, useRefreshSession } from '../components/useMe';
import {
  captureRetryAfter,
  genericAuthErrorText,
  NETWORK_ERROR_TEXT,
  PASSWORD_TOO_SHORT_TEXT,
  passwordLengthError,
  tooManyAttemptsText,
} from '../lib/auth-errors';
import { safeNextPath } from '../lib/next-path';
import { verifiedCallbackURL } from '../lib/auth-links';
import { CheckEmailPage } from './CheckEmailPage';
import { NewPasswordField } from '../components/NewPasswordField';

/**
 * Sign-up. The server requires a verified email before the first session, so a successful
 * sign-up shows "Check your email"; better-auth answers an already-registered address the
 * same way (no account enumeration), and its verification link signs the user in.
 */
export function SignUpPage() {
  const me = useMe();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const refreshSession = useRefreshSession();
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [sentTo, setSentTo] = useState<string | null>(null);
  const next = safeNextPath(params.get('next'));

  if (me.data?.user && !busy) return <Navigate to={next} replace />;
  if (sentTo) return <CheckEmailPage email={sentTo} onUseAnotherEmail={() => setSentTo(null)} />;

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    setError(null);
    if (!name.trim()) return setError('Enter your name.');
    if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email.trim())) return setError('Enter a valid email address.');
    const tooShort = passwordLengthError(password);
    if (tooShort) return setError(tooShort);
    setBusy(true);
    const retry = captureRetryAfter();
    try {
      const { data, error: authError } = await authClient.signUp.email(
        { name: name.trim(), email: email.trim(), password, callbackURL: verifiedCallbackURL() },
        retry.fetchOptions,
      );
      if (authError) {
        if (authError.code === 'USER_ALREADY_EXISTS' || authError.code === 'USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL') {
          setError('An account with this email already exists. Sign in instead.');
        } else if (authError.code === 'PASSWORD_TOO_SHORT') {
          setError(PASSWORD_TOO_SHORT_TEXT);
        } else if (authError.status === 429) {
          setError(tooManyAttemptsText(retry.seconds));
        } else {
          // The strength check answers 400 with its own words (what makes the password weak).
          setError(genericAuthErrorText(authError, 'Could not create the account. Please try again.'));
        }
        return;
      }
      if (data?.token) {
        // A server that does not require verification signs the new user in at once.
        await refreshSession();
        navigate(next, { replace: true });
        return;
      }
      setSentTo(email.trim());
    } catch {
      setError(NETWORK_ERROR_TEXT);
    } finally {
      setBusy(false);
    }
  }

  return (
    <AuthCard
      title="Create account"
      subtitle="Top up a prepaid balance and keep track of every charge."
      footer={
        <>
          Already have an account? <Link to={`/sign-in${params.size ? `?${params}` : ''}`}>Sign in</Link>
        </>
      }
    >
      <form className="form" onSubmit={(e) => void onSubmit(e)} noValidate>
        {error && <AuthNotice tone="error">{error}</AuthNotice>}
        <div className="field">
          <label htmlFor="name">Name</label>
          <input id="name" type="text" autoComplete="name" required value={name} onChange={(e) => setName(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="email">Email</label>
          <input id="email" type="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
        </div>
        <NewPasswordField id="password" label="Password" value={password} onChange={setPassword} />
        <button type="submit" className="button button-primary button-block" disabled={busy}>
          {busy ? 'Creating account…' : 'Create account'}
        </button>
      </form>
    </AuthCard>
  );
}

import { useState, type FormEvent } from 'react';
import { Link, Navigate, useNavigate, useSearchParams } from 'react-router';
import { authClient } from '../auth';
import { AuthCard } from '../components/AuthCard';
import { useMe, useRefreshSession } from '../components/useMe';
import { safeNextPath } from '../lib/next-path';

/** Matches the server's better-auth `minPasswordLength`. */
const MIN_PASSWORD_LENGTH = 8;

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
  const next = safeNextPath(params.get('next'));

  if (me.data?.user && !busy) return <Navigate to={next} replace />;

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    setError(null);
    if (!name.trim()) return setError('Enter your name.');
    if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email.trim())) return setError('Enter a valid email address.');
    if (password.length < MIN_PASSWORD_LENGTH) return setError(`Use a password of at least ${MIN_PASSWORD_LENGTH} characters.`);
    setBusy(true);
    try {
      const { error: authError } = await authClient.signUp.email({ name: name.trim(), email: email.trim(), password });
      if (authError) {
        setError(
          authError.code === 'USER_ALREADY_EXISTS' || authError.code === 'USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL'
            ? 'An account with this email already exists. Sign in instead.'
            : (authError.message ?? 'Could not create the account. Please try again.'),
        );
        return;
      }
      await refreshSession();
      navigate(next, { replace: true });
    } catch {
      setError('Cannot reach the Tally server. Check your connection and try again.');
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
        {error && (
          <div className="alert alert-error" role="alert">
            {error}
          </div>
        )}
        <div className="field">
          <label htmlFor="name">Name</label>
          <input id="name" type="text" autoComplete="name" required value={name} onChange={(e) => setName(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="email">Email</label>
          <input id="email" type="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="password">Password</label>
          <input
            id="password"
            type="password"
            autoComplete="new-password"
            required
            minLength={MIN_PASSWORD_LENGTH}
            aria-describedby="password-hint"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
          <p id="password-hint" className="field-hint">
            At least {MIN_PASSWORD_LENGTH} characters.
          </p>
        </div>
        <button type="submit" className="button button-primary button-block" disabled={busy}>
          {busy ? 'Creating account…' : 'Create account'}
        </button>
      </form>
    </AuthCard>
  );
}

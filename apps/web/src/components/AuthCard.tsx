import type { ReactNode } from 'react';

/** The centred card around the signed-out pages: sign-in, sign-up, password reset, check email. */
export function AuthCard({
  title,
  subtitle,
  children,
  footer,
}: {
  title: string;
  subtitle?: ReactNode;
  children: ReactNode;
  footer?: ReactNode;
}) {
  return (
    <main className="auth-page">
      <div className="auth-brand">
        <span className="brand-mark" aria-hidden="true">T</span>
        <span className="brand-name">Tally</span>
      </div>
      <section className="card auth-card" aria-labelledby="auth-title">
        <h1 id="auth-title">{title}</h1>
        {subtitle && <p className="muted">{subtitle}</p>}
        {children}
      </section>
      {footer && <p className="auth-footer">{footer}</p>}
    </main>
  );
}

/** A notice inside an auth card: `error` for failures, `success` for done, `info` for what to do next. */
export function AuthNotice({
  tone,
  title,
  children,
  action,
  testId,
}: {
  tone: 'error' | 'success' | 'info';
  title?: string;
  children: ReactNode;
  action?: ReactNode;
  testId?: string;
}) {
  return (
    <div className={`alert alert-${tone}`} role={tone === 'error' ? 'alert' : 'status'} data-testid={testId}>
      <div>
        {title && <strong className="alert-title">{title}</strong>}
        <span>{children}</span>
        {action}
      </div>
    </div>
  );
}

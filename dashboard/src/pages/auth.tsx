// Sign up (a new organization) or log in; both answer a bearer token, kept in sessionStorage.
import { post, setToken } from '../api.ts';
import { Field, Form, text } from '../ui.tsx';

export interface Session {
  organization: { id: string; name: string };
  user: { id: string; email: string } | null;
}

interface Answer extends Session { token: string }

export function AuthPage({ onSession }: { onSession: (session: Session) => void }) {
  const done = (answer: Answer) => {
    setToken(answer.token);
    onSession({ organization: answer.organization, user: answer.user });
  };
  return (
    <main id="main" class="auth">
      <h1 tabIndex={-1}>Paygen dashboard</h1>
      <div class="grid two">
        <section aria-labelledby="login-title">
          <h2 id="login-title">Log in</h2>
          <Form label="Log in" submit="Log in" onSubmit={async (form) => {
            done(await post<Answer>('/auth/login', { email: text(form, 'email'), password: form.get('password') }));
          }}>
            <Field label="Email" name="email" type="email" required autocomplete="username" />
            <Field label="Password" name="password" type="password" required autocomplete="current-password" />
          </Form>
        </section>
        <section aria-labelledby="signup-title">
          <h2 id="signup-title">Sign up</h2>
          <Form label="Sign up" submit="Create organization" onSubmit={async (form) => {
            done(await post<Answer>('/auth/signup', {
              organizationName: text(form, 'organizationName'), email: text(form, 'email'), password: form.get('password'),
            }));
          }}>
            <Field label="Organization name" name="organizationName" required />
            <Field label="Email" name="email" type="email" required autocomplete="username" />
            <Field label="Password (8 characters or more)" name="password" type="password" required autocomplete="new-password" />
          </Form>
        </section>
      </div>
    </main>
  );
}

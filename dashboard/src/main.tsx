// The developer dashboard: sign up or log in, then every page of the organization, one hash route
// each (#/cards), so that the server serves a single index.html.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { call, get, getToken, SESSION_ENDED, setToken } from './api.ts';
import { AuthPage, type Session } from './pages/auth.tsx';
import { OverviewPage } from './pages/overview.tsx';
import { ApiKeysPage } from './pages/api-keys.tsx';
import { AccountsPage } from './pages/accounts.tsx';
import { CardHoldersPage } from './pages/card-holders.tsx';
import { CardsPage } from './pages/cards.tsx';
import { SimulatorPage } from './pages/simulator.tsx';
import { EventsPage } from './pages/events.tsx';
import { WebhooksPage } from './pages/webhooks.tsx';
import './style.css';
import 'uplot/dist/uPlot.min.css';

const PAGES: Array<[string, string, () => preact.JSX.Element]> = [
  ['', 'Overview', OverviewPage],
  ['api-keys', 'API keys', ApiKeysPage],
  ['accounts', 'Accounts', AccountsPage],
  ['card-holders', 'Card holders', CardHoldersPage],
  ['cards', 'Cards', CardsPage],
  ['simulator', 'Simulator', SimulatorPage],
  ['events', 'Events', EventsPage],
  ['webhooks', 'Webhooks', WebhooksPage],
];

const route = () => location.hash.replace(/^#\/?/, '');

function useRoute() {
  const [current, setCurrent] = useState(route());
  useEffect(() => {
    const onChange = () => setCurrent(route());
    addEventListener('hashchange', onChange);
    return () => removeEventListener('hashchange', onChange);
  }, []);
  return current;
}

function App() {
  const [session, setSession] = useState<Session | null | undefined>(getToken() ? undefined : null);
  const current = useRoute();

  useEffect(() => {
    const ended = () => setSession(null);
    addEventListener(SESSION_ENDED, ended);
    return () => removeEventListener(SESSION_ENDED, ended);
  }, []);

  useEffect(() => {
    if (session !== undefined) return;
    get<Session>('/auth/me').then(setSession, () => { setToken(null); setSession(null); });
  }, [session]);

  // Focus the page's heading after navigation, so that keyboard and screen-reader users land on it.
  useEffect(() => { document.querySelector<HTMLElement>('main h1')?.focus(); }, [current, session]);

  if (session === undefined) return <p class="loading">Loading…</p>;
  if (session === null) return <AuthPage onSession={setSession} />;

  const logout = async () => {
    await call('POST', '/auth/logout').catch(() => undefined);
    setToken(null);
    setSession(null);
    location.hash = '';
  };
  const [, title, Page] = PAGES.find(([path]) => path === current) ?? PAGES[0];
  return (
    <>
      <a class="skip" href="#main" onClick={(e) => { e.preventDefault(); document.getElementById('main')?.focus(); }}>Skip to content</a>
      <header class="top">
        <span class="brand">Paygen</span>
        <span class="org" data-testid="org-name">{session.organization.name}</span>
        <span class="user">{session.user?.email}</span>
        <button type="button" onClick={logout}>Log out</button>
      </header>
      <nav aria-label="Pages">
        <ul>
          {PAGES.map(([path, label]) => (
            <li key={path}><a href={`#/${path}`} aria-current={path === current ? 'page' : undefined}>{label}</a></li>
          ))}
        </ul>
      </nav>
      <main id="main" tabIndex={-1}>
        <h1 tabIndex={-1}>{title}</h1>
        <Page />
      </main>
    </>
  );
}

render(<App />, document.getElementById('app')!);

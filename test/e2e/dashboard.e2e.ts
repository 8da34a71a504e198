// The developer dashboard end to end, in a real browser: Debian's chromium driven by
// playwright-core (never a downloaded browser) against a real app on embedded PGlite. One flow,
// as a developer would go: sign up → API key → webhook endpoint → account and deposit → card
// holder with a document → card → reveal in the iframe (the PAN shows; the link fails the second
// time) → authorizations → the event and its delivery log → the chart → log out and in again.
// Every page is screenshotted at laptop and phone width into artifacts/e2e/.
//
//   npm run test:e2e        (builds the dashboard first)
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { startHarness, type Harness } from '../support/api.ts';
import { startReceiver, type Receiver } from '../support/receiver.ts';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
const ROOT = resolve(import.meta.dirname, '../..');
const ARTIFACTS = join(ROOT, 'artifacts', 'e2e');
const LAPTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
/** How long one UI step may take before the test fails (a bound, not a timing assertion). */
const STEP_MS = 10_000;
const EMAIL = `e2e-${Date.now()}@example.com`;
const PASSWORD = 'correct horse battery staple';
const ORG = 'Dashboard E2E Org';
/** The first bytes of a PDF: the API checks a document's type by its content. */
const PDF = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n');

let api: Harness;
let receiver: Receiver;
let context: BrowserContext;
let page: Page;
let userDataDir: string;
const consoleErrors: string[] = [];

before(async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium (never download a browser)`);
  execFileSync(join(ROOT, 'node_modules/.bin/vite'), ['build', '--config', 'dashboard/vite.config.ts', '--logLevel', 'warn'],
    { cwd: ROOT, stdio: 'inherit' });
  rmSync(ARTIFACTS, { recursive: true, force: true });
  mkdirSync(ARTIFACTS, { recursive: true });
  receiver = await startReceiver({ json: { received: true } });
  // Workers deliver webhooks; the app serves the fresh build from dist/dashboard.
  api = await startHarness({ config: { workers: true } });
  userDataDir = mkdtempSync(join(tmpdir(), 'paygen-e2e-chromium-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport: LAPTOP,
    permissions: ['clipboard-read', 'clipboard-write'], baseURL: api.baseUrl,
  });
  context.setDefaultTimeout(STEP_MS);
  page = context.pages()[0] ?? await context.newPage();
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(`${message.text()} (${message.location().url})`);
  });
  page.on('pageerror', (error) => consoleErrors.push(`uncaught: ${error.message}`));
  page.on('dialog', (dialog) => dialog.accept());
});

after(async () => {
  await context?.close();
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  await api?.close();
  await receiver?.close();
});

const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
const form = (label: string) => page.getByRole('form', { name: label });
const go = async (link: string) => {
  await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: link, exact: true }).click();
  await page.getByRole('heading', { level: 1, name: link }).waitFor();
};
/** The API, as the developer's new key sees it. */
let apiKey = '';
const read = async (path: string) => {
  const res = await api.request('GET', path, { key: apiKey });
  assert.equal(res.status, 200, res.text);
  return res.body.data;
};

test('sign up, then the organization is shown', async () => {
  await page.goto('/dashboard');
  assert.match(page.url(), /\/dashboard\/$/);
  await shot('01-login-laptop');
  const signup = form('Sign up');
  await signup.getByLabel('Organization name').fill(ORG);
  await signup.getByLabel('Email').fill(EMAIL);
  await signup.getByLabel(/^Password/).fill(PASSWORD);
  await signup.getByRole('button', { name: 'Create organization' }).click();
  await page.getByTestId('org-name').getByText(ORG).waitFor();
  await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
});

test('create an API key: shown once, listed by prefix and last four, and it works', async () => {
  await go('API keys');
  await form('Create API key').getByLabel('Name').fill('E2E server');
  await form('Create API key').getByRole('button', { name: 'Create key' }).click();
  apiKey = (await page.getByTestId('new-key').textContent())!;
  assert.match(apiKey, /^sk_/);
  await page.getByRole('button', { name: 'Copy' }).click();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), apiKey);
  const row = page.getByRole('row').filter({ hasText: 'E2E server' });
  assert.match((await row.textContent())!, new RegExp(`…${apiKey.slice(-4)}`));
  const me = await read('/auth/me');
  assert.equal(me.organization.name, ORG);
  await shot('02-api-keys-laptop');
});

test('create a webhook endpoint for every event', async () => {
  await go('Webhooks');
  const create = form('Create webhook endpoint');
  await create.getByLabel('URL').fill(`${receiver.url}/hooks`);
  await create.getByRole('button', { name: 'Create endpoint' }).click();
  await page.getByText(/whsec_/).waitFor();
  const hooks = await read('/webhooks');
  assert.equal(hooks.length, 1);
  assert.deepEqual(hooks[0].events, ['*']);
});

test('create an account and make a sandbox deposit: the balance and the entries show it', async () => {
  await go('Accounts');
  const create = form('Create account');
  await create.getByLabel('Name').fill('E2E wallet');
  await create.getByRole('button', { name: 'Create account' }).click();
  await create.getByText('Account E2E wallet created.').waitFor();
  const [account] = await read('/accounts');
  const opening = account.balance.available;
  await page.getByRole('row').filter({ hasText: 'E2E wallet' }).getByRole('button', { name: 'Deposit and entries' }).click();
  const deposit = form('Sandbox deposit');
  await deposit.getByLabel('Amount (USD)').fill('250.00');
  await deposit.getByRole('button', { name: 'Deposit' }).click();
  await deposit.getByText('Deposited 250.00 USD.').waitFor();
  assert.equal((await read(`/accounts/${account.id}`)).balance.available, opening + 25_000);
  await page.getByRole('table', { name: 'Entries of E2E wallet' }).getByText('Sandbox deposit (dashboard)').waitFor();
  await shot('03-accounts-laptop');
});

test('create a card holder with an identity document: verified, with the document', async () => {
  await go('Card holders');
  const create = form('Create card holder');
  const values: Array<[string, string]> = [
    ['First name', 'Grace'], ['Last name', 'Hopper'], ['Email', 'grace@example.com'], ['Phone (E.164)', '+14155550123'],
    ['Date of birth', '1990-07-14'], ['Nationality (ISO alpha-2)', 'US'], ['Address', '1 Navy Way'],
    ['City', 'Arlington'], ['State', 'VA'], ['Postal code', '22201'], ['Country (ISO alpha-2)', 'US'],
  ];
  for (const [label, value] of values) await create.getByLabel(label, { exact: true }).fill(value);
  await create.getByLabel(/ID document, front/).setInputFiles({ name: 'passport.pdf', mimeType: 'application/pdf', buffer: PDF });
  await create.getByRole('button', { name: 'Create card holder' }).click();
  await create.getByText('Grace Hopper created: KYC verified, 1 document(s).').waitFor();
  const [holder] = await read('/card-holders');
  assert.equal(holder.kycStatus, 'verified');
  assert.deepEqual(holder.documents.map((d: any) => [d.kind, d.fileName]), [['idDocumentFront', 'passport.pdf']]);
  await shot('04-card-holders-laptop');
});

let cardId = '';
test('issue a virtual card, freeze and unfreeze it, top it up', async () => {
  await go('Cards');
  const issue = form('Issue card');
  await issue.getByLabel('Initial amount').fill('50.00');
  await issue.getByLabel('Label').fill('E2E card');
  await issue.getByRole('button', { name: 'Issue card' }).click();
  await issue.getByText(/^Card \d{6,8}\*+\d{4} issued \(active\)\.$/).waitFor();
  const [card] = await read('/cards');
  cardId = card.id;
  assert.equal(card.balance.available, 5000);
  const manage = page.getByRole('region', { name: /E2E card/ });
  await manage.getByRole('button', { name: 'Freeze' }).click();
  await manage.getByRole('button', { name: 'Unfreeze' }).click();
  await manage.getByRole('button', { name: 'Freeze' }).waitFor();
  assert.equal((await read(`/cards/${cardId}`)).status, 'active');
  const topUp = form('Top up card');
  await topUp.getByLabel(/Top-up amount/).fill('5.00');
  await topUp.getByRole('button', { name: 'Top up' }).click();
  await topUp.getByText('Done: the card has 55.00 USD available.').waitFor();
  const events = await read(`/events?resourceId=${cardId}&limit=100`);
  for (const type of ['card.created', 'card.frozen', 'card.unfrozen']) {
    assert.ok(events.some((e: any) => e.type === type), `${type} in ${events.map((e: any) => e.type).join(', ')}`);
  }
});

test('reveal in the hosted page\'s iframe: the PAN shows once; the same link fails the second time', async () => {
  const manage = page.getByRole('region', { name: /E2E card/ });
  await manage.getByRole('button', { name: 'Reveal card details' }).click();
  const iframe = manage.locator('iframe');
  const frame = page.frameLocator('iframe[title="Card details (hosted reveal page)"]');
  const pan = (await frame.locator('#pan').textContent({ timeout: STEP_MS }))!.replace(/\s/g, '');
  const card = await read(`/cards/${cardId}`);
  assert.match(pan, /^\d{16}$/);
  assert.ok(pan.startsWith(card.bin), `${pan.slice(0, 8)}… starts with the BIN ${card.bin}`);
  assert.equal(pan.slice(-4), card.lastFour);
  await shot('05-cards-reveal-laptop');
  // The same single-use link, loaded again in the same frame.
  const url = (await iframe.getAttribute('src'))!;
  const revealFrame = page.frames().find((f) => f.url() === url)!;
  await revealFrame.goto(url);
  await frame.getByText('These card details cannot be shown').waitFor();
  assert.equal(await frame.locator('#pan').count(), 0);
  // Chromium logs the refused page's status (410 Gone) as a console error: that one is expected.
  const isGone = (e: string) => /status of 410 \(Gone\)/.test(e) && e.includes('/card-reveal/');
  if (!consoleErrors.some(isGone)) await page.waitForEvent('console', { predicate: (m) => isGone(`${m.text()} (${m.location().url})`) });
  const gone = consoleErrors.findIndex(isGone);
  assert.ok(gone >= 0, `the second load was refused with a 410: ${consoleErrors.join('\n')}`);
  consoleErrors.splice(gone, 1);
  const revealed = (await read(`/events?resourceId=${cardId}&type=card.revealed`)).length;
  assert.equal(revealed, 1);
});

let authorizationId = '';
test('simulate an approved and a declined authorization: decision and new balance', async () => {
  await go('Simulator');
  const authorize = form('Simulate authorization');
  await authorize.getByLabel('Amount (USD)').fill('12.50');
  await authorize.getByRole('button', { name: 'Authorize' }).click();
  await page.getByTestId('decision').getByText('Approved 12.50 USD').waitFor();
  await page.getByTestId('card-balance').getByText(/available 42\.50 USD, pending 12\.50 USD/).waitFor();
  assert.equal((await read(`/cards/${cardId}`)).balance.available, 4250);
  await authorize.getByLabel('Amount (USD)').fill('900.00');
  await authorize.getByRole('button', { name: 'Authorize' }).click();
  await page.getByTestId('decision').getByText(/^Declined 900\.00 USD \(.+\)$/).waitFor();
  const auths = await read(`/authorizations?cardId=${cardId}`);
  assert.deepEqual(auths.map((a: any) => a.approved).sort(), [false, true]);
  authorizationId = auths.find((a: any) => a.approved).id;
  // Capture the approved one from its row.
  await page.getByRole('row').filter({ hasText: '12.50 USD' }).getByRole('button', { name: 'Capture' }).click();
  await page.getByTestId('card-balance').getByText(/available 42\.50 USD, pending 0\.00 USD/).waitFor();
  assert.equal((await read(`/authorizations/${authorizationId}`)).capturedAmount, 1250);
  await shot('06-simulator-laptop');
});

test('the authorization event, its payload and its delivery log', async () => {
  const delivered = (await receiver.waitFor(1, STEP_MS)).length;
  assert.ok(delivered >= 1);
  await go('Events');
  const filter = page.getByRole('form', { name: 'Filter events' });
  await filter.getByLabel('Event type').fill('authorization.created');
  await filter.getByRole('button', { name: 'Filter' }).click();
  await page.getByRole('row').filter({ hasText: authorizationId }).getByRole('button', { name: 'Open event authorization.created' }).click();
  await page.getByTestId('payload').getByText(authorizationId, { exact: false }).first().waitFor();
  // The delivery is made by the background worker: refresh, bounded, until its attempt shows.
  const event = (await read('/events?type=authorization.created')).find((e: any) => e.resourceId === authorizationId);
  const received = () => receiver.requests.some((r) => r.json?.id === event.id);
  for (let i = 0; i < 40 && !received(); i++) await receiver.waitFor(receiver.requests.length + 1, 500).catch(() => undefined);
  assert.ok(received(), 'the receiver got the authorization.created event');
  let attempt = page.getByTestId('delivery-attempt').filter({ hasText: 'ok 200' });
  for (let i = 0; i < 20 && await attempt.count() === 0; i++) {
    await page.getByRole('button', { name: 'Refresh deliveries' }).click();
    attempt = page.getByTestId('delivery-attempt').filter({ hasText: 'ok 200' });
    await attempt.first().waitFor({ timeout: 500 }).catch(() => undefined);
  }
  await attempt.first().waitFor();
  assert.match((await attempt.first().textContent())!, /#1/);
  await shot('07-events-laptop');
  // Resend queues a second delivery of the same event.
  await page.getByRole('button', { name: 'Resend' }).click();
  await page.getByText('1 delivery(ies) queued.').waitFor();
  assert.equal((await read(`/events/${event.id}/deliveries`)).length, 2);
});

test('the chart shows approved and declined amounts', async () => {
  await go('Overview');
  const chart = page.getByTestId('chart');
  await chart.locator('canvas').waitFor();
  await page.getByText(/approved 12\.50 USD,\s+declined 900\.00 USD in total/).waitFor();
  await shot('08-overview-laptop');
});

test('every page at phone width: no sideways scrolling, every field labelled; a phone screenshot each', async () => {
  await page.setViewportSize(PHONE);
  for (const [link, name] of [['Overview', '08-overview'], ['API keys', '02-api-keys'], ['Accounts', '03-accounts'],
    ['Card holders', '04-card-holders'], ['Cards', '05-cards'], ['Simulator', '06-simulator'], ['Events', '07-events'],
    ['Webhooks', '09-webhooks']] as const) {
    await go(link);
    await page.waitForLoadState('networkidle');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `${link}: the page is ${overflow}px wider than the phone`);
    const unlabelled = await page.evaluate(() => [...document.querySelectorAll('input, select')]
      .filter((el) => (el as HTMLInputElement).labels?.length === 0).map((el) => el.outerHTML));
    assert.deepEqual(unlabelled, [], link);
    await shot(`${name}-phone`);
    if (link === 'Webhooks') {
      await page.setViewportSize(LAPTOP);
      await shot(`${name}-laptop`);
      await page.setViewportSize(PHONE);
    }
  }
  await page.setViewportSize(LAPTOP);
});

test('keyboard: the pages are reachable with Tab, and log out and log in work from the keyboard', async () => {
  await page.goto('/dashboard/#/');
  await page.getByTestId('org-name').waitFor();
  const reached: string[] = [];
  for (let i = 0; i < 16; i++) {
    await page.keyboard.press('Tab');
    reached.push(await page.evaluate(() => document.activeElement?.textContent?.trim() ?? ''));
  }
  for (const name of ['Log out', 'Accounts', 'Cards', 'Webhooks']) assert.ok(reached.includes(name), `${name} in ${reached.join(' | ')}`);
  await page.getByRole('button', { name: 'Log out' }).focus();
  await page.keyboard.press('Enter');
  const login = form('Log in');
  await login.waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.length), 0);
  await login.getByLabel('Email').fill(EMAIL);
  await login.getByLabel('Password').fill(PASSWORD);
  await login.getByLabel('Password').press('Enter');
  await page.getByTestId('org-name').getByText(ORG).waitFor();
});

test('a session ended elsewhere sends the dashboard back to the login page', async () => {
  const token = await page.evaluate(() => sessionStorage.getItem('paygen.token'));
  assert.match(token ?? '', /^pgt_/);
  const logout = await api.request('POST', '/auth/logout', { bearer: token!, key: null });
  assert.equal(logout.status, 200, logout.text);
  // The next call is refused: the dashboard drops the token and shows the login page. That call
  // is the click's, or one the overview still had in flight (its chart's authorizations), if that
  // one reaches the API after the logout: then the page is gone before the click finds its link.
  const accounts = page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Accounts', exact: true });
  await Promise.race([form('Log in').waitFor(), accounts.click().catch(() => undefined)]);
  await form('Log in').waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.length), 0);
  // Chromium logs the refused call (401) as a console error: that one is expected.
  const isRefused = (e: string) => /status of 401/.test(e);
  if (!consoleErrors.some(isRefused)) await page.waitForEvent('console', { predicate: (m) => isRefused(m.text()) });
  consoleErrors.splice(0, consoleErrors.length, ...consoleErrors.filter((e) => !isRefused(e)));
});

test('no console errors and no uncaught exceptions on the way', () => {
  assert.deepEqual(consoleErrors, []);
});

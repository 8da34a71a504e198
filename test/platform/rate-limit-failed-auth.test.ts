// Failed authentication is rate limited per client before any work: bad API keys, bad bearer
// tokens and bad logins count per client IP, bad logins also per account; past the threshold the
// answer is a 429 rate_limited with Retry-After, given before any credential is hashed, looked up
// or a password verified. Successes do not count, and public routes are never starved.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test, type TestContext } from 'node:test';
import { startHarness, type Harness, type Response } from '../support/api.ts';

const PER_IP = 5;
const PER_ACCOUNT = 3;
const PASSWORD = 'correct horse battery';

const harnesses: Harness[] = [];
const start = async () => {
  const api = await startHarness({ config: { failedAuthPerIpPerMinute: PER_IP, failedLoginsPerAccountPerMinute: PER_ACCOUNT } });
  harnesses.push(api);
  return api;
};
after(async () => {
  for (const api of harnesses) {
    await api.checkLedger();
    await api.close();
  }
});

function assertLimited(res: Response) {
  assert.equal(res.status, 429, res.text);
  assert.equal(res.body.statusCode, 429);
  assert.equal(res.body.data, null);
  assert.equal(res.body.error.code, 'rate_limited');
  assert.match(res.body.requestId, /^req_/);
  const retryAfter = Number(res.headers.get('retry-after'));
  assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, `retry-after ${res.headers.get('retry-after')}`);
}

/** Counts the work the app does from now on: credential hashes and database queries. */
function watchWork(t: TestContext, api: Harness) {
  const hashes = t.mock.method(api.app.ctx.vault, 'hash');
  const queries = t.mock.method(api.app.ctx.db, 'query');
  return () => hashes.mock.callCount() + queries.mock.callCount();
}

async function signup(api: Harness) {
  const email = `limited-${randomBytes(6).toString('hex')}@example.com`;
  const res = await api.request('POST', '/auth/signup', { key: null, body: { email, password: PASSWORD, organizationName: 'Limited' } });
  assert.equal(res.status, 201, res.text);
  return email;
}
const login = (api: Harness, email: string, password = PASSWORD) => api.request('POST', '/auth/login', { key: null, body: { email, password } });

describe('bad API keys and bearer tokens, per client', () => {
  let api: Harness;
  before(async () => { api = await start(); });

  test(`successes do not count; ${PER_IP} failures do, then even a valid key gets a 429 without any work`, async (t) => {
    for (let i = 0; i < PER_IP * 2; i++) assert.equal((await api.request('GET', '/auth/me')).status, 200);
    for (let i = 0; i < PER_IP - 2; i++) assert.equal((await api.request('GET', '/accounts', { key: `sk_sbx_guess_${i}` })).status, 401);
    assert.equal((await api.request('GET', '/accounts', { key: null, bearer: 'pgt_guess' })).status, 401);
    assert.equal((await api.request('GET', '/auth/me')).status, 200, 'one failure left: a valid key still works');
    assert.equal((await api.request('GET', '/accounts', { key: null, bearer: 'pgt_guess_again' })).status, 401);

    const work = watchWork(t, api);
    assertLimited(await api.request('GET', '/accounts', { key: 'sk_sbx_guess_more' }));
    assertLimited(await api.request('GET', '/accounts', { key: null, bearer: 'pgt_guess_more' }));
    assertLimited(await api.request('GET', '/auth/me'));
    assert.equal(work(), 0, 'no credential hashed, no database query');
  });

  test('public routes are never starved, and a request without any credential is still a 401', async () => {
    for (const path of ['/health', '/ready', '/openapi.json', '/docs']) {
      const res = await api.request('GET', path, { key: null });
      assert.equal(res.status, 200, `${path}: ${res.text.slice(0, 200)}`);
    }
    const res = await api.request('GET', '/accounts', { key: null });
    assert.equal(res.status, 401, res.text);
  });

  test('logins from the limited client are refused too, before any password is verified', async (t) => {
    const work = watchWork(t, api);
    assertLimited(await login(api, 'someone@example.com'));
    assert.equal(work(), 0);
  });
});

describe('bad logins, per account and per client', () => {
  let api: Harness;
  before(async () => { api = await start(); });

  test(`${PER_ACCOUNT} wrong passwords lock the account for the window, even for the right password, before any work`, async (t) => {
    const email = await signup(api);
    assert.equal((await login(api, email)).status, 200, 'a success does not count');
    for (let i = 0; i < PER_ACCOUNT; i++) assert.equal((await login(api, email, `wrong password ${i}`)).status, 401);
    const work = watchWork(t, api);
    const limited = await login(api, email.toUpperCase());
    assertLimited(limited);
    assert.match(limited.body.message, /for this account/);
    assert.equal(work(), 0, 'no user looked up, no password verified');
  });

  test('another account from the same client still logs in while the client has failures left', async () => {
    const email = await signup(api);
    assert.equal((await login(api, email)).status, 200);
  });

  test('unknown emails count per client like bad passwords', async () => {
    const used = PER_ACCOUNT;
    for (let i = used; i < PER_IP; i++) assert.equal((await login(api, `nobody-${i}@example.com`)).status, 401);
    const limited = await login(api, `nobody-else@example.com`);
    assertLimited(limited);
    assert.match(limited.body.message, /from this client/);
    assertLimited(await api.request('GET', '/auth/me'));
  });
});

// DESIGN §5 "Logs never contain PAN, CVV, PIN, API keys, passwords or tokens". The app logs at
// trace level into a captured stream (BuildOptions.logger.stream) while a workload handles every
// kind of secret; then the captured text must not hold any of them. The redaction paths of the
// real logger are checked directly as well.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { onPostgres, startHarness, type Harness } from '../support/api.ts';
import { createAccount, createProgram, issueNameOnlyCard } from '../support/fixtures.ts';
import type { CardRow } from '../../src/modules/cards/cards.repo.ts';

let api: Harness;
let captured = '';
const stream = new Writable({ write(chunk, _encoding, done) { captured += chunk.toString(); done(); } });
const flush = () => new Promise((resolve) => setImmediate(resolve));

/** Every secret the workload handles; none may reach the log. */
const secrets: Record<string, string> = {};
const PASSWORD = 'log-test password 8c1f';
const PIN = '8264';

before(async () => {
  api = await startHarness({ logger: { stream }, config: { logLevel: 'trace' } });
  secrets.harnessKey = api.apiKey;
  const email = `logs-${Date.now()}@example.com`;
  const signup = await api.request('POST', '/auth/signup', { key: null, body: { email, password: PASSWORD, organizationName: 'Logs' } });
  assert.equal(signup.status, 201, signup.text);
  secrets.password = PASSWORD;
  secrets.sessionToken = signup.body.data.token;
  const login = await api.request('POST', '/auth/login', { key: null, body: { email, password: PASSWORD } });
  secrets.loginToken = login.body.data.token;
  await api.request('POST', '/auth/login', { key: null, body: { email, password: `${PASSWORD} wrong` } });
  const key = await api.request('POST', '/api-keys', { bearer: secrets.sessionToken, body: { name: 'logged?' } });
  secrets.apiKey = key.body.data.key;
  const ephemeral = await api.request('POST', '/auth/tokens', { key: secrets.apiKey, body: { ttlSeconds: 60, scopes: ['cards:read'] } });
  secrets.ephemeralToken = ephemeral.body.data.token;
  await api.request('GET', '/cards', { key: null, bearer: secrets.ephemeralToken });
  await api.request('GET', '/auth/me', { key: null, bearer: secrets.loginToken });

  const account = await createAccount(api);
  const program = await createProgram(api);
  const card = await issueNameOnlyCard(api, account, program, 100, { cardPin: PIN });
  assert.equal(card.status, 201, card.text);
  const [row] = await api.app.ctx.db.query<CardRow>('SELECT * FROM cards WHERE id = $1', [card.body.data.id]);
  secrets.pan = api.app.ctx.vault.openRecord({ ciphertext: row.pan_ciphertext, wrappedKey: row.pan_data_key, keyId: row.pan_key_id });
  assert.match(secrets.pan, /^\d{15,19}$/);
  await api.request('GET', `/cards/${card.body.data.id}`);

  // An unexpected error while a password is in flight: the error is logged, the password must not
  // be. Renaming a table is only safe on the harness's own in-memory database.
  if (!onPostgres()) {
    await api.app.ctx.db.query('ALTER TABLE users RENAME TO users_unavailable');
    try {
      const failed = await api.request('POST', '/auth/login', { key: null, body: { email, password: PASSWORD } });
      assert.equal(failed.status, 500, failed.text);
    } finally {
      await api.app.ctx.db.query('ALTER TABLE users_unavailable RENAME TO users');
    }
  }
  await flush();
});
after(async () => { await api.checkLedger(); await api.close(); });

const leaks = (text: string) => Object.entries(secrets).filter(([, value]) => text.includes(value)).map(([name]) => name);

describe('log redaction', () => {
  test('the log was captured (requests, ids, the unexpected error)', () => {
    assert.ok(captured.length > 1000, `captured ${captured.length} bytes`);
    const lines = captured.trim().split('\n').map((line) => JSON.parse(line));
    assert.ok(lines.some((l) => l.msg === 'incoming request' && l.reqId?.startsWith('req_')));
    if (!onPostgres()) assert.ok(lines.some((l) => l.level >= 50 && l.err), 'the 500 was logged with its error');
  });

  test('no API key, password, bearer token, PAN or PIN in the log of a real workload', () => {
    assert.deepEqual(leaks(captured), []);
    assert.equal(new RegExp(`"(cardPin|pin)":"${PIN}"`).test(captured), false);
  });

  test('the logger redacts credentials and card data wherever the configured paths put them', async () => {
    const start = captured.length;
    const log = api.app.log;
    log.info({ req: { headers: { 'x-api-key': secrets.apiKey, authorization: `Bearer ${secrets.sessionToken}`, cookie: `session=${secrets.loginToken}` } } }, 'headers');
    log.info({ card: { pan: secrets.pan, cvv: '123', pin: PIN } }, 'card');
    log.info({ body: { password: PASSWORD, token: secrets.ephemeralToken, secret: 'whsec_logtest', key: secrets.harnessKey } }, 'body');
    log.info({ request: { card: { pan: secrets.pan } } }, 'nested');
    await flush();
    const text = captured.slice(start);
    assert.ok(text.includes('[redacted]'), text);
    assert.deepEqual(leaks(text), []);
    assert.equal(text.includes('whsec_logtest'), false);
  });

  test('a PAN three levels deep is redacted too', async () => {
    const start = captured.length;
    api.app.log.info({ event: { data: { card: { pan: secrets.pan } } } }, 'deep');
    await flush();
    assert.deepEqual(leaks(captured.slice(start)), []);
  });

  test('a hosted page token in the URL is not logged', async () => {
    const start = captured.length;
    await api.request('GET', '/card-reveal/rvl_logtest_secret_token/data', { key: null });
    await flush();
    assert.equal(captured.slice(start).includes('rvl_logtest_secret_token'), false);
  });
});

// Credentials cached per process (organizations.service cacheCredentials) on the embedded
// database: its one session hears every write's notification, so a key is read once and any
// change to API keys or signing keys (through the API or straight in SQL) binds the next request.
// Across processes on PostgreSQL: test/postgres/credential-cache.pg-test.ts.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { onPostgres, startHarness, type Harness } from '../support/api.ts';

const KEY_LOOKUP = /FROM api_keys k WHERE k\.key_hash/;
const ACCOUNT = { ownerType: 'business', ownerId: 'owner-1', name: 'Cache', type: 'checking', category: 'fiat', currency: 'USD' };

/** On PostgreSQL a notification reaches the app a moment after the commit: the .pg-test suite waits for it. */
const skip = onPostgres() && 'PGlite only: test/postgres/credential-cache.pg-test.ts covers PostgreSQL';

let api: Harness;
before(async () => { if (!skip) api = await startHarness(); });
after(() => api?.close());

/** The SQL texts the app's database runs while `fn` runs. */
async function statementsDuring(fn: () => Promise<void>): Promise<string[]> {
  const db = api.app.ctx.db;
  const texts: string[] = [];
  const query = db.query.bind(db);
  db.query = ((sql: string, params?: unknown[]) => { texts.push(sql); return query(sql, params); }) as typeof db.query;
  try {
    await fn();
  } finally {
    db.query = query;
  }
  return texts;
}

async function newKey(name: string): Promise<{ id: string; key: string }> {
  const res = await api.request('POST', '/api-keys', { body: { name } });
  assert.equal(res.status, 201, res.text);
  return { id: res.body.data.id, key: res.body.data.key };
}

test('a key is read once, then served from memory; an unknown key is read every time', { skip }, async () => {
  const { key } = await newKey('cached');
  assert.equal((await api.request('GET', '/accounts', { key })).status, 200);
  const texts = await statementsDuring(async () => {
    for (let i = 0; i < 5; i++) assert.equal((await api.request('GET', '/accounts', { key })).status, 200);
  });
  assert.equal(texts.filter((t) => KEY_LOOKUP.test(t)).length, 0);
  const unknown = await statementsDuring(async () => {
    for (let i = 0; i < 3; i++) assert.equal((await api.request('GET', '/accounts', { key: 'sk_sbx_unknown' })).status, 401);
  });
  assert.equal(unknown.filter((t) => KEY_LOOKUP.test(t)).length, 3);
});

test('revoked through the API or in SQL, a cached key fails on the very next request', { skip }, async () => {
  const viaApi = await newKey('revoked through the API');
  const viaSql = await newKey('revoked in SQL');
  for (const { key } of [viaApi, viaSql]) assert.equal((await api.request('GET', '/accounts', { key })).status, 200);
  assert.equal((await api.request('DELETE', `/api-keys/${viaApi.id}`)).status, 200);
  assert.equal((await api.request('GET', '/accounts', { key: viaApi.key })).status, 401);
  await api.app.ctx.db.query('UPDATE api_keys SET revoked_at = now() WHERE id = $1', [viaSql.id]);
  assert.equal((await api.request('GET', '/accounts', { key: viaSql.key })).status, 401);
});

test('a required signing key binds the next unsigned change of a cached key', { skip }, async () => {
  const other = await api.otherOrganization();
  assert.equal((await api.request('POST', '/accounts', { key: other.apiKey, body: ACCOUNT })).status, 201);
  const signingKey = await api.request('POST', '/signing-keys', { key: other.apiKey, body: { keyId: 'cache', algorithm: 'hmac-sha256', required: true } });
  assert.equal(signingKey.status, 201, signingKey.text);
  const unsigned = await api.request('POST', '/accounts', { key: other.apiKey, body: ACCOUNT });
  assert.equal(`${unsigned.status} ${unsigned.body.error?.code}`, '401 signature_required');
  // Made required in SQL instead: the same.
  const third = await api.otherOrganization();
  assert.equal((await api.request('POST', '/accounts', { key: third.apiKey, body: ACCOUNT })).status, 201);
  const optional = await api.request('POST', '/signing-keys', { key: third.apiKey, body: { keyId: 'later', algorithm: 'hmac-sha256' } });
  assert.equal(optional.status, 201, optional.text);
  assert.equal((await api.request('POST', '/accounts', { key: third.apiKey, body: ACCOUNT })).status, 201);
  await api.app.ctx.db.query('UPDATE signing_keys SET required = true WHERE id = $1', [optional.body.data.id]);
  const refused = await api.request('POST', '/accounts', { key: third.apiKey, body: ACCOUNT });
  assert.equal(`${refused.status} ${refused.body.error?.code}`, '401 signature_required');
});

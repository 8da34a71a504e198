// API.md "Idempotency" and every scenario of test/data/vectors/idempotency.json (a copy of the
// published vectors), adapted to our
// contract (errors in our envelope, the header optional). The policy is documented at the top of
// src/platform/idempotency.ts. Races between two identical requests are proved on PostgreSQL by the
// concurrency suite; here PGlite shows the sequential semantics (and that a burst never executes twice).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { ManualClock } from '../../src/platform/clock.ts';
import { IDEMPOTENCY_LEASE_MS, IDEMPOTENCY_TTL_MS } from '../../src/platform/idempotency.ts';
import { onPostgres, startHarness, type Harness, type Response } from '../support/api.ts';
import { createAccount } from '../support/fixtures.ts';

let api: Harness;
before(async () => { api = await startHarness(); });
after(async () => { await api.checkLedger(); await api.close(); });

const newKey = () => `idem-${randomBytes(8).toString('hex')}`;
const accountBody = (ownerId: string) => ({ ownerType: 'business', ownerId, name: 'Idempotent', type: 'checking', category: 'fiat', currency: 'USD' });
const createWithKey = (key: string, body: unknown, apiKey?: string) =>
  api.request('POST', '/accounts', { body, key: apiKey, headers: { 'idempotency-key': key } });

function assertError(res: Response, status: number, code: string) {
  assert.equal(res.status, status, res.text);
  assert.equal(res.body.data, null);
  assert.equal(res.body.error.code, code, res.text);
  assert.match(res.body.requestId, /^req_/);
}

async function accountsOf(ownerId: string, apiKey?: string) {
  const res = await api.request('GET', `/accounts?ownerId=${ownerId}&limit=100`, { key: apiKey });
  assert.equal(res.status, 200, res.text);
  return res.body.data as Array<{ id: string }>;
}

async function eventTypes(resourceId: string) {
  const res = await api.request('GET', `/events?resourceId=${resourceId}&limit=100`);
  return (res.body.data as Array<{ type: string }>).map((e) => e.type);
}

/**
 * Sends each value as its own Idempotency-Key header line (fetch would fold them into one) and
 * lets non-ASCII bytes through as latin1, as a raw client would.
 */
function rawPost(path: string, idempotencyKeys: string[], body: string): Promise<{ status: number; body: any }> {
  const url = new URL(api.baseUrl + path);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, path, method: 'POST' }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) }));
    });
    req.on('error', reject);
    req.setHeader('content-type', 'application/json');
    req.setHeader('x-api-key', api.apiKey);
    req.setHeader('Idempotency-Key', idempotencyKeys);
    req.end(body);
  });
}

describe('replay', () => {
  test('a retry replays the same status and byte-identical body, with no second side effect', async () => {
    const key = newKey();
    const ownerId = `owner-${key}`;
    const first = await createWithKey(key, accountBody(ownerId));
    assert.equal(first.status, 201, first.text);
    assert.equal(first.headers.get('idempotent-replayed'), null);

    const second = await createWithKey(key, accountBody(ownerId));
    assert.equal(second.status, 201);
    assert.equal(second.text, first.text, 'byte-identical body');
    assert.equal(second.headers.get('idempotent-replayed'), 'true');
    assert.match(second.headers.get('content-type') ?? '', /^application\/json/);

    const third = await createWithKey(key, accountBody(ownerId));
    assert.equal(third.text, first.text);

    const accounts = await accountsOf(ownerId);
    assert.deepEqual(accounts.map((a) => a.id), [first.body.data.id]);
    const types = await eventTypes(first.body.data.id);
    assert.equal(types.filter((t) => t === 'account.created').length, 1, JSON.stringify(types));
    assert.equal(types.filter((t) => t === 'account.deposit_received').length, 1, 'one opening deposit, one ledger transfer');
  });

  test('the fingerprint is over the parsed body: other whitespace or key order replays', async () => {
    const key = newKey();
    const body = accountBody(`owner-${key}`);
    const first = await createWithKey(key, body);
    assert.equal(first.status, 201);
    const reordered = Object.fromEntries(Object.entries(body).reverse());
    const second = await api.request('POST', '/accounts', {
      raw: JSON.stringify(reordered, null, 4), headers: { 'content-type': 'application/json', 'idempotency-key': key },
    });
    assert.equal(second.headers.get('idempotent-replayed'), 'true');
    assert.equal(second.text, first.text);
  });

  test('the same key with a different body is a 422 idempotency_key_reused and changes nothing', async () => {
    const key = newKey();
    const first = await createWithKey(key, accountBody(`owner-${key}`));
    assert.equal(first.status, 201);
    const changed = await createWithKey(key, { ...accountBody(`owner-${key}`), name: 'Another name' });
    assertError(changed, 422, 'idempotency_key_reused');
    assert.equal(changed.headers.get('idempotent-replayed'), null);
    assert.equal((await accountsOf(`owner-${key}`)).length, 1);
    // The stored response is still there for the original request.
    assert.equal((await createWithKey(key, accountBody(`owner-${key}`))).text, first.text);
  });

  test('the same key on another endpoint is a 422 idempotency_key_reused', async () => {
    const key = newKey();
    assert.equal((await createWithKey(key, accountBody(`owner-${key}`))).status, 201);
    const other = await api.request('POST', '/api-keys', { body: { name: 'same key' }, headers: { 'idempotency-key': key } });
    assertError(other, 422, 'idempotency_key_reused');
    const account = await createAccount(api);
    const onPath = await api.request('PATCH', `/accounts/${account.id}`, { body: { name: 'x' }, headers: { 'idempotency-key': key } });
    assertError(onPath, 422, 'idempotency_key_reused');
  });

  test('the same key on the same route with another path id is a different request', async () => {
    const key = newKey();
    const a = await createAccount(api);
    const b = await createAccount(api);
    const first = await api.request('PATCH', `/accounts/${a.id}`, { body: { name: 'Renamed' }, headers: { 'idempotency-key': key } });
    assert.equal(first.status, 200, first.text);
    assertError(await api.request('PATCH', `/accounts/${b.id}`, { body: { name: 'Renamed' }, headers: { 'idempotency-key': key } }), 422, 'idempotency_key_reused');
    assert.equal((await api.request('GET', `/accounts/${b.id}`)).body.data.name, b.name);
  });

  test('a validation failure is not stored: the corrected request with the same key executes', async () => {
    const key = newKey();
    const invalid = await createWithKey(key, { ...accountBody(`owner-${key}`), type: 'piggy-bank' });
    assertError(invalid, 422, 'validation_failed');
    const corrected = await createWithKey(key, accountBody(`owner-${key}`));
    assert.equal(corrected.status, 201, corrected.text);
    assert.equal(corrected.headers.get('idempotent-replayed'), null);
    assert.equal((await accountsOf(`owner-${key}`)).length, 1);
  });

  test('an invalid amount is not stored either', async () => {
    const key = newKey();
    const account = await createAccount(api);
    const path = `/simulator/accounts/${account.id}/deposits`;
    assertError(await api.request('POST', path, { body: { amount: 1.5 }, headers: { 'idempotency-key': key } }), 422, 'invalid_amount');
    const ok = await api.request('POST', path, { body: { amount: 150 }, headers: { 'idempotency-key': key } });
    assert.equal(ok.status, 201, ok.text);
  });

  test('a business error is stored and replayed (the request ran): insufficient funds stays a 422', async () => {
    const key = newKey();
    const from = await createAccount(api);
    const to = await createAccount(api);
    const body = { fromAccountId: from.id, toAccountId: to.id, amount: from.balance.available + 1, currency: 'USD' };
    const first = await api.request('POST', '/transfers', { body, headers: { 'idempotency-key': key } });
    assertError(first, 422, 'insufficient_funds');
    await api.request('POST', `/simulator/accounts/${from.id}/deposits`, { body: { amount: 10 } });
    const retry = await api.request('POST', '/transfers', { body, headers: { 'idempotency-key': key } });
    assert.equal(retry.status, 422);
    assert.equal(retry.text, first.text);
    assert.equal(retry.headers.get('idempotent-replayed'), 'true');
    assert.equal((await api.request('GET', `/accounts/${to.id}`)).body.data.balance.available, to.balance.available);
  });

  test('DELETE accepts the header and replays', async () => {
    const key = newKey();
    const created = await api.request('POST', '/api-keys', { body: { name: 'to revoke' } });
    const first = await api.request('DELETE', `/api-keys/${created.body.data.id}`, { headers: { 'idempotency-key': key } });
    assert.equal(first.status, 200, first.text);
    const second = await api.request('DELETE', `/api-keys/${created.body.data.id}`, { headers: { 'idempotency-key': key } });
    assert.equal(second.headers.get('idempotent-replayed'), 'true');
    assert.equal(second.text, first.text);
  });

  test('GET ignores the header, even an invalid one', async () => {
    const key = newKey();
    const first = await api.request('GET', '/accounts', { headers: { 'idempotency-key': key } });
    assert.equal(first.status, 200);
    assert.equal(first.headers.get('idempotent-replayed'), null);
    const second = await api.request('GET', '/accounts', { headers: { 'idempotency-key': key } });
    assert.equal(second.headers.get('idempotent-replayed'), null);
    assert.equal((await api.request('GET', '/accounts', { headers: { 'idempotency-key': 'k'.repeat(300) } })).status, 200);
    // GET stored nothing: the key is still free for a POST.
    assert.equal((await createWithKey(key, accountBody(`owner-${key}`))).headers.get('idempotent-replayed'), null);
  });

  test('without the header every request executes', async () => {
    const ownerId = `owner-${newKey()}`;
    assert.equal((await api.request('POST', '/accounts', { body: accountBody(ownerId) })).status, 201);
    assert.equal((await api.request('POST', '/accounts', { body: accountBody(ownerId) })).status, 201);
    assert.equal((await accountsOf(ownerId)).length, 2);
  });
});

describe('header syntax', () => {
  test('a quoted sf-string and the raw token are the same key', async () => {
    const key = newKey();
    const first = await createWithKey(`"${key}"`, accountBody(`owner-${key}`));
    assert.equal(first.status, 201, first.text);
    const raw = await createWithKey(key, accountBody(`owner-${key}`));
    assert.equal(raw.headers.get('idempotent-replayed'), 'true');
    assert.equal(raw.text, first.text);
  });

  test('the draft examples are accepted: a quoted UUID and an unquoted token', async () => {
    for (const header of ['"8e03978e-40d5-43e8-bc93-6894a57f9324"', 'KG5LxwFBepaKHyUD']) {
      const res = await createWithKey(header, accountBody(`owner-${newKey()}`));
      assert.equal(res.status, 201, `${header}: ${res.text}`);
    }
  });

  test('a quoted key may hold spaces and escaped quotes', async () => {
    const key = `with space \\"quoted\\" ${newKey()}`;
    const first = await createWithKey(`"${key}"`, accountBody('owner-quoted'));
    assert.equal(first.status, 201, first.text);
    assert.equal((await createWithKey(`"${key}"`, accountBody('owner-quoted'))).headers.get('idempotent-replayed'), 'true');
  });

  test('255 characters are accepted; 256 are a 400 invalid_header', async () => {
    const long = 'k'.repeat(255);
    assert.equal((await createWithKey(long, accountBody(`owner-${newKey()}`))).status, 201);
    assert.equal((await createWithKey(`"${'q'.repeat(255)}"`, accountBody(`owner-${newKey()}`))).status, 201);
    const ownerId = `owner-${newKey()}`;
    assertError(await createWithKey('k'.repeat(256), accountBody(ownerId)), 400, 'invalid_header');
    assertError(await createWithKey(`"${'q'.repeat(256)}"`, accountBody(ownerId)), 400, 'invalid_header');
    assert.equal((await accountsOf(ownerId)).length, 0, 'a bad header executes nothing');
  });

  test('an empty key, an empty sf-string, or a malformed sf-string is a 400 invalid_header', async () => {
    for (const header of ['""', '"unterminated', '"bad \\q escape"', 'two words']) {
      assertError(await createWithKey(header, accountBody('owner-bad-header')), 400, 'invalid_header');
    }
    const empty = await rawPost('/accounts', [''], JSON.stringify(accountBody('owner-bad-header')));
    assert.equal(empty.status, 400, JSON.stringify(empty.body));
    assert.equal(empty.body.error.code, 'invalid_header');
    assert.equal((await accountsOf('owner-bad-header')).length, 0);
  });

  test('two Idempotency-Key header lines are a 400 invalid_header', async () => {
    const ownerId = `owner-${newKey()}`;
    const res = await rawPost('/accounts', [newKey(), newKey()], JSON.stringify(accountBody(ownerId)));
    assert.equal(res.status, 400, JSON.stringify(res.body));
    assert.equal(res.body.error.code, 'invalid_header');
    assert.match(res.body.requestId, /^req_/);
    // Even two identical lines: a client must send one.
    const key = newKey();
    const same = await rawPost('/accounts', [key, key], JSON.stringify(accountBody(ownerId)));
    assert.equal(same.status, 400);
    assert.equal((await accountsOf(ownerId)).length, 0);
  });

  test('a non-ASCII key is a 400 invalid_header (quoted or raw)', async () => {
    const ownerId = `owner-${newKey()}`;
    for (const header of ['"clé-ü"', 'clé-ü']) {
      const res = await rawPost('/accounts', [header], JSON.stringify(accountBody(ownerId)));
      assert.equal(res.status, 400, `${header}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.error.code, 'invalid_header');
    }
    assert.equal((await accountsOf(ownerId)).length, 0);
  });
});

describe('scope', () => {
  test('another organization using the same key executes independently and never sees our response', async () => {
    const key = newKey();
    const ownerId = `owner-${key}`;
    const mine = await createWithKey(key, accountBody(ownerId));
    const other = await api.otherOrganization();
    const theirs = await createWithKey(key, accountBody(ownerId), other.apiKey);
    assert.equal(theirs.status, 201, theirs.text);
    assert.equal(theirs.headers.get('idempotent-replayed'), null);
    assert.notEqual(theirs.body.data.id, mine.body.data.id);
    assert.equal((await accountsOf(ownerId, other.apiKey)).length, 1);
    assert.equal((await accountsOf(ownerId)).length, 1);
    // And each replays its own.
    assert.equal((await createWithKey(key, accountBody(ownerId), other.apiKey)).text, theirs.text);
    assert.equal((await createWithKey(key, accountBody(ownerId))).text, mine.text);
  });

  test('keys belong to the organization: another key of the same organization replays', async () => {
    const key = newKey();
    const first = await createWithKey(key, accountBody(`owner-${key}`));
    const second = (await api.request('POST', '/api-keys', { body: { name: 'second' } })).body.data.key;
    const replay = await createWithKey(key, accountBody(`owner-${key}`), second);
    assert.equal(replay.headers.get('idempotent-replayed'), 'true');
    assert.equal(replay.text, first.text);
  });

  test('a replay still requires a valid credential: a revoked key gets a 401, not the stored response', async () => {
    const created = await api.request('POST', '/api-keys', { body: { name: 'will be revoked' } });
    const apiKey = created.body.data.key;
    const key = newKey();
    const first = await createWithKey(key, accountBody(`owner-${key}`), apiKey);
    assert.equal(first.status, 201);
    assert.equal((await api.request('DELETE', `/api-keys/${created.body.data.id}`)).status, 200);
    const replay = await createWithKey(key, accountBody(`owner-${key}`), apiKey);
    assertError(replay, 401, 'unauthorized');
    assert.equal(replay.text.includes(first.body.data.id), false);
    assertError(await api.request('POST', '/accounts', { key: null, body: accountBody(`owner-${key}`), headers: { 'idempotency-key': key } }), 401, 'unauthorized');
  });
});

describe('in flight and failures', () => {
  test('a key whose first request has not finished answers 409 idempotency_key_in_use', async () => {
    const key = newKey();
    const first = await createWithKey(key, accountBody(`owner-${key}`));
    assert.equal(first.status, 201);
    // Put the stored key back in the state it has while the first request runs: claimed, its lease on.
    await api.app.ctx.db.query(
      "UPDATE idempotency_keys SET state = 'running', status_code = NULL, response_body = NULL, locked_until = $3 WHERE organization_id = $1 AND key = $2",
      [api.organizationId, key, new Date(Date.now() + IDEMPOTENCY_LEASE_MS)],
    );
    assertError(await createWithKey(key, accountBody(`owner-${key}`)), 409, 'idempotency_key_in_use');
    // A different body is still a misuse of the key, whatever its state.
    assertError(await createWithKey(key, { ...accountBody(`owner-${key}`), name: 'other' }), 422, 'idempotency_key_reused');
    assert.equal((await accountsOf(`owner-${key}`)).length, 1);
  });

  test('a burst of identical requests executes once; the others replay or get a 409', async () => {
    const key = newKey();
    const ownerId = `owner-${key}`;
    const responses = await Promise.all(Array.from({ length: 5 }, () => createWithKey(key, accountBody(ownerId))));
    const executed = responses.filter((r) => r.status === 201 && r.headers.get('idempotent-replayed') === null);
    assert.equal(executed.length, 1, responses.map((r) => `${r.status} ${r.headers.get('idempotent-replayed')}`).join(', '));
    for (const res of responses) {
      if (res.status === 201) assert.equal(res.text, executed[0].text);
      else assertError(res, 409, 'idempotency_key_in_use');
    }
    assert.equal((await accountsOf(ownerId)).length, 1);
  });

  test('a 5xx is not stored: the retry with the same key executes', { skip: onPostgres() && 'renames a table: PGlite only' }, async () => {
    const key = newKey();
    const ownerId = `owner-${key}`;
    await api.app.ctx.db.query('ALTER TABLE accounts RENAME TO accounts_unavailable');
    let failed: Response;
    try {
      failed = await createWithKey(key, accountBody(ownerId));
    } finally {
      await api.app.ctx.db.query('ALTER TABLE accounts_unavailable RENAME TO accounts');
    }
    assertError(failed, 500, 'internal_error');
    const retry = await createWithKey(key, accountBody(ownerId));
    assert.equal(retry.status, 201, retry.text);
    assert.equal(retry.headers.get('idempotent-replayed'), null);
    assert.equal((await accountsOf(ownerId)).length, 1);
  });
});

describe('retention', () => {
  test('24 h after first use a key is processed as new, even with another body (injected clock)', async () => {
    const clock = new ManualClock();
    const timed = await startHarness({ clock });
    try {
      const key = newKey();
      const send = (body: unknown) => timed.request('POST', '/accounts', { body, headers: { 'idempotency-key': key } });
      const first = await send(accountBody('owner-retention'));
      assert.equal(first.status, 201, first.text);
      clock.advance(IDEMPOTENCY_TTL_MS - 1000);
      assertError(await send(accountBody('owner-other')), 422, 'idempotency_key_reused');
      assert.equal((await send(accountBody('owner-retention'))).headers.get('idempotent-replayed'), 'true');
      clock.advance(2000);
      const later = await send(accountBody('owner-other'));
      assert.equal(later.status, 201, later.text);
      assert.equal(later.headers.get('idempotent-replayed'), null);
      assert.notEqual(later.body.data.id, first.body.data.id);
      // The new use starts a new 24 h window.
      assert.equal((await send(accountBody('owner-other'))).headers.get('idempotent-replayed'), 'true');
      await timed.checkLedger();
    } finally {
      await timed.close();
    }
  });
});

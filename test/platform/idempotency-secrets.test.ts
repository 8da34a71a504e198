// Secrets in the idempotency store (src/platform/idempotency.ts, "Stored"): every stored answer
// is sealed by the vault, so a new API key, bearer token, signing secret or PIN link is never
// kept in clear for the 24 h a key lives; the replay opens it and still returns it. Routes whose
// answer carries such a secret are marked `config: { secretResponse: true }`, which the answer
// shows as `Cache-Control: no-store`.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { LOST_RESPONSE_MESSAGE } from '../../src/platform/idempotency.ts';
import { startHarness, type Harness, type Response } from '../support/api.ts';
import { createAccount, createProgram, issueNameOnlyCard } from '../support/fixtures.ts';

let api: Harness;
before(async () => { api = await startHarness(); });
after(async () => { await api.checkLedger(); await api.close(); });

const MUTATING = new Set(['post', 'put', 'patch', 'delete']);
/** Field names that hold a credential or a secret shown once (a PIN session's url sits beside its token). */
const SECRET_FIELD = /^(key|token|secret|password)$|(Key|Token|Secret)$/;
const newKey = () => `secret-${randomBytes(8).toString('hex')}`;

type Schema = { $ref?: string; properties?: Record<string, Schema>; items?: Schema; anyOf?: Schema[]; oneOf?: Schema[]; allOf?: Schema[] };

/** Names of secret-looking fields anywhere in a schema, following $refs into components. */
function secretFields(schema: Schema | undefined, components: Record<string, Schema>, seen = new Set<string>()): string[] {
  if (!schema) return [];
  if (schema.$ref) {
    const name = schema.$ref.split('/').pop()!;
    if (seen.has(name)) return [];
    return secretFields(components[name], components, new Set([...seen, name]));
  }
  const found: string[] = [];
  for (const [name, property] of Object.entries(schema.properties ?? {})) {
    if (SECRET_FIELD.test(name)) found.push(name);
    found.push(...secretFields(property, components, seen));
  }
  for (const child of [schema.items, ...(schema.anyOf ?? []), ...(schema.oneOf ?? []), ...(schema.allOf ?? [])]) {
    found.push(...secretFields(child, components, seen));
  }
  return found;
}

/** Every mutating operation of the served document whose success answer has a secret field. */
async function secretRoutes(): Promise<Array<{ method: string; path: string; fields: string[] }>> {
  const doc = (await api.request('GET', '/openapi.json')).body;
  const routes = [];
  for (const [path, operations] of Object.entries(doc.paths as Record<string, Record<string, any>>)) {
    for (const [method, operation] of Object.entries(operations)) {
      if (!MUTATING.has(method)) continue;
      const success = Object.entries(operation.responses ?? {}).filter(([status]) => /^2\d\d$/.test(status));
      const fields = success.flatMap(([, r]: [string, any]) => secretFields(r.content?.['application/json']?.schema, doc.components.schemas));
      if (fields.length) routes.push({ method: method.toUpperCase(), path, fields: [...new Set(fields)] });
    }
  }
  return routes;
}

async function storedRow(key: string) {
  const rows = await api.app.ctx.db.query('SELECT * FROM idempotency_keys WHERE organization_id = $1 AND key = $2', [api.organizationId, key]);
  assert.equal(rows.length, 1);
  return rows[0];
}

/**
 * Sends the request twice with one key and checks the stored row holds neither the secret nor
 * anything of the answer in clear, while the replay returns the answer byte for byte.
 */
async function assertSealed(method: string, path: string, body: unknown, secretOf: (res: Response) => string) {
  const key = newKey();
  const first = await api.request(method, path, { body, headers: { 'idempotency-key': key } });
  assert.ok(first.status < 300, first.text);
  const secret = secretOf(first);
  assert.ok(secret && secret.length >= 16, `a secret in ${first.text}`);
  assert.equal(first.headers.get('cache-control'), 'no-store');
  const row = await storedRow(key);
  assert.equal(row.state, 'completed');
  assert.equal(row.vault_key_id, api.app.ctx.vault.keyId, 'sealed with the key id beside the ciphertext');
  const raw = JSON.stringify(row);
  assert.equal(raw.includes(secret), false, `the stored row holds the secret in clear: ${raw}`);
  assert.equal(raw.includes(first.body.data.id ?? secret), false, 'the whole answer is sealed, not only the secret');
  const replay = await api.request(method, path, { body, headers: { 'idempotency-key': key } });
  assert.equal(replay.headers.get('idempotent-replayed'), 'true');
  assert.equal(replay.text, first.text, 'the replay opens the sealed answer');
  assert.equal(replay.headers.get('cache-control'), 'no-store');
}

describe('secret answers are marked where the route is defined', () => {
  test('every mutation whose answer has a key, token or secret field is marked secretResponse (Cache-Control: no-store)', async () => {
    const routes = await secretRoutes();
    const names = routes.map((r) => `${r.method} ${r.path}`);
    // The walk must find the known ones, or it proves nothing.
    for (const known of ['POST /api-keys', 'POST /auth/tokens', 'POST /auth/signup', 'POST /webhooks/{id}/rotate-secret', 'POST /cards/{id}/pin-sessions', 'POST /card-programs']) {
      assert.ok(names.includes(known), `${known} not found among ${names.join(', ')}`);
    }
    const unmarked = [];
    for (const route of routes) {
      // Any answer of the route shows the flag, even a 404 for an id that does not exist.
      const res = await api.request(route.method, route.path.replace(/\{[^}]+\}/g, 'missing'), { body: {} });
      if (res.headers.get('cache-control') !== 'no-store') unmarked.push(`${route.method} ${route.path} (${route.fields.join(', ')})`);
    }
    assert.deepEqual(unmarked, [], 'add config: { secretResponse: true } to these routes');
  });

  test('an ordinary answer is not marked', async () => {
    const res = await api.request('POST', '/accounts', { body: { ownerType: 'business', ownerId: 'o', name: 'Plain', type: 'checking', category: 'fiat', currency: 'USD' } });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.headers.get('cache-control'), null);
  });
});

describe('stored answers are sealed; replays open them', () => {
  test('a new API key', async () => {
    await assertSealed('POST', '/api-keys', { name: 'sealed' }, (res) => res.body.data.key);
  });

  test('a bearer token (POST /auth/tokens)', async () => {
    await assertSealed('POST', '/auth/tokens', { ttlSeconds: 60 }, (res) => res.body.data.token);
  });

  test('a webhook signing secret, at creation and at rotation', async () => {
    const body = { url: 'http://127.0.0.1:9/hooks', events: ['card.created'] };
    await assertSealed('POST', '/webhooks', body, (res) => res.body.data.secret);
    const hook = await api.request('POST', '/webhooks', { body });
    assert.equal(hook.status, 201, hook.text);
    await assertSealed('POST', `/webhooks/${hook.body.data.id}/rotate-secret`, undefined, (res) => res.body.data.secret);
  });

  test('a program decision-webhook secret, at creation, update and rotation', async () => {
    const webhook = { url: 'http://127.0.0.1:9/decide' };
    const secretOf = (res: Response) => res.body.data.authorizationWebhook.secret;
    await assertSealed('POST', '/card-programs', {
      name: `Sealed ${newKey()}`, brand: 'Visa', bin: '45990000', currency: 'USD', allowNameOnlyIssuance: true,
      requiresVerifiedCardHolder: false, authorizationWebhook: webhook,
    }, secretOf);
    const program = await createProgram(api);
    await assertSealed('PATCH', `/card-programs/${program.id}`, { authorizationWebhook: webhook }, secretOf);
    await assertSealed('POST', `/card-programs/${program.id}/rotate-webhook-secret`, undefined, secretOf);
  });

  test('a PIN-session link', async () => {
    const card = await issueNameOnlyCard(api, await createAccount(api), await createProgram(api));
    assert.equal(card.status, 201, card.text);
    await assertSealed('POST', `/cards/${card.body.data.id}/pin-sessions`, undefined, (res) => res.body.data.token);
  });

  test('a sealed answer opens only in its own row: copied under another key it is not replayed', async () => {
    const key = newKey();
    const first = await api.request('POST', '/api-keys', { body: { name: 'copied' }, headers: { 'idempotency-key': key } });
    assert.equal(first.status, 201, first.text);
    const other = newKey();
    const second = await api.request('POST', '/api-keys', { body: { name: 'copied' }, headers: { 'idempotency-key': other } });
    assert.equal(second.status, 201, second.text);
    await api.app.ctx.db.query(
      `UPDATE idempotency_keys SET response_body = (SELECT response_body FROM idempotency_keys WHERE organization_id = $1 AND key = $2)
       WHERE organization_id = $1 AND key = $3`,
      [api.organizationId, key, other],
    );
    const replay = await api.request('POST', '/api-keys', { body: { name: 'copied' }, headers: { 'idempotency-key': other } });
    assert.equal(replay.status, 201, replay.text);
    assert.equal(replay.text.includes(first.body.data.key), false, 'another key\'s secret never comes out');
    assert.equal(replay.text.includes(second.body.data.key), false, 'the lost secret is not invented either');
    assert.equal(replay.body.data.id, second.body.data.id, 'the answer names what the request created');
  });

  test('an answer stored in clear before sealing began is still replayed', async () => {
    const key = newKey();
    const body = { ownerType: 'business', ownerId: 'legacy', name: 'Legacy', type: 'checking', category: 'fiat', currency: 'USD' };
    const first = await api.request('POST', '/accounts', { body, headers: { 'idempotency-key': key } });
    assert.equal(first.status, 201, first.text);
    await api.app.ctx.db.query(
      'UPDATE idempotency_keys SET response_body = $3, vault_key_id = NULL WHERE organization_id = $1 AND key = $2',
      [api.organizationId, key, first.text],
    );
    const replay = await api.request('POST', '/accounts', { body, headers: { 'idempotency-key': key } });
    assert.equal(replay.headers.get('idempotent-replayed'), 'true');
    assert.equal(replay.text, first.text);
  });
});

describe('an answer sealed with a key the vault no longer has', () => {
  const markSealedByOldKey = (key: string) => api.app.ctx.db.query(
    "UPDATE idempotency_keys SET vault_key_id = 'retired-key' WHERE organization_id = $1 AND key = $2", [api.organizationId, key]);

  test('a success is answered as ran-but-not-kept, and never runs again', async () => {
    const key = newKey();
    const ownerId = `owner-${key}`;
    const body = { ownerType: 'business', ownerId, name: 'Unreadable', type: 'checking', category: 'fiat', currency: 'USD' };
    assert.equal((await api.request('POST', '/accounts', { body, headers: { 'idempotency-key': key } })).status, 201);
    await markSealedByOldKey(key);
    const retry = await api.request('POST', '/accounts', { body, headers: { 'idempotency-key': key } });
    assert.equal(retry.status, 201, retry.text);
    assert.equal(retry.headers.get('idempotent-replayed'), 'true');
    assert.equal(retry.body.message, LOST_RESPONSE_MESSAGE);
    assert.equal(retry.body.data, null, 'nothing it cannot read is invented');
    assert.equal((await api.request('GET', `/accounts?ownerId=${ownerId}`)).body.data.length, 1);
  });

  test('a failure keeps its status with idempotent_response_unreadable', async () => {
    const key = newKey();
    const from = await createAccount(api);
    const to = await createAccount(api);
    const body = { fromAccountId: from.id, toAccountId: to.id, amount: from.balance.available + 1, currency: 'USD' };
    assert.equal((await api.request('POST', '/transfers', { body, headers: { 'idempotency-key': key } })).status, 422);
    await markSealedByOldKey(key);
    const retry = await api.request('POST', '/transfers', { body, headers: { 'idempotency-key': key } });
    assert.equal(retry.status, 422, retry.text);
    assert.equal(retry.body.error.code, 'idempotent_response_unreadable');
    assert.equal(retry.headers.get('idempotent-replayed'), 'true');
  });
});

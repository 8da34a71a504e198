// /signing-keys: public keys are parsed and must fit the algorithm, an hmac-sha256 secret is shown
// once, keyIds are unique per organization, and keys belong to their organization.
import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { after, before, test } from 'node:test';
import { startHarness, type Harness } from '../support/api.ts';

let api: Harness;
before(async () => { api = await startHarness(); });
after(async () => { await api.checkLedger(); await api.close(); });

const pem = (type: 'ed25519' | 'ec' | 'rsa', options: object = {}) =>
  (generateKeyPairSync(type as never, options as never).publicKey as unknown as KeyObject).export({ type: 'spki', format: 'pem' }) as string;

test('an ed25519 PEM key is registered, listed and read back without a secret', async () => {
  const res = await api.request('POST', '/signing-keys', { body: { keyId: 'ed-1', algorithm: 'ed25519', publicKey: pem('ed25519') } });
  assert.equal(res.status, 201, res.text);
  assert.equal(res.body.data.secret, null);
  assert.match(res.body.data.publicKeyPem, /BEGIN PUBLIC KEY/);
  assert.equal(res.body.data.required, false);
  const list = await api.request('GET', '/signing-keys');
  assert.ok(list.body.data.some((k: any) => k.id === res.body.data.id));
  const one = await api.request('GET', `/signing-keys/${res.body.data.id}`);
  assert.equal(one.status, 200);
  assert.equal('secret' in one.body.data, false);
});

test('P-256 and RSA keys are accepted as PEM or JWK for their algorithms', async () => {
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' });
  assert.equal((await api.request('POST', '/signing-keys', { body: { keyId: 'ec-jwk', algorithm: 'ecdsa-p256-sha256', publicKey: ec } })).status, 201);
  const rsa = pem('rsa', { modulusLength: 2048 });
  assert.equal((await api.request('POST', '/signing-keys', { body: { keyId: 'rsa-pem', algorithm: 'rsa-pss-sha512', publicKey: rsa } })).status, 201);
});

test('an hmac-sha256 secret is generated and shown once', async () => {
  const res = await api.request('POST', '/signing-keys', { body: { keyId: 'hmac-1', algorithm: 'hmac-sha256' } });
  assert.equal(res.status, 201, res.text);
  assert.equal(Buffer.from(res.body.data.secret, 'base64').length, 32);
  assert.equal(res.body.data.publicKeyPem, null);
  const list = await api.request('GET', '/signing-keys');
  assert.ok(!list.text.includes(res.body.data.secret));
  const one = await api.request('GET', `/signing-keys/${res.body.data.id}`);
  assert.ok(!one.text.includes(res.body.data.secret));
});

test('a keyId is unique among the live keys of an organization, and free again after deletion', async () => {
  const body = { keyId: 'dup', algorithm: 'ed25519', publicKey: pem('ed25519') };
  const first = await api.request('POST', '/signing-keys', { body });
  assert.equal(first.status, 201);
  const again = await api.request('POST', '/signing-keys', { body });
  assert.equal(again.status, 409);
  assert.equal(again.body.error.code, 'signing_key_id_taken');
  const other = await api.otherOrganization();
  assert.equal((await api.request('POST', '/signing-keys', { body, key: other.apiKey })).status, 201);
  assert.equal((await api.request('DELETE', `/signing-keys/${first.body.data.id}`)).status, 200);
  assert.equal((await api.request('GET', `/signing-keys/${first.body.data.id}`)).status, 404);
  assert.equal((await api.request('POST', '/signing-keys', { body })).status, 201);
});

test('a key of another type than the algorithm, a private key, garbage and an hmac public key are 422', async () => {
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ algorithm: 'ecdsa-p256-sha256', publicKey: pem('ed25519') }, 'key_algorithm_mismatch'],
    [{ algorithm: 'ed25519', publicKey: pem('ec', { namedCurve: 'P-256' }) }, 'key_algorithm_mismatch'],
    [{ algorithm: 'ecdsa-p256-sha256', publicKey: pem('ec', { namedCurve: 'P-384' }) }, 'key_algorithm_mismatch'],
    [{ algorithm: 'rsa-pss-sha512', publicKey: pem('rsa', { modulusLength: 1024 }) }, 'key_algorithm_mismatch'],
    [{ algorithm: 'ed25519', publicKey: generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }) }, 'invalid_public_key'],
    [{ algorithm: 'ed25519', publicKey: generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' }) }, 'invalid_public_key'],
    [{ algorithm: 'ed25519', publicKey: 'not a key' }, 'invalid_public_key'],
    [{ algorithm: 'ed25519' }, 'invalid_public_key'],
    [{ algorithm: 'hmac-sha256', publicKey: pem('ed25519') }, 'invalid_public_key'],
  ];
  for (const [body, code] of cases) {
    const res = await api.request('POST', '/signing-keys', { body: { keyId: 'bad', ...body } });
    assert.equal(res.status, 422, `${JSON.stringify(body).slice(0, 60)}: ${res.text}`);
    assert.equal(res.body.error.code, code);
  }
});

test('another organization cannot read or delete a key', async () => {
  const mine = await api.request('POST', '/signing-keys', { body: { keyId: 'tenancy', algorithm: 'hmac-sha256' } });
  const other = await api.otherOrganization();
  assert.equal((await api.request('GET', `/signing-keys/${mine.body.data.id}`, { key: other.apiKey })).status, 404);
  assert.equal((await api.request('DELETE', `/signing-keys/${mine.body.data.id}`, { key: other.apiKey })).status, 404);
  const list = await api.request('GET', '/signing-keys', { key: other.apiKey });
  assert.ok(!list.body.data.some((k: any) => k.id === mine.body.data.id));
  assert.equal((await api.request('GET', `/signing-keys/${mine.body.data.id}`)).status, 200);
});

test('creating and deleting a key record signing_key events that never carry the secret', async () => {
  const created = await api.request('POST', '/signing-keys', { body: { keyId: 'evented', algorithm: 'hmac-sha256' } });
  assert.equal((await api.request('DELETE', `/signing-keys/${created.body.data.id}`)).status, 200);
  const events = await api.request('GET', `/events?resourceId=${created.body.data.id}`);
  assert.equal(events.status, 200, events.text);
  assert.deepEqual(events.body.data.map((e: any) => e.type).sort(), ['signing_key.created', 'signing_key.deleted']);
  assert.ok(events.body.data.every((e: any) => e.data.keyId === 'evented'));
  assert.ok(!events.text.includes(created.body.data.secret));
});

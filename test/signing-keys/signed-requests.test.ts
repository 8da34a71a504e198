// RFC 9421 signatures end to end: requests signed with each algorithm are accepted; a tampered
// method, path, body or covered header, an old created, a reused nonce, another organization's
// keyid and a deleted key are refused with 401 and their codes; required keys refuse unsigned
// mutations but not reads. The clock is injected, so `created` is exact.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, test } from 'node:test';
import { ManualClock } from '../../src/platform/clock.ts';
import { startHarness, type Harness } from '../support/api.ts';
import { contentDigest, signedHeaders, type SignOptions, type TestKey } from './signer.ts';

const clock = new ManualClock(new Date('2026-06-01T12:00:00Z'));
let api: Harness;
before(async () => { api = await startHarness({ clock }); });
after(async () => { await api.checkLedger(); await api.close(); });

const now = () => Math.floor(clock.now().getTime() / 1000);
const ACCOUNT = { ownerType: 'business', ownerId: 'owner-1', name: 'Signed wallet', type: 'checking', category: 'fiat', currency: 'USD' };

/** Registers a key of the algorithm for the organization of `apiKey` and returns the signing half. */
async function registerKey(keyId: string, algorithm: TestKey['algorithm'], extra: Record<string, unknown> = {}, apiKey?: string) {
  if (algorithm === 'hmac-sha256') {
    const res = await api.request('POST', '/signing-keys', { body: { keyId, algorithm, ...extra }, key: apiKey });
    assert.equal(res.status, 201, res.text);
    return { id: res.body.data.id as string, key: { algorithm, secret: Buffer.from(res.body.data.secret, 'base64') } as TestKey };
  }
  const type = { ed25519: 'ed25519', 'ecdsa-p256-sha256': 'ec', 'rsa-pss-sha512': 'rsa' }[algorithm];
  const pair = generateKeyPairSync(type as never, { namedCurve: 'P-256', modulusLength: 2048 } as never) as any;
  const publicKey = pair.publicKey.export({ type: 'spki', format: 'pem' });
  const res = await api.request('POST', '/signing-keys', { body: { keyId, algorithm, publicKey, ...extra }, key: apiKey });
  assert.equal(res.status, 201, res.text);
  return { id: res.body.data.id as string, key: { algorithm, privateKey: pair.privateKey } as TestKey };
}

/** Sends a request signed per `options` (the body as the exact signed text). */
function sendSigned(method: string, path: string, options: Omit<SignOptions, 'method' | 'url' | 'created'> & { created?: number; apiKey?: string }) {
  const headers = signedHeaders({ method, url: api.baseUrl + path, created: now(), ...options });
  return api.request(method, path, { headers, raw: options.body, key: options.apiKey });
}

const codeOf = (res: { status: number; body: any }) => `${res.status} ${res.body?.error?.code ?? ''}`.trim();

for (const algorithm of ['ed25519', 'ecdsa-p256-sha256', 'rsa-pss-sha512', 'hmac-sha256'] as const) {
  test(`a ${algorithm} signed POST and GET are accepted`, async () => {
    const { key } = await registerKey(`accept-${algorithm}`, algorithm);
    const created = await sendSigned('POST', '/accounts', { keyId: `accept-${algorithm}`, key, body: JSON.stringify(ACCOUNT) });
    assert.equal(created.status, 201, created.text);
    const read = await sendSigned('GET', `/accounts/${created.body.data.id}`, { keyId: `accept-${algorithm}`, key });
    assert.equal(read.status, 200, read.text);
  });
}

test('tampered method, path, body (digest recomputed, not re-signed) and covered header are refused', async () => {
  const { key } = await registerKey('tamper', 'ed25519');
  const body = JSON.stringify(ACCOUNT);
  const good = signedHeaders({ method: 'POST', url: `${api.baseUrl}/accounts`, body, keyId: 'tamper', key, created: now() });
  const method = await api.request('PUT', '/accounts', { headers: good, raw: body });
  assert.notEqual(method.status, 201);
  const patch = signedHeaders({ method: 'PATCH', url: `${api.baseUrl}/accounts`, body, keyId: 'tamper', key, created: now() });
  assert.equal(codeOf(await api.request('POST', '/accounts', { headers: patch, raw: body })), '401 signature_invalid');
  assert.equal(codeOf(await api.request('POST', '/card-holders', { headers: good, raw: body })), '401 signature_invalid');
  const changed = JSON.stringify({ ...ACCOUNT, name: 'Tampered' });
  assert.equal(codeOf(await api.request('POST', '/accounts', { headers: { ...good, 'content-digest': contentDigest(changed) }, raw: changed })), '401 signature_invalid');
  assert.equal(codeOf(await api.request('POST', '/accounts', { headers: { ...good, 'content-type': 'application/json; charset=utf-8' }, raw: body })), '401 signature_invalid');
  assert.equal(codeOf(await api.request('POST', '/accounts?extra=1', { headers: good, raw: body })), '401 signature_invalid');
  assert.equal((await api.request('POST', '/accounts', { headers: good, raw: body })).status, 201);
});

test('a signature must cover @method, the target and content-digest with a body', async () => {
  const { key } = await registerKey('coverage', 'hmac-sha256');
  const body = JSON.stringify(ACCOUNT);
  for (const components of [['@target-uri', 'content-digest'], ['@method', 'content-digest'], ['@method', '@target-uri']]) {
    const res = await sendSigned('POST', '/accounts', { keyId: 'coverage', key, body, components });
    assert.equal(codeOf(res), '401 signature_invalid', components.join(' '));
  }
  const split = await sendSigned('POST', '/accounts', { keyId: 'coverage', key, body, components: ['@method', '@authority', '@path', 'content-digest'] });
  assert.equal(split.status, 201, split.text);
});

test('a created outside the 300 s window is signature_expired, inside it is accepted', async () => {
  const { key } = await registerKey('clock', 'ed25519');
  assert.equal(codeOf(await sendSigned('GET', '/accounts', { keyId: 'clock', key, created: now() - 301 })), '401 signature_expired');
  assert.equal(codeOf(await sendSigned('GET', '/accounts', { keyId: 'clock', key, created: now() + 301 })), '401 signature_expired');
  assert.equal((await sendSigned('GET', '/accounts', { keyId: 'clock', key, created: now() - 299 })).status, 200);
  assert.equal(codeOf(await sendSigned('GET', '/accounts', { keyId: 'clock', key, extraParams: `;expires=${now() - 1}` })), '401 signature_expired');
});

test('a nonce is accepted once: the same signed request replayed is refused', async () => {
  const { key } = await registerKey('nonce', 'ed25519');
  const body = JSON.stringify(ACCOUNT);
  const headers = signedHeaders({ method: 'POST', url: `${api.baseUrl}/accounts`, body, keyId: 'nonce', key, created: now(), nonce: 'n-1' });
  assert.equal((await api.request('POST', '/accounts', { headers, raw: body })).status, 201);
  assert.equal(codeOf(await api.request('POST', '/accounts', { headers, raw: body })), '401 signature_invalid');
  const fresh = await sendSigned('POST', '/accounts', { keyId: 'nonce', key, body, nonce: 'n-2' });
  assert.equal(fresh.status, 201);
});

test('an alg parameter that contradicts the key is refused', async () => {
  const { key } = await registerKey('alg', 'ed25519');
  assert.equal(codeOf(await sendSigned('GET', '/accounts', { keyId: 'alg', key, extraParams: ';alg="hmac-sha256"' })), '401 signature_invalid');
  assert.equal((await sendSigned('GET', '/accounts', { keyId: 'alg', key, extraParams: ';alg="ed25519"' })).status, 200);
});

test('malformed or half-present signature headers are signature_invalid', async () => {
  assert.equal(codeOf(await api.request('GET', '/accounts', { headers: { signature: 'sig1=:AA==:' } })), '401 signature_invalid');
  assert.equal(codeOf(await api.request('GET', '/accounts', { headers: { signature: 'sig1=:AA==:', 'signature-input': 'sig1=(' } })), '401 signature_invalid');
});

test('another organization\'s keyid is unknown_key, and a deleted key stops verifying', async () => {
  const other = await api.otherOrganization();
  const { key } = await registerKey('theirs', 'ed25519', {}, other.apiKey);
  assert.equal((await sendSigned('GET', '/accounts', { keyId: 'theirs', key, apiKey: other.apiKey })).status, 200);
  assert.equal(codeOf(await sendSigned('GET', '/accounts', { keyId: 'theirs', key })), '401 unknown_key');
  const mine = await registerKey('short-lived', 'ed25519');
  assert.equal((await sendSigned('GET', '/accounts', { keyId: 'short-lived', key: mine.key })).status, 200);
  assert.equal((await api.request('DELETE', `/signing-keys/${mine.id}`)).status, 200);
  assert.equal(codeOf(await sendSigned('GET', '/accounts', { keyId: 'short-lived', key: mine.key })), '401 unknown_key');
});

test('required: true refuses unsigned mutations with signature_required; reads stay allowed unsigned', async () => {
  const org = await api.otherOrganization();
  assert.equal((await api.request('POST', '/accounts', { body: ACCOUNT, key: org.apiKey })).status, 201);
  // A bearer token made before the key became required: the policy is read on every request.
  const token = await api.request('POST', '/auth/tokens', { body: { ttlSeconds: 600 }, key: org.apiKey });
  assert.equal(token.status, 201, token.text);
  const bearer = token.body.data.token as string;
  assert.equal((await api.request('POST', '/accounts', { body: ACCOUNT, key: null, bearer })).status, 201);
  const { id, key } = await registerKey('required', 'ed25519', { required: true }, org.apiKey);
  assert.equal(codeOf(await api.request('POST', '/accounts', { body: ACCOUNT, key: org.apiKey })), '401 signature_required');
  assert.equal(codeOf(await api.request('POST', '/accounts', { body: ACCOUNT, key: null, bearer })), '401 signature_required');
  assert.equal((await api.request('GET', '/accounts', { key: null, bearer })).status, 200);
  assert.equal((await api.request('GET', '/accounts', { key: org.apiKey })).status, 200);
  const signed = await sendSigned('POST', '/accounts', { keyId: 'required', key, body: JSON.stringify(ACCOUNT), apiKey: org.apiKey });
  assert.equal(signed.status, 201, signed.text);
  // Deleting the required key is itself a mutation, so it must be signed too.
  assert.equal(codeOf(await api.request('DELETE', `/signing-keys/${id}`, { key: org.apiKey })), '401 signature_required');
  assert.equal((await sendSigned('DELETE', `/signing-keys/${id}`, { keyId: 'required', key, apiKey: org.apiKey })).status, 200);
  assert.equal((await api.request('POST', '/accounts', { body: ACCOUNT, key: org.apiKey })).status, 201);
});

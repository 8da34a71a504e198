// Requests signed by an independent RFC 9421 implementation (the http-message-signatures npm
// package) are accepted end to end for each algorithm, and refused once a covered part changes.
// The package's rsa-pss-sha512 signer uses the largest salt where RFC 9421 §3.3.1 says 64 bytes,
// so for that algorithm its signature base is signed by a 64-byte-salt signer given to it.
import assert from 'node:assert/strict';
import { constants, createHash, generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto';
import { after, before, test } from 'node:test';
import { createSigner, httpbis } from 'http-message-signatures';
import { startHarness, type Harness } from '../support/api.ts';

let api: Harness;
before(async () => { api = await startHarness(); });
after(async () => { await api.checkLedger(); await api.close(); });

const ACCOUNT = JSON.stringify({ ownerType: 'business', ownerId: 'owner-1', name: 'Independently signed', type: 'checking', category: 'fiat', currency: 'USD' });
const ALGORITHMS = ['ed25519', 'ecdsa-p256-sha256', 'rsa-pss-sha512', 'hmac-sha256'] as const;
type Algorithm = typeof ALGORITHMS[number];

async function register(keyId: string, algorithm: Algorithm): Promise<ReturnType<typeof createSigner>> {
  if (algorithm === 'hmac-sha256') {
    const res = await api.request('POST', '/signing-keys', { body: { keyId, algorithm } });
    assert.equal(res.status, 201, res.text);
    return createSigner(Buffer.from(res.body.data.secret, 'base64'), algorithm, keyId);
  }
  const type = { ed25519: 'ed25519', 'ecdsa-p256-sha256': 'ec', 'rsa-pss-sha512': 'rsa' }[algorithm];
  const { publicKey, privateKey } = generateKeyPairSync(type as never, { namedCurve: 'P-256', modulusLength: 2048 } as never) as unknown as { publicKey: KeyObject; privateKey: KeyObject };
  const res = await api.request('POST', '/signing-keys', { body: { keyId, algorithm, publicKey: publicKey.export({ format: 'jwk' }) } });
  assert.equal(res.status, 201, res.text);
  if (algorithm !== 'rsa-pss-sha512') return createSigner(privateKey, algorithm, keyId);
  return {
    id: keyId, alg: algorithm,
    sign: async (data: Buffer) => sign('sha512', data, { key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 64 }),
  };
}

/** Headers of a POST /accounts signed by the package over method, target URI and the digest. */
async function signedPost(key: ReturnType<typeof createSigner>, body: string) {
  const digest = `sha-256=:${createHash('sha256').update(body).digest('base64')}:`;
  const request = { method: 'POST', url: `${api.baseUrl}/accounts`, headers: { 'content-type': 'application/json', 'content-digest': digest } as Record<string, string> };
  const signed = await httpbis.signMessage({
    key, name: 'sig1', fields: ['@method', '@target-uri', 'content-type', 'content-digest'],
    params: ['keyid', 'alg', 'created', 'nonce'], paramValues: { nonce: randomUUID() },
  }, request);
  return signed.headers as Record<string, string>;
}

for (const algorithm of ALGORITHMS) {
  test(`${algorithm}: the package's signed request is accepted; a changed body, path or covered header is refused`, async () => {
    const key = await register(`independent-${algorithm}`, algorithm);
    const headers = await signedPost(key, ACCOUNT);
    const ok = await api.request('POST', '/accounts', { headers, raw: ACCOUNT });
    assert.equal(ok.status, 201, ok.text);
    const again = await signedPost(key, ACCOUNT);
    const changed = ACCOUNT.replace('Independently', 'Forged');
    const digest = `sha-256=:${createHash('sha256').update(changed).digest('base64')}:`;
    const body = await api.request('POST', '/accounts', { headers: { ...again, 'content-digest': digest }, raw: changed });
    assert.equal(`${body.status} ${body.body.error?.code}`, '401 signature_invalid');
    const path = await api.request('POST', '/card-holders', { headers: again, raw: ACCOUNT });
    assert.equal(`${path.status} ${path.body.error?.code}`, '401 signature_invalid');
    const header = await api.request('POST', '/accounts', { headers: { ...again, 'content-type': 'application/json; charset=utf-8' }, raw: ACCOUNT });
    assert.equal(`${header.status} ${header.body.error?.code}`, '401 signature_invalid');
  });
}

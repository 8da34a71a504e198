// The RFC 9421 test vectors (test/data/vectors/rfc9421.json) against the pure verification
// functions: every request case builds the expected signature base and verifies or is refused as
// the vector says, and every negative case (a mutated base) is refused.
import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import {
  checkAlgParameter, checkPolicy, parseSignatureHeaders, signatureBase, verifyBytes, SignatureError,
  type SignedRequest, type VerificationKey,
} from '../../src/platform/signatures.ts';

const vectors = JSON.parse(readFileSync(new URL('../data/vectors/rfc9421.json', import.meta.url), 'utf8'));

function keyOf(keyid: string, algorithm: string): VerificationKey {
  const entry = vectors.keys[keyid];
  if (algorithm === 'hmac-sha256') return { algorithm, secret: Buffer.from(entry.secretBase64, 'base64') };
  return { algorithm, publicKey: createPublicKey(entry.publicKeyPem) } as VerificationKey;
}

function requestOf(message: any): SignedRequest {
  const url = new URL(message.targetUri);
  return {
    method: message.method, scheme: url.protocol.slice(0, -1), authority: message.authority,
    path: message.path, query: message.query ?? '', headers: message.headers,
  };
}

const requestCases = vectors.cases.filter((c: any) => c.message.kind === 'request');

test('the vectors hold the cases this file expects', () => {
  assert.ok(requestCases.length >= 12);
  assert.ok(vectors.negativeCases.length >= 12);
});

for (const vector of requestCases) {
  test(`vector ${vector.id}: ${vector.description ?? vector.alg} ${vector.expectVerify === false ? 'is refused' : 'verifies'}`, () => {
    const [parsed] = parseSignatureHeaders(
      vector.expectedSignatureInputHeader.slice(0), vector.expectedSignatureHeader,
    );
    assert.equal(parsed.label, vector.label);
    const base = signatureBase(requestOf(vector.message), parsed);
    const key = keyOf(vector.keyid, vector.alg);
    checkAlgParameter(parsed, key);
    if (vector.expectVerify === false) {
      assert.equal(verifyBytes(key, base, parsed.signature), false);
    } else {
      assert.equal(base, vector.expectedSignatureBase);
      assert.equal(verifyBytes(key, base, parsed.signature), true);
    }
  });
}

for (const [index, negative] of vectors.negativeCases.entries()) {
  test(`negative ${index} (${negative.baseCase}, ${negative.mutation}) is refused`, () => {
    const key = keyOf(negative.keyid, negative.alg);
    assert.equal(verifyBytes(key, negative.mutatedSignatureBase, Buffer.from(negative.signatureBase64, 'base64')), false);
  });
}

test('an alg parameter that names another algorithm than the key is refused', () => {
  const vector = vectors.cases.find((c: any) => c.id === 'B.2.6');
  const [parsed] = parseSignatureHeaders(`${vector.expectedSignatureInputHeader};alg="hmac-sha256"`, vector.expectedSignatureHeader);
  assert.throws(() => checkAlgParameter(parsed, keyOf(vector.keyid, vector.alg)), (e: SignatureError) => e.code === 'signature_invalid');
});

test('malformed headers and a label without a signature are signature_invalid', () => {
  for (const [input, signature] of [['sig1=(', 'sig1=:AA==:'], ['sig1=("@method")', 'other=:AA==:'], ['sig1=("@method")', 'sig1="text"']]) {
    assert.throws(() => parseSignatureHeaders(input, signature), (e: SignatureError) => e.code === 'signature_invalid');
  }
});

test('the policy: @method and the target must be covered, content-digest with a body, created in the window', () => {
  const request: SignedRequest = { method: 'POST', scheme: 'http', authority: 'a', path: '/x', query: '', headers: [] };
  const now = new Date(1_700_000_000_000);
  const created = 1_700_000_000;
  const sig = (list: string, params = `;created=${created}`) => parseSignatureHeaders(`s=(${list})${params}`, 's=:AA==:')[0];
  const code = (fn: () => void) => { try { fn(); return 'ok'; } catch (e) { return (e as SignatureError).code; } };
  assert.equal(code(() => checkPolicy(sig('"@method" "@target-uri"'), request, false, now)), 'ok');
  assert.equal(code(() => checkPolicy(sig('"@method" "@authority" "@path"'), request, false, now)), 'ok');
  assert.equal(code(() => checkPolicy(sig('"@method" "@authority" "@path"'), { ...request, query: '?a=1' }, false, now)), 'signature_invalid');
  assert.equal(code(() => checkPolicy(sig('"@target-uri"'), request, false, now)), 'signature_invalid');
  assert.equal(code(() => checkPolicy(sig('"@method" "@target-uri"'), request, true, now)), 'signature_invalid');
  assert.equal(code(() => checkPolicy(sig('"@method" "@target-uri" "content-digest"'), request, true, now)), 'ok');
  assert.equal(code(() => checkPolicy(sig('"@method" "@target-uri"', ''), request, false, now)), 'signature_invalid');
  assert.equal(code(() => checkPolicy(sig('"@method" "@target-uri"', `;created=${created - 301}`), request, false, now)), 'signature_expired');
  assert.equal(code(() => checkPolicy(sig('"@method" "@target-uri"', `;created=${created + 301}`), request, false, now)), 'signature_expired');
  assert.equal(code(() => checkPolicy(sig('"@method" "@target-uri"', `;created=${created - 300}`), request, false, now)), 'ok');
  assert.equal(code(() => checkPolicy(sig('"@method" "@target-uri"', `;created=${created};expires=${created}`), request, false, now)), 'signature_expired');
});

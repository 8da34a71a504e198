// RFC 9530 Content-Digest against test/data/vectors/rfc9530.json: request digests are checked
// over the exact bytes received before anything runs, and responses carry a digest when asked.
// The policy (supported algorithms, what is refused) is at the top of src/platform/content-digest.ts.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { MAX_JSON_BODY_BYTES } from '../../src/app.ts';
import { ApiError } from '../../src/platform/errors.ts';
import {
  contentDigestValue, parseContentDigest, preferredAlgorithm, verifyContentDigest,
} from '../../src/platform/content-digest.ts';
import { startHarness, type Harness, type Response } from '../support/api.ts';
import { balanceOf, createAccount } from '../support/fixtures.ts';
import { PDF, createHolder } from '../card-holders/helpers.ts';

interface Vector {
  id: string;
  field: string;
  content: { utf8?: string; hex?: string };
  algorithms: string[];
  expectedFieldValue: string;
}
interface ParseCase {
  fieldValue: string;
  expectation: string;
  structuredHeadersParse: Record<string, { byteSequenceBase64: string }> & { parseError?: string };
}
const vectors = JSON.parse(readFileSync(new URL('../data/vectors/rfc9530.json', import.meta.url), 'utf8')) as {
  vectors: Vector[];
  parseCases: ParseCase[];
  deprecatedSamples: { input: string; values: Record<string, string> };
};

let api: Harness;
before(async () => { api = await startHarness(); });
after(async () => { await api.checkLedger(); await api.close(); });

const bytesOf = (content: Vector['content']) =>
  content.hex !== undefined ? Buffer.from(content.hex, 'hex') : Buffer.from(content.utf8 ?? '', 'utf8');
const sha = (algorithm: 'sha256' | 'sha512', data: Buffer | string) => createHash(algorithm).update(data).digest('base64');
const digestHeader = (data: Buffer | string) => `sha-256=:${sha('sha256', data)}:`;
/** One byte changed: the same length, another content. */
const tamper = (data: Buffer) => Buffer.concat([data.subarray(0, -1), Buffer.from([data[data.length - 1] ^ 1])]);

function expectError(res: Response, status: number, code: string) {
  assert.equal(res.status, status, res.text);
  assert.equal(res.body.error.code, code, res.text);
  assert.equal(res.body.data, null);
}

/** A JSON POST whose body fails validation: reaching 422 means the digest check passed. */
const postJson = (raw: Buffer | string, digest: string) =>
  api.request('POST', '/accounts', { raw, headers: { 'content-type': 'application/json', 'content-digest': digest } });

describe('vectors of rfc9530.json', () => {
  for (const v of vectors.vectors) {
    test(`${v.id}: the digest serialises as the RFC's value, verifies, and a changed byte does not`, () => {
      const data = bytesOf(v.content);
      assert.equal(contentDigestValue(v.algorithms, data), v.expectedFieldValue);
      assert.equal(verifyContentDigest(v.expectedFieldValue, data), true);
      const other = data.length ? tamper(data) : Buffer.from('x');
      assert.equal(verifyContentDigest(v.expectedFieldValue, other), false);
    });
  }

  const jsonRequests = vectors.vectors.filter((v) => v.field === 'Content-Digest' && v.content.utf8?.startsWith('{'));
  for (const v of jsonRequests) {
    test(`${v.id} over HTTP: the exact body passes the check, the same digest with a changed byte is 400`, async () => {
      const data = bytesOf(v.content);
      expectError(await postJson(data, v.expectedFieldValue), 422, 'validation_failed');
      const changed = Buffer.from(v.content.utf8!.replace('world', 'World'));
      expectError(await postJson(changed, v.expectedFieldValue), 400, 'content_digest_mismatch');
    });
  }

  test('B.2 over HTTP: a request without a body carrying the digest of empty content passes; another digest is 400', async () => {
    const empty = vectors.vectors.find((v) => v.id === 'B.2-empty-content')!;
    const ok = await api.request('GET', '/accounts', { headers: { 'content-digest': empty.expectedFieldValue } });
    assert.equal(ok.status, 200, ok.text);
    const wrong = await api.request('GET', '/accounts', { headers: { 'content-digest': digestHeader('x') } });
    expectError(wrong, 400, 'content_digest_mismatch');
  });

  for (const c of vectors.parseCases) {
    test(`parse case ${c.fieldValue.slice(0, 40)}…: ${c.expectation.split(':')[0]}`, async () => {
      const body = Buffer.from(vectors.deprecatedSamples.input);
      const res = await postJson(body, c.fieldValue);
      if (c.structuredHeadersParse.parseError) {
        assert.throws(() => parseContentDigest(c.fieldValue), (e: ApiError) => e.code === 'invalid_header');
        return expectError(res, 400, 'invalid_header');
      }
      const supported = Object.keys(c.structuredHeadersParse).filter((a) => a === 'sha-256' || a === 'sha-512');
      if (supported.length === 0) {
        assert.throws(() => parseContentDigest(c.fieldValue), (e: ApiError) => e.code === 'unsupported_digest_algorithm');
        return expectError(res, 400, 'unsupported_digest_algorithm');
      }
      const parsed = parseContentDigest(c.fieldValue);
      for (const algorithm of supported) {
        assert.equal(parsed.get(algorithm)!.toString('base64'), c.structuredHeadersParse[algorithm].byteSequenceBase64);
      }
      // Every case naming sha-256 or sha-512 carries the right digest of the sample input.
      expectError(res, 422, 'validation_failed');
    });
  }

  for (const [algorithm, value] of Object.entries(vectors.deprecatedSamples.values)) {
    test(`a correct ${algorithm} digest alone is refused: nothing supported was checked`, async () => {
      const res = await postJson(vectors.deprecatedSamples.input, `${algorithm}=:${value}:`);
      expectError(res, 400, 'unsupported_digest_algorithm');
    });
  }
});

describe('request digests', () => {
  test('every supported member is checked: a wrong sha-512 beside a right sha-256 is 400, a deprecated extra is ignored', async () => {
    const body = '{"hello": "world"}';
    const right512 = `sha-512=:${sha('sha512', body)}:`;
    const wrong512 = `sha-512=:${sha('sha512', `${body} `)}:`;
    expectError(await postJson(body, `${digestHeader(body)}, ${wrong512}`), 400, 'content_digest_mismatch');
    expectError(await postJson(body, `${digestHeader(body)}, ${right512}`), 422, 'validation_failed');
    const md5 = `md5=:${vectors.deprecatedSamples.values.md5}:`;
    expectError(await postJson(body, `${md5}, ${digestHeader(body)}`), 422, 'validation_failed');
    expectError(await postJson(body, `${md5}, ${digestHeader('{}')}`), 400, 'content_digest_mismatch');
  });

  test('a member that is not a byte sequence, or an empty header, is 400 invalid_header', async () => {
    for (const value of ['sha-256=1', 'sha-256="abc"', '']) {
      expectError(await postJson('{}', value), 400, 'invalid_header');
    }
  });

  test('the body limit still applies to a body with a digest: 413, not a hash of everything sent', async () => {
    const big = JSON.stringify({ name: 'x'.repeat(MAX_JSON_BODY_BYTES) });
    expectError(await postJson(big, digestHeader(big)), 413, 'payload_too_large');
  });

  test('a tampered deposit with the original digest is 400, moves nothing and keeps no idempotency answer', async () => {
    const account = await createAccount(api);
    const before = (await balanceOf(api, account.id)).posted;
    const original = JSON.stringify({ amount: 2_500 });
    const key = `digest-${randomBytes(8).toString('hex')}`;
    const deposit = (raw: string) => api.request('POST', `/simulator/accounts/${account.id}/deposits`, {
      raw, headers: { 'content-type': 'application/json', 'content-digest': digestHeader(original), 'idempotency-key': key },
    });
    expectError(await deposit(JSON.stringify({ amount: 9_500 })), 400, 'content_digest_mismatch');
    assert.equal((await balanceOf(api, account.id)).posted, before);
    // The same key then executes the genuine request: the refused one claimed nothing.
    const genuine = await deposit(original);
    assert.equal(genuine.status, 201, genuine.text);
    assert.equal(genuine.headers.get('idempotent-replayed'), null);
    assert.equal((await balanceOf(api, account.id)).posted, before + 2_500);
  });

  test('a multipart upload is checked over its raw bytes: a correct digest is 201, a changed file byte is 400 and stores nothing', async () => {
    const holder = await createHolder(api);
    const boundary = 'paygen-digest-boundary';
    const raw = (file: Buffer) => Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="idDocumentFront"; filename="id.pdf"\r\nContent-Type: application/pdf\r\n\r\n`),
      file, Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const upload = (body: Buffer) => api.request('POST', `/card-holders/${holder.id}/documents`, {
      raw: body, headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-digest': digestHeader(raw(PDF)) },
    });
    expectError(await upload(raw(tamper(PDF))), 400, 'content_digest_mismatch');
    const stored = await api.request('GET', `/card-holders/${holder.id}`);
    assert.equal(stored.body.data.documents.length, 0);
    const res = await upload(raw(PDF));
    assert.equal(res.status, 201, res.text);
    assert.equal(res.body.data.documents.length, 1);
  });
});

describe('response digests', () => {
  test('Want-Content-Digest: the preferred supported algorithm over the exact response bytes', async () => {
    const account = await createAccount(api);
    const path = `/accounts/${account.id}`;
    const res = await api.request('GET', path, { headers: { 'want-content-digest': 'sha-256=10, sha-512=3' } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-digest'), digestHeader(Buffer.from(res.text)));
    const strong = await api.request('GET', path, { headers: { 'want-content-digest': 'sha-512=9, sha-256=2, md5=10' } });
    assert.equal(strong.headers.get('content-digest'), `sha-512=:${sha('sha512', Buffer.from(strong.text))}:`);
    const error = await api.request('GET', '/accounts/acct_missing', { headers: { 'want-content-digest': 'sha-256=1' } });
    assert.equal(error.status, 404);
    assert.equal(error.headers.get('content-digest'), digestHeader(Buffer.from(error.text)));
  });

  test('no digest unless asked for a supported algorithm with a preference above 0; a malformed Want is ignored', async () => {
    for (const want of [undefined, 'sha-256=0', 'md5=10', 'sha-256', 'SHA-256=10', 'sha-256=11']) {
      const res = await api.request('GET', '/accounts', { headers: want === undefined ? {} : { 'want-content-digest': want } });
      assert.equal(res.status, 200, `${want}: ${res.text}`);
      assert.equal(res.headers.get('content-digest'), null, String(want));
    }
  });

  test('Want-Repr-Digest: equal to the content digest on GET; on HEAD the content is empty, the representation is not', async () => {
    const headers = { 'want-content-digest': 'sha-256=5', 'want-repr-digest': 'sha-256=5' };
    const get = await api.request('GET', '/accounts', { headers });
    assert.equal(get.headers.get('repr-digest'), digestHeader(Buffer.from(get.text)));
    assert.equal(get.headers.get('content-digest'), get.headers.get('repr-digest'));
    const head = await api.request('HEAD', '/accounts', { headers });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-digest'), 'sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:');
    assert.equal(head.headers.get('repr-digest'), get.headers.get('repr-digest'));
  });

  test('preferredAlgorithm: highest preference wins, ties go to sha-512, 0 and unknown names never', () => {
    assert.equal(preferredAlgorithm('sha-256=10, sha-512=3'), 'sha-256');
    assert.equal(preferredAlgorithm('sha-256=3, sha-512=3'), 'sha-512');
    assert.equal(preferredAlgorithm('sha-512=0, sha-256=1'), 'sha-256');
    assert.equal(preferredAlgorithm('unixsum=10'), null);
    assert.equal(preferredAlgorithm('not a dictionary ='), null);
  });
});

describe('OpenAPI', () => {
  test('the digest headers are documented once and referenced; every mutation lists the digest codes under 400', async () => {
    const doc = (await api.request('GET', '/openapi.json', { key: null })).body;
    assert.equal(doc.components.parameters.ContentDigest.name, 'Content-Digest');
    assert.equal(doc.components.parameters.WantContentDigest.name, 'Want-Content-Digest');
    let mutations = 0;
    for (const [path, item] of Object.entries<any>(doc.paths)) {
      for (const [method, operation] of Object.entries<any>(item)) {
        const refs = (operation.parameters ?? []).map((p: any) => p.$ref);
        assert.ok(refs.includes('#/components/parameters/WantContentDigest'), `${method} ${path}`);
        if (!['post', 'put', 'patch', 'delete'].includes(method)) continue;
        mutations++;
        assert.ok(refs.includes('#/components/parameters/ContentDigest'), `${method} ${path}`);
        assert.match(operation.responses['400'].description, /`content_digest_mismatch`/, `${method} ${path}`);
        assert.match(operation.responses['400'].description, /`unsupported_digest_algorithm`/, `${method} ${path}`);
      }
    }
    assert.ok(mutations > 10);
  });
});

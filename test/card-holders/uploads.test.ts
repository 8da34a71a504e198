// KYC uploads against test/data/vectors/uploads.json: content decides the type, names are made
// safe, limits hold, and a refused file leaves nothing behind.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { MAX_UPLOAD_BYTES } from '../../src/platform/multipart.ts';
import { startHarness, type Harness } from '../support/api.ts';
import { JPEG, PDF, PNG, QUICKSTART_FIELDS, createHolder, eventTypes, expectError, multipart, type FilePart } from './helpers.ts';

const vectors = JSON.parse(readFileSync(new URL('../data/vectors/uploads.json', import.meta.url), 'utf8')) as {
  contentCases: Array<{ id: string; declared: string; filename: string; bytesB64: string; sniffed: string; referenceDecision: 'accept' | 'reject' }>;
  filenameCases: Array<{ filename: string; expectation: string }>;
};

let api: Harness;
before(async () => { api = await startHarness(); });
after(async () => { await api.checkLedger(); await api.close(); });

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const upload = (holderId: string, files: FilePart[], fields: Record<string, string> = {}) =>
  api.request('POST', `/card-holders/${holderId}/documents`, { form: multipart(fields, files) });

async function download(holderId: string, documentId: string) {
  const res = await fetch(`${api.baseUrl}/card-holders/${holderId}/documents/${documentId}/content`, { headers: { 'x-api-key': api.apiKey } });
  return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
}

describe('content cases of uploads.json', () => {
  for (const c of vectors.contentCases) {
    test(`${c.id}: ${c.referenceDecision}`, async () => {
      const holder = await createHolder(api);
      const bytes = Buffer.from(c.bytesB64, 'base64');
      const res = await upload(holder.id, [{ field: 'idDocumentFront', bytes, type: c.declared, name: c.filename }]);
      if (c.referenceDecision === 'accept') {
        assert.equal(res.status, 201, res.text);
        const [document] = res.body.data.documents;
        assert.match(document.id, /^doc_[0-9a-z]{26}$/);
        assert.deepEqual(
          { kind: document.kind, fileName: document.fileName, contentType: document.contentType, sizeBytes: document.sizeBytes, sha256: document.sha256 },
          { kind: 'idDocumentFront', fileName: c.filename, contentType: c.sniffed, sizeBytes: bytes.length, sha256: sha256(bytes) },
        );
        const metadata = await api.request('GET', `/card-holders/${holder.id}/documents/${document.id}`);
        assert.equal(metadata.status, 200);
        assert.deepEqual(metadata.body.data, document);
        const file = await download(holder.id, document.id);
        assert.equal(file.status, 200);
        assert.equal(file.headers.get('content-type'), c.sniffed);
        assert.equal(file.headers.get('x-content-type-options'), 'nosniff');
        assert.match(file.headers.get('content-disposition') ?? '', /^attachment; /);
        assert.deepEqual(file.bytes, bytes);
        assert.deepEqual(await eventTypes(api, holder.id), ['card_holder.created', 'card_holder.document_added']);
      } else {
        if (bytes.length === 0) expectError(res, 422, 'invalid_file', 'idDocumentFront');
        else expectError(res, 415, 'unsupported_file_type', 'idDocumentFront');
        assert.ok(!res.text.includes('<script>') && !res.text.includes('<svg'), 'the content is never reflected');
        assert.deepEqual((await api.request('GET', `/card-holders/${holder.id}`)).body.data.documents, []);
        assert.deepEqual(await eventTypes(api, holder.id), ['card_holder.created']);
      }
    });
  }

  test('a refused file on create leaves no card holder and no event', async () => {
    const before = (await api.request('GET', '/card-holders?limit=100')).body.data.length;
    const html = Buffer.from('<html><script>alert(1)</script></html>');
    const res = await api.request('POST', '/card-holders', {
      form: multipart({ ...QUICKSTART_FIELDS, lastName: 'Refused' }, [{ field: 'selfie', bytes: PNG, type: 'image/png' }, { field: 'proofOfAddress', bytes: html, type: 'application/pdf' }]),
    });
    expectError(res, 415, 'unsupported_file_type', 'proofOfAddress');
    const list = (await api.request('GET', '/card-holders?limit=100')).body.data;
    assert.equal(list.length, before);
    const events = (await api.request('GET', '/events?type=card_holder.created&limit=100')).body.data;
    assert.ok(!events.some((e: any) => e.data.lastName === 'Refused'));
  });

  test('the type is decided by content: octet-stream or aliases are stored as the sniffed type, the extension is ignored', async () => {
    const holder = await createHolder(api, QUICKSTART_FIELDS, [
      { field: 'idDocumentFront', bytes: PNG, type: 'application/octet-stream', name: 'scan.pdf' },
      { field: 'idDocumentBack', bytes: JPEG, type: 'image/jpg', name: 'back' },
      { field: 'proofOfAddress', bytes: PDF, type: 'application/pdf; name=bill.pdf', name: 'bill.PDF' },
    ]);
    assert.deepEqual(holder.documents.map((d: any) => [d.kind, d.contentType]),
      [['idDocumentFront', 'image/png'], ['idDocumentBack', 'image/jpeg'], ['proofOfAddress', 'application/pdf']]);
    const files = await Promise.all(holder.documents.map((d: any) => download(holder.id, d.id)));
    assert.deepEqual(files.map((f) => f.headers.get('content-disposition')), [
      'attachment; filename="scan.pdf.png"; filename*=UTF-8\'\'scan.pdf.png',
      'attachment; filename="back.jpg"; filename*=UTF-8\'\'back.jpg',
      'attachment; filename="bill.PDF"; filename*=UTF-8\'\'bill.PDF',
    ]);
    assert.deepEqual(files.map((f) => f.bytes), [PNG, JPEG, PDF]);
    assert.ok(files.every((f) => f.headers.get('cache-control') === 'private, no-store' && /sandbox/.test(f.headers.get('content-security-policy') ?? '')));
  });
});

describe('filename cases of uploads.json', () => {
  /** filename → [display name, download name]; every one is stored under a generated doc_ id. */
  const expected: Record<string, [string, string]> = {
    'passport.jpg': ['passport.jpg', 'passport.jpg'],
    '../../etc/passwd': ['passwd', 'passwd.jpg'],
    '..\\..\\windows\\win.ini': ['win.ini', 'win.ini.jpg'],
    'passport.jpg.php': ['passport.jpg.php', 'passport.jpg.php.jpg'],
    'id.php%00.jpg': ['id.php.jpg', 'id.php.jpg'],
    'id\u0000.jpg': ['id.jpg', 'id.jpg'],
    'invoice\u202Efdp.exe': ['invoicefdp.exe', 'invoicefdp.exe.jpg'],
    'CON.jpg': ['CON.jpg', 'CON.jpg'],
    '.htaccess': ['.htaccess', '.htaccess.jpg'],
    '<img src=x onerror=alert(1)>.png': ['_img src=x onerror=alert(1)_.png', '_img src=x onerror=alert(1)_.png.jpg'],
  };

  test('every case is covered', () => {
    const long = vectors.filenameCases.filter((c) => !(c.filename in expected));
    assert.equal(long.length, 1, 'only the over-long name is checked by rule');
    assert.ok(Buffer.byteLength(long[0].filename) > 255);
  });

  for (const c of vectors.filenameCases) {
    test(`${JSON.stringify(c.filename).slice(0, 40)}: ${c.expectation}`, async () => {
      const holder = await createHolder(api);
      const res = await upload(holder.id, [{ field: 'selfie', bytes: JPEG, type: 'image/jpeg', name: c.filename }]);
      assert.equal(res.status, 201, res.text);
      const [document] = res.body.data.documents;
      assert.match(document.id, /^doc_[0-9a-z]{26}$/);
      assert.equal(document.contentType, 'image/jpeg');
      const disposition = (await download(holder.id, document.id)).headers.get('content-disposition');
      if (c.filename in expected) {
        const [display, downloadName] = expected[c.filename];
        assert.equal(document.fileName, display);
        assert.equal(disposition, `attachment; filename="${downloadName}"; filename*=UTF-8''${encodeURIComponent(downloadName).replace(/[()]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`)}`);
      } else {
        assert.equal(Buffer.byteLength(document.fileName), 255);
        assert.ok(document.fileName.endsWith('.png') && /^a+\.png$/.test(document.fileName));
        assert.match(disposition ?? '', /^attachment; filename="a{251}\.jpg";/, 'a cut download name keeps the real extension');
      }
      assert.ok(!/[/\\\u0000-\u001f\u202e<>]/.test(document.fileName));
      assert.ok(!res.text.includes('<img'), 'HTML in a name is never reflected raw');
    });
  }

  test('non-ASCII names survive; a cut never splits a character', async () => {
    const holder = await createHolder(api);
    const name = `${'é'.repeat(200)}.pdf`;
    const res = await upload(holder.id, [{ field: 'proofOfAddress', bytes: PDF, type: 'application/pdf', name }, { field: 'selfie', bytes: PNG, type: 'image/png', name: 'pässport 日本.png' }]);
    assert.equal(res.status, 201, res.text);
    const [long, utf8] = res.body.data.documents;
    assert.equal(long.fileName, `${'é'.repeat(125)}.pdf`);
    assert.equal(utf8.fileName, 'pässport 日本.png');
    const file = await download(holder.id, utf8.id);
    assert.equal(file.headers.get('content-disposition'), `attachment; filename="p_ssport __.png"; filename*=UTF-8''${encodeURIComponent('pässport 日本.png')}`);
  });
});

describe('hand-written multipart', () => {
  test('a hand-written part: filename* (RFC 8187), encoded separators and control characters are made safe', async () => {
    const holder = await createHolder(api);
    const boundary = 'paygen-test-boundary';
    const part = (disposition: string, bytes: Buffer) => Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; ${disposition}\r\nContent-Type: image/png\r\n\r\n`), bytes, Buffer.from('\r\n'),
    ]);
    const raw = Buffer.concat([
      part('name="selfie"; filename*=UTF-8\'\'..%2F..%2Fetc%2Fshadow%E2%80%AEgnp.exe', PNG),
      part('name="idDocumentFront"; filename="a%2F..%5Cb%09c\u0007.png"', PNG),
      Buffer.from(`--${boundary}--\r\n`),
    ]);
    const res = await api.request('POST', `/card-holders/${holder.id}/documents`, { raw, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } });
    assert.equal(res.status, 201, res.text);
    assert.deepEqual(res.body.data.documents.map((d: any) => d.fileName), ['shadowgnp.exe', 'bc.png']);
  });
});

describe('upload limits and malformed uploads', () => {
  test('unknown, duplicate and text-only file fields are 422; JSON to the documents route is 415', async () => {
    const holder = await createHolder(api);
    expectError(await upload(holder.id, [{ field: 'passport', bytes: PNG, type: 'image/png' }]), 422, 'validation_failed', 'passport');
    expectError(await upload(holder.id, [{ field: 'selfie', bytes: PNG, type: 'image/png' }, { field: 'selfie', bytes: PNG, type: 'image/png' }]), 422, 'validation_failed', 'selfie');
    expectError(await upload(holder.id, [], { selfie: 'hello' }), 422, 'validation_failed', 'selfie');
    expectError(await upload(holder.id, []), 422, 'validation_failed');
    expectError(await upload(holder.id, [], { firstName: 'Jane' }), 422, 'validation_failed', 'firstName');
    expectError(await api.request('POST', `/card-holders/${holder.id}/documents`, { body: {} }), 415, 'unsupported_media_type');
    expectError(await api.request('POST', `/card-holders/${holder.id}/documents`, { raw: '--b\r\n', headers: { 'content-type': 'multipart/form-data' } }), 400, 'invalid_multipart');
    expectError(await upload('ch_doesnotexist', [{ field: 'selfie', bytes: PNG, type: 'image/png' }]), 404, 'not_found');
    expectError(await api.request('GET', `/card-holders/${holder.id}/documents/doc_doesnotexist`), 404, 'not_found');
    expectError(await api.request('GET', `/card-holders/${holder.id}/documents/doc_doesnotexist/content`), 404, 'not_found');
    assert.deepEqual(await eventTypes(api, holder.id), ['card_holder.created']);
  });

  test('a file over 10 MiB is 413 and more than four files is 413; nothing is stored', async () => {
    const holder = await createHolder(api);
    const big = Buffer.alloc(MAX_UPLOAD_BYTES + 1, 0);
    PNG.copy(big);
    expectError(await upload(holder.id, [{ field: 'selfie', bytes: big, type: 'image/png' }]), 413, 'payload_too_large');
    const exact = Buffer.alloc(MAX_UPLOAD_BYTES, 0);
    PNG.copy(exact);
    const ok = await upload(holder.id, [{ field: 'selfie', bytes: exact, type: 'image/png' }]);
    assert.equal(ok.status, 201, ok.text);
    assert.equal(ok.body.data.documents[0].sizeBytes, MAX_UPLOAD_BYTES);
    const five = ['idDocumentFront', 'idDocumentBack', 'proofOfAddress', 'selfie', 'selfie'].map((field) => ({ field, bytes: PNG, type: 'image/png' }));
    expectError(await upload(holder.id, five), 413, 'payload_too_large');
    assert.equal((await api.request('GET', `/card-holders/${holder.id}`)).body.data.documents.length, 1);
  });

  test('a card holder keeps at most 20 documents', async () => {
    const holder = await createHolder(api);
    const four = ['idDocumentFront', 'idDocumentBack', 'proofOfAddress', 'selfie'].map((field) => ({ field, bytes: PNG, type: 'image/png' }));
    for (let i = 0; i < 5; i++) assert.equal((await upload(holder.id, four)).status, 201);
    expectError(await upload(holder.id, [four[0]]), 422, 'too_many_documents');
    assert.equal((await api.request('GET', `/card-holders/${holder.id}`)).body.data.documents.length, 20);
  });
});

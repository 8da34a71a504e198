// Races on one card holder (PostgreSQL only: PGlite has one connection and cannot race). The
// holder row is locked for every change, so the document cap holds and events stay numbered.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { onPostgres, startHarness, type Harness } from '../support/api.ts';
import { PNG, createHolder, multipart } from './helpers.ts';

const SKIP = onPostgres() ? false : 'runs on PostgreSQL only (npm run test:pg, or set PAYGEN_TEST_DATABASE_URL=postgres://…)';
const KINDS = ['idDocumentFront', 'idDocumentBack', 'proofOfAddress', 'selfie'];

describe('concurrent changes to one card holder', { skip: SKIP }, () => {
  let api: Harness;
  before(async () => { api = await startHarness({ config: { databasePoolSize: 20, rateLimitPerMinute: 1_000_000 } }); });
  after(async () => { if (api) { await api.checkLedger(); await api.close(); } });

  test('8 uploads of 4 files at once under a cap of 20: exactly 5 succeed', async () => {
    const holder = await createHolder(api);
    const responses = await Promise.all(Array.from({ length: 8 }, () => api.request('POST', `/card-holders/${holder.id}/documents`, {
      form: multipart({}, KINDS.map((field) => ({ field, bytes: PNG, type: 'image/png' }))),
    })));
    const statuses = responses.map((r) => `${r.status} ${r.body.error?.code ?? ''}`.trim()).sort();
    assert.deepEqual(statuses, [...Array(5).fill('201'), ...Array(3).fill('422 too_many_documents')]);
    assert.equal((await api.request('GET', `/card-holders/${holder.id}`)).body.data.documents.length, 20);
    const events = await api.request('GET', `/events?resourceId=${holder.id}&type=card_holder.document_added&limit=100`);
    assert.equal(events.body.data.length, 20);
  });

  test('10 updates at once: each applies, events are numbered 1..n without gaps', async () => {
    const holder = await createHolder(api);
    const responses = await Promise.all(Array.from({ length: 10 }, (_, i) => api.request('PATCH', `/card-holders/${holder.id}`, {
      body: i % 2 ? { addressLine1: null } : { addressLine1: `${i} Main St` },
    })));
    assert.deepEqual(responses.map((r) => r.status), Array(10).fill(200));
    const events = (await api.request('GET', `/events?resourceId=${holder.id}&sort=createdAt&limit=100`)).body.data;
    const sequences = events.map((e: any) => e.sequence as number).sort((a: number, b: number) => a - b);
    assert.deepEqual(sequences, events.map((_: unknown, i: number) => i + 1));
    const latest = events.reduce((a: any, b: any) => (b.sequence > a.sequence ? b : a));
    const final = (await api.request('GET', `/card-holders/${holder.id}`)).body.data;
    assert.equal(final.kycStatus, final.addressLine1 ? 'verified' : 'needs_information');
    assert.deepEqual(latest.data, final, 'the last event describes the final state');
  });
});

// Disputes through the HTTP API: create, evidence (JSON and multipart), submit, the simulator's
// won/lost, every refusal, the refund-vs-dispute rule, the 120-day window, tenancy, the money on
// the card and in dispute suspense, and the ledger invariants after every test.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { ManualClock } from '../../src/platform/clock.ts';
import { startHarness, type Harness } from '../support/api.ts';
import { balanceOf } from '../support/fixtures.ts';
import { MERCHANT, approved, cardBalance, fundedCard, step } from '../authorizations/support.ts';
import { PDF, PNG, eventTypes, expectError, multipart } from '../card-holders/helpers.ts';

const DAY_MS = 24 * 60 * 60 * 1000;
const clock = new ManualClock(new Date('2026-03-01T12:00:00Z'));
let api: Harness;
before(async () => { api = await startHarness({ clock }); });
afterEach(async () => { await api.checkLedger(); });
after(async () => { await api.close(); });

async function ok(res: { status: number; text: string; body: any }, status = 200) {
  assert.equal(res.status, status, res.text);
  return res.body.data;
}

/** A card with `funds` on it and a capture of `amount` (its transaction). */
async function captured(funds: number, amount: number) {
  const { card, account } = await fundedCard(api, funds);
  const auth = await approved(api, card.id, amount);
  await ok(await step(api, auth.id, 'capture'));
  const [txn] = (await api.request('GET', `/transactions?authorizationId=${auth.id}`)).body.data;
  return { card, account, txn };
}

/** Ids are ordered by the app clock's time: each dispute is made a millisecond after the last. */
const dispute = (body: Record<string, unknown>, key?: string) => (clock.advance(1),
  api.request('POST', '/disputes', { body: { reason: 'canceled', explanation: 'I cancelled before it shipped.', ...body }, key }));
const submit = (id: string, key?: string) => api.request('POST', `/disputes/${id}/submit`, { key });
const resolve = (id: string, outcome: 'won' | 'lost', key?: string) =>
  api.request('POST', `/simulator/disputes/${id}/resolve`, { body: { outcome }, key });
const refund = (cardId: string, amount: number, transactionId?: string) =>
  api.request('POST', '/simulator/refunds', { body: { cardId, amount, ...(transactionId ? { transactionId } : {}) } });

/** The organization's dispute suspense balance: what submitted, unresolved disputes hold. */
async function suspense() {
  const rows = await api.app.ctx.db.query<{ balance: number }>(
    `SELECT credits_posted - debits_posted - debits_pending AS balance FROM ledger_accounts
      WHERE organization_id = $1 AND kind = 'house_disputes' AND currency = 'USD'`, [api.organizationId]);
  return rows[0]?.balance ?? 0;
}

describe('the dispute life', () => {
  test('create → evidence → submit → won: the card gets the amount back, once, from suspense', async () => {
    const { card, txn } = await captured(10_000, 2_500);
    assert.deepEqual(await cardBalance(api, card.id), { available: 7_500, pending: 0 });
    const created = await ok(await dispute({ transactionId: txn.id }), 201);
    assert.match(created.id, /^dsp_[0-9a-z]{26}$/);
    assert.deepEqual(
      [created.status, created.amount, created.creditedAmount, created.currency, created.cardId, created.transactionId, created.evidence.explanation],
      ['unsubmitted', 2_500, 0, 'USD', card.id, txn.id, 'I cancelled before it shipped.'], 'amount defaults to the transaction amount');

    const text = await ok(await api.request('POST', `/disputes/${created.id}/evidence`, {
      body: { merchantContactedAt: '2026-03-01T09:30:00+01:00', trackingNumber: '1Z999AA10123456784', explanation: 'Line one.\nLine two.' },
    }));
    assert.deepEqual([text.evidence.merchantContactedAt, text.evidence.trackingNumber, text.evidence.explanation],
      ['2026-03-01T08:30:00.000Z', '1Z999AA10123456784', 'Line one.\nLine two.']);
    const withFile = await ok(await api.request('POST', `/disputes/${created.id}/evidence`, {
      form: multipart({ productDescription: 'A lamp' }, [{ field: 'receipt', bytes: PDF, type: 'application/pdf', name: '../../receipt.pdf' }]),
    }));
    assert.equal(withFile.evidence.productDescription, 'A lamp');
    assert.equal(withFile.evidence.trackingNumber, '1Z999AA10123456784', 'earlier fields stay');
    const [file] = withFile.evidence.files;
    assert.deepEqual([file.kind, file.fileName, file.contentType, file.sizeBytes], ['receipt', 'receipt.pdf', 'application/pdf', PDF.length]);
    const download = await fetch(`${api.baseUrl}/disputes/${created.id}/evidence/${file.id}/content`, { headers: { 'x-api-key': api.apiKey } });
    assert.equal(download.status, 200);
    assert.equal(download.headers.get('content-type'), 'application/pdf');
    assert.match(download.headers.get('content-disposition') ?? '', /^attachment;/);
    assert.deepEqual(Buffer.from(await download.arrayBuffer()), PDF);

    const before = await suspense();
    const sent = await ok(await submit(created.id));
    assert.equal(sent.status, 'submitted');
    assert.ok(sent.submittedAt);
    assert.equal(await suspense(), before + 2_500, 'the chargeback waits in dispute suspense');
    expectError(await api.request('POST', `/disputes/${created.id}/evidence`, { body: { trackingNumber: 'X1' } }), 409, 'dispute_already_submitted');
    expectError(await submit(created.id), 409, 'dispute_already_submitted');

    const won = await ok(await resolve(created.id, 'won'));
    assert.deepEqual([won.status, won.creditedAmount], ['won', 2_500]);
    assert.ok(won.resolvedAt);
    assert.deepEqual(await cardBalance(api, card.id), { available: 10_000, pending: 0 });
    assert.equal(await suspense(), before, 'suspense is empty again');
    expectError(await resolve(created.id, 'lost'), 409, 'dispute_not_submitted');
    assert.deepEqual(await cardBalance(api, card.id), { available: 10_000, pending: 0 }, 'a second resolution moves nothing');
    assert.deepEqual((await api.request('GET', `/disputes/${created.id}`)).body.data, won);
    assert.deepEqual(await eventTypes(api, created.id),
      ['dispute.created', 'dispute.evidence_added', 'dispute.evidence_added', 'dispute.submitted', 'dispute.won']);
    const events = (await api.request('GET', `/events?resourceId=${created.id}&type=dispute.won`)).body.data;
    assert.deepEqual(events[0].data, won);
  });

  test('lost: nothing is credited, suspense goes back to settlement; a new dispute may follow', async () => {
    const { card, txn } = await captured(5_000, 1_000);
    const first = await ok(await dispute({ transactionId: txn.id, amount: 400, reason: 'not_as_described' }), 201);
    assert.equal(first.amount, 400);
    expectError(await dispute({ transactionId: txn.id }), 409, 'dispute_already_open', 'transactionId');
    expectError(await resolve(first.id, 'won'), 409, 'dispute_not_submitted');
    const before = await suspense();
    await ok(await submit(first.id));
    const lost = await ok(await resolve(first.id, 'lost'));
    assert.deepEqual([lost.status, lost.creditedAmount], ['lost', 0]);
    assert.equal(await suspense(), before);
    assert.deepEqual(await cardBalance(api, card.id), { available: 4_000, pending: 0 });
    const second = await ok(await dispute({ transactionId: txn.id }), 201);
    assert.equal(second.amount, 1_000, 'nothing was credited, so the whole amount is disputable again');
  });

  test('a force capture can be disputed; a cancelled card passes a won credit on to its debit account', async () => {
    const { card, account } = await fundedCard(api, 1_000);
    const force = await ok(await api.request('POST', '/simulator/force-captures', { body: { cardId: card.id, amount: 600, merchant: MERCHANT } }), 201);
    const created = await ok(await dispute({ transactionId: force.id, reason: 'fraudulent' }), 201);
    await ok(await submit(created.id));
    await ok(await api.request('POST', `/cards/${card.id}/cancel`, { body: { reason: 'fraud' } }));
    const afterCancel = (await balanceOf(api, account.id)).available;
    await ok(await resolve(created.id, 'won'));
    assert.equal((await balanceOf(api, account.id)).available, afterCancel + 600);
    assert.equal((await cardBalance(api, card.id)).available, 0);
  });
});

describe('refunds and disputes never pay twice', () => {
  test('a refund during an open dispute is credited at once; the won dispute credits only the rest', async () => {
    const { card, txn } = await captured(10_000, 1_000);
    const created = await ok(await dispute({ transactionId: txn.id }), 201);
    await ok(await submit(created.id));
    await ok(await refund(card.id, 400, txn.id), 201);
    assert.equal((await cardBalance(api, card.id)).available, 9_400);
    const before = await suspense();
    const won = await ok(await resolve(created.id, 'won'));
    assert.deepEqual([won.amount, won.creditedAmount], [1_000, 600]);
    assert.equal((await cardBalance(api, card.id)).available, 10_000, '400 refunded + 600 credited = the 1,000 charged, not 1,400');
    assert.equal(await suspense(), before - 1_000, 'the refunded part went back to settlement');
    expectError(await refund(card.id, 1, txn.id), 422, 'refund_exceeds_transaction', 'amount');
    expectError(await dispute({ transactionId: txn.id }), 422, 'dispute_exceeds_transaction', 'amount');
  });

  test('after a won partial dispute, refunds of the transaction stop at what is left', async () => {
    const { card, txn } = await captured(10_000, 1_000);
    const created = await ok(await dispute({ transactionId: txn.id, amount: 600 }), 201);
    await ok(await submit(created.id));
    assert.equal((await ok(await resolve(created.id, 'won'))).creditedAmount, 600);
    expectError(await refund(card.id, 401, txn.id), 422, 'refund_exceeds_transaction', 'amount');
    await ok(await refund(card.id, 400, txn.id), 201);
    assert.equal((await cardBalance(api, card.id)).available, 10_000);
  });

  test('a refunded part cannot be disputed: the default amount is what refunds left', async () => {
    const { card, txn } = await captured(10_000, 1_000);
    await ok(await refund(card.id, 300, txn.id), 201);
    expectError(await dispute({ transactionId: txn.id, amount: 701 }), 422, 'dispute_exceeds_transaction', 'amount');
    assert.equal((await ok(await dispute({ transactionId: txn.id }), 201)).amount, 700);
  });
});

describe('refusals', () => {
  test('bad input: 4xx with a stable code, nothing created', async () => {
    const { card, txn } = await captured(10_000, 1_000);
    const refunded = await ok(await refund(card.id, 100, txn.id), 201);
    expectError(await dispute({ transactionId: refunded.id }), 422, 'transaction_not_disputable', 'transactionId');
    expectError(await dispute({ transactionId: txn.id, amount: 1_001 }), 422, 'dispute_exceeds_transaction', 'amount');
    for (const amount of [0, -1, 1.5, '100', 1e13]) expectError(await dispute({ transactionId: txn.id, amount }), 422, 'invalid_amount');
    expectError(await dispute({ transactionId: txn.id, reason: 'bored' }), 422, 'validation_failed', 'reason');
    expectError(await dispute({ transactionId: txn.id, explanation: 'a\u0000b' }), 422, 'validation_failed');
    expectError(await dispute({ transactionId: txn.id, explanation: 'x'.repeat(5_001) }), 422, 'validation_failed', 'explanation');
    expectError(await dispute({ transactionId: txn.id, explanation: ' \n ' }), 422, 'validation_failed', 'explanation');
    expectError(await dispute({ transactionId: 'txn_01jd0000000000000000000000' }), 404, 'not_found');
    expectError(await api.request('POST', '/disputes', { body: { transactionId: txn.id, reason: 'other' } }), 422, 'validation_failed', 'explanation');
    assert.equal((await api.request('GET', `/disputes?transactionId=${txn.id}`)).body.data.length, 0);
  });

  test('evidence: unknown fields and files, file types, empty bodies', async () => {
    const { txn } = await captured(10_000, 500);
    const created = await ok(await dispute({ transactionId: txn.id }), 201);
    const evidence = (options: Parameters<Harness['request']>[2]) => api.request('POST', `/disputes/${created.id}/evidence`, options);
    expectError(await evidence({ body: {} }), 422, 'validation_failed');
    expectError(await evidence({ body: { reason: 'other' } }), 422, 'validation_failed', 'reason');
    expectError(await evidence({ body: { merchantContactedAt: 'yesterday' } }), 422, 'validation_failed', 'merchantContactedAt');
    expectError(await evidence({ body: { receipt: 'not a file' } }), 422, 'validation_failed', 'receipt');
    expectError(await evidence({ form: multipart({}, [{ field: 'selfie', bytes: PNG }]) }), 422, 'validation_failed', 'selfie');
    expectError(await evidence({ form: multipart({}, [{ field: 'receipt', bytes: Buffer.from('<html>hi</html>') }]) }), 415, 'unsupported_file_type');
    expectError(await evidence({ form: multipart({}, [{ field: 'receipt', bytes: PNG, type: 'application/pdf' }]) }), 415, 'unsupported_file_type');
    expectError(await evidence({ form: multipart({}, [{ field: 'receipt', bytes: Buffer.alloc(0) }]) }), 422, 'invalid_file');
    const unchanged = await ok(await api.request('GET', `/disputes/${created.id}`));
    assert.deepEqual([unchanged.evidence.files, unchanged.updatedAt], [[], created.updatedAt]);
    assert.deepEqual(await eventTypes(api, created.id), ['dispute.created']);
  });

  test('limits: 5 disputes per transaction, 20 evidence files per dispute', async () => {
    const { txn } = await captured(10_000, 500);
    for (let i = 0; i < 5; i++) {
      const lost = await ok(await dispute({ transactionId: txn.id }), 201);
      await ok(await submit(lost.id));
      await ok(await resolve(lost.id, 'lost'));
    }
    expectError(await dispute({ transactionId: txn.id }), 422, 'too_many_disputes', 'transactionId');
    const other = await captured(10_000, 500);
    const created = await ok(await dispute({ transactionId: other.txn.id }), 201);
    const four = ['receipt', 'merchantCommunication', 'shippingDocumentation', 'additionalDocumentation'].map((field) => ({ field, bytes: PNG, type: 'image/png' }));
    for (let i = 0; i < 5; i++) await ok(await api.request('POST', `/disputes/${created.id}/evidence`, { form: multipart({}, four) }));
    expectError(await api.request('POST', `/disputes/${created.id}/evidence`, { form: multipart({}, [four[0]]) }), 422, 'too_many_evidence_files');
    assert.equal((await ok(await api.request('GET', `/disputes/${created.id}`))).evidence.files.length, 20);
  });

  test('the 120-day window runs from the capture, on the app clock', async () => {
    const { txn } = await captured(10_000, 800);
    const other = await captured(10_000, 800);
    // Each dispute() moves the clock 1 ms: the first is made exactly 120 days after both captures.
    clock.advance(120 * DAY_MS - 1);
    await ok(await dispute({ transactionId: txn.id }), 201);
    expectError(await dispute({ transactionId: other.txn.id }), 422, 'dispute_window_closed', 'transactionId');
  });
});

describe('tenancy and lists', () => {
  test('another organization sees and touches nothing: 404 everywhere', async () => {
    const { txn } = await captured(10_000, 300);
    const mine = await ok(await dispute({ transactionId: txn.id }), 201);
    const other = await api.otherOrganization();
    expectError(await dispute({ transactionId: txn.id }, other.apiKey), 404, 'not_found');
    expectError(await api.request('GET', `/disputes/${mine.id}`, { key: other.apiKey }), 404, 'not_found');
    expectError(await api.request('POST', `/disputes/${mine.id}/evidence`, { key: other.apiKey, body: { trackingNumber: 'X' } }), 404, 'not_found');
    expectError(await submit(mine.id, other.apiKey), 404, 'not_found');
    await ok(await submit(mine.id));
    expectError(await resolve(mine.id, 'won', other.apiKey), 404, 'not_found');
    assert.equal((await api.request('GET', '/disputes', { key: other.apiKey })).body.data.length, 0);
    assert.equal((await ok(await api.request('GET', `/disputes/${mine.id}`))).status, 'submitted');
  });

  test('filters and cursor pagination', async () => {
    const { card, txn } = await captured(10_000, 900);
    const second = await captured(10_000, 900);
    const a = await ok(await dispute({ transactionId: txn.id, reason: 'duplicate' }), 201);
    const b = await ok(await dispute({ transactionId: second.txn.id, reason: 'other' }), 201);
    await ok(await submit(b.id));
    const byCard = await ok(await api.request('GET', `/disputes?cardId=${card.id}`));
    assert.deepEqual(byCard.map((d: any) => d.id), [a.id]);
    const submitted = await api.request('GET', '/disputes?status=submitted&limit=100');
    assert.ok(submitted.body.data.every((d: any) => d.status === 'submitted'));
    assert.ok(submitted.body.data.some((d: any) => d.id === b.id));
    assert.deepEqual(submitted.body.meta.filters, { status: 'submitted' });
    const page1 = await api.request('GET', '/disputes?limit=1&sort=-createdAt');
    assert.deepEqual([page1.body.data[0].id, page1.body.meta.hasMore], [b.id, true]);
    const page2 = await api.request('GET', `/disputes?limit=1&sort=-createdAt&cursor=${page1.body.meta.nextCursor}`);
    assert.equal(page2.body.data[0].id, a.id);
    expectError(await api.request('GET', '/disputes?status=open'), 422, 'validation_failed');
  });
});

// The real-time authorization decision webhook against a real local receiver: the signature
// verifies with the program's secret, answers are applied, and every failure (timeout, 500,
// malformed or oversized body, an amount above the request, a refused private address) falls
// back to the program's fallback with the source saying which.
import assert from 'node:assert/strict';
import dns from 'node:dns';
import { after, before, describe, test } from 'node:test';
import type { Ctx } from '../../src/platform/context.ts';
import { askForDecision, MAX_DECISION_RESPONSE_BYTES, type DecisionRequest } from '../../src/modules/authorizations/decision-webhook.ts';
import { findProgramRow } from '../../src/modules/card-programs/card-programs.service.ts';
import { checkOutboundUrl, isNonPublicAddress, OutboundError, sendOutbound } from '../../src/platform/outbound-http.ts';
import { startHarness, type Harness } from '../support/api.ts';
import { createAccount, createProgram, issueNameOnlyCard } from '../support/fixtures.ts';
import { startReceiver, type Receiver } from '../support/receiver.ts';

/** Small, so that the timeout path keeps the suite fast. */
const TIMEOUT_MS = 150;

let api: Harness;
let receiver: Receiver;
let ctx: Ctx;

before(async () => {
  api = await startHarness({ config: { workers: false } });
  receiver = await startReceiver();
  ctx = (api.app as unknown as { ctx: Ctx }).ctx;
});
after(async () => { await receiver.close(); await api.checkLedger(); await api.close(); });

const request = (overrides: Partial<DecisionRequest> = {}): DecisionRequest => ({
  authorizationId: 'auth_test000000000000000000001', cardId: 'card_test0000000000000000000001', amount: 1_000, currency: 'USD',
  merchant: { name: 'Coffee Shop', mcc: '5812', city: 'Paris', country: 'FR', id: 'm-42' },
  entryMode: 'ecommerce', partialApprovalSupported: true,
  card: { status: 'active', lastFour: '4242', type: 'virtual', brand: 'Visa', expiry: { month: 12, year: 2030 } },
  ...overrides,
});

/** A program whose decision webhook points at the receiver; the receiver learns its secret. */
async function programWithHook(hook: Record<string, unknown> = {}) {
  const program = await createProgram(api, { authorizationWebhook: { url: `${receiver.url}/decide`, timeoutMs: TIMEOUT_MS, fallback: 'decline', ...hook } });
  assert.match(program.authorizationWebhook.secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
  receiver.secret = program.authorizationWebhook.secret;
  return { program, row: await findProgramRow(ctx.db, api.organizationId, program.id) };
}

describe('the decision call', () => {
  test('a program without a webhook gives null and calls nothing', async () => {
    const program = await createProgram(api);
    assert.equal(program.authorizationWebhook, null);
    const before = receiver.requests.length;
    assert.equal(await askForDecision(ctx, await findProgramRow(ctx.db, api.organizationId, program.id), request()), null);
    assert.equal(receiver.requests.length, before);
  });

  test('an approval: the request is a signed authorization.request that verifies with the program secret', async () => {
    const { row } = await programWithHook();
    receiver.answer({ json: { approved: true } });
    const before = receiver.requests.length;
    const decision = await askForDecision(ctx, row, request());
    assert.deepEqual({ ...decision, latencyMs: 0 }, { approved: true, source: 'webhook', latencyMs: 0 });
    assert.equal(receiver.requests.length, before + 1);
    const received = receiver.requests.at(-1)!;
    assert.equal(received.verified, true, received.verifyError);
    assert.equal(received.method, 'POST');
    assert.equal(received.path, '/decide');
    assert.match(String(received.headers['content-type']), /^application\/json/);
    assert.match(String(received.headers['webhook-signature']), /^v1,/);
    assert.equal(received.headers['webhook-id'], received.json.id);
    assert.ok(Math.abs(Number(received.headers['webhook-timestamp']) - Date.now() / 1000) < 60);
    assert.equal(received.json.type, 'authorization.request');
    assert.ok(!Number.isNaN(Date.parse(received.json.createdAt)));
    assert.deepEqual(received.json.data, {
      authorizationId: 'auth_test000000000000000000001', cardId: 'card_test0000000000000000000001', programId: row.id,
      amount: 1_000, currency: 'USD', entryMode: 'ecommerce', partialApprovalSupported: true,
      merchant: { name: 'Coffee Shop', mcc: '5812', city: 'Paris', country: 'FR', id: 'm-42' },
      card: { status: 'active', lastFour: '4242', type: 'virtual', brand: 'Visa', expiry: { month: 12, year: 2030 } },
    });
  });

  test('a signature made with another secret does not verify, so the receiver check can fail', async () => {
    const { row } = await programWithHook();
    receiver.secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    await askForDecision(ctx, row, request());
    assert.equal(receiver.requests.at(-1)!.verified, false);
  });

  test('only known card fields reach the receiver, never a PAN or CVV passed by mistake', async () => {
    const { row } = await programWithHook();
    const card = { ...request().card, pan: '4532010000000001', cvv: '123' } as DecisionRequest['card'];
    await askForDecision(ctx, row, request({ card }));
    const body = receiver.requests.at(-1)!.body;
    assert.ok(!body.includes('4532010000000001') && !body.includes('"cvv"'), body);
  });

  test('a decline carries the receiver\'s reason', async () => {
    const { row } = await programWithHook({ fallback: 'approve' });
    receiver.answer({ json: { approved: false, reason: 'merchant not on the allow list' } });
    const decision = await askForDecision(ctx, row, request());
    assert.equal(decision?.approved, false);
    assert.equal(decision?.source, 'webhook');
    assert.equal(decision?.reason, 'merchant not on the allow list');
    assert.equal(decision?.amount, undefined);
  });

  test('an approval of less than requested is a partial amount; the full amount is kept as given', async () => {
    const { row } = await programWithHook();
    receiver.answer({ json: { approved: true, amount: 400, reason: 'partial' } });
    assert.deepEqual({ ...(await askForDecision(ctx, row, request()))!, latencyMs: 0 }, { approved: true, amount: 400, reason: 'partial', source: 'webhook', latencyMs: 0 });
    receiver.answer({ json: { approved: true, amount: 1_000, extra: 'ignored' } });
    assert.equal((await askForDecision(ctx, row, request()))?.amount, 1_000);
    receiver.answer({ json: { approved: true, amount: null, reason: null } });
    assert.deepEqual({ ...(await askForDecision(ctx, row, request()))!, latencyMs: 0 }, { approved: true, source: 'webhook', latencyMs: 0 });
  });

  test('latency is measured', async () => {
    const { row } = await programWithHook({ timeoutMs: 2_000 });
    receiver.answer({ json: { approved: true }, delayMs: 60 });
    const decision = await askForDecision(ctx, row, request());
    assert.equal(decision?.source, 'webhook');
    assert.ok(decision!.latencyMs >= 55 && decision!.latencyMs < 2_000, String(decision!.latencyMs));
  });
});

describe('failures fall back', () => {
  const cases: Array<[string, () => void, string, RegExp]> = [
    ['an amount above the request', () => receiver.answer({ json: { approved: true, amount: 1_001 } }), 'webhook_error', /more than the requested 1000/],
    ['a zero amount', () => receiver.answer({ json: { approved: true, amount: 0 } }), 'webhook_error', /not \{approved/],
    ['a fractional amount', () => receiver.answer({ json: { approved: true, amount: 10.5 } }), 'webhook_error', /not \{approved/],
    ['no approved field', () => receiver.answer({ json: { decision: 'approve' } }), 'webhook_error', /approved/],
    ['a reason over 255 characters', () => receiver.answer({ json: { approved: false, reason: 'x'.repeat(256) } }), 'webhook_error', /reason/],
    ['an HTTP 500', () => receiver.answer({ status: 500, text: 'boom' }), 'webhook_error', /HTTP 500/],
    ['a redirect, which is not followed', () => receiver.answer({ status: 302, text: '' }), 'webhook_error', /HTTP 302/],
    ['malformed JSON', () => receiver.answer({ status: 200, text: '{"approved": tru', contentType: 'application/json' }), 'webhook_error', /not JSON/],
    ['an empty body', () => receiver.answer({ status: 200, text: '' }), 'webhook_error', /not JSON/],
    ['a body over 16 KiB', () => receiver.answer({ json: { approved: true, padding: 'x'.repeat(MAX_DECISION_RESPONSE_BYTES) } }), 'webhook_error', /larger than 16384 bytes/],
    ['a receiver that sleeps past timeoutMs', () => receiver.answer({ sleepMs: TIMEOUT_MS * 4 }), 'webhook_timeout', /within 150 ms/],
    ['an answer that starts in time and ends late', () => receiver.answer({ json: { approved: true }, delayMs: TIMEOUT_MS + 100 }), 'webhook_timeout', /within 150 ms/],
  ];

  for (const fallback of ['decline', 'approve'] as const) {
    for (const [name, arrange, source, reason] of cases) {
      test(`${name} → ${source}, fallback ${fallback}`, async () => {
        const { row } = await programWithHook({ fallback });
        arrange();
        const decision = (await askForDecision(ctx, row, request()))!;
        assert.equal(decision.source, source, JSON.stringify(decision));
        assert.equal(decision.approved, fallback === 'approve');
        assert.equal(decision.amount, undefined);
        assert.match(decision.reason ?? '', reason);
        if (source === 'webhook_timeout') assert.ok(decision.latencyMs >= TIMEOUT_MS - 5 && decision.latencyMs < TIMEOUT_MS + 200, String(decision.latencyMs));
      });
    }
  }

  test('a closed port is a connection error', async () => {
    const closed = await startReceiver();
    const url = `${closed.url}/decide`;
    await closed.close();
    const { program } = await programWithHook();
    await api.request('PATCH', `/card-programs/${program.id}`, { body: { authorizationWebhook: { url, timeoutMs: 1_000, fallback: 'approve' } } });
    const decision = await askForDecision(ctx, await findProgramRow(ctx.db, api.organizationId, program.id), request());
    assert.equal(decision?.source, 'webhook_error');
    assert.equal(decision?.approved, true);
    assert.match(decision?.reason ?? '', /ECONNREFUSED/);
  });
});

describe('private addresses (PAYGEN_WEBHOOK_ALLOW_PRIVATE)', () => {
  const privateOff = () => ({ ...ctx, config: { ...ctx.config, webhookAllowPrivate: false } });

  test('allowed by default in the sandbox: the loopback receiver above was called', () => {
    assert.equal(ctx.config.webhookAllowPrivate, true);
    assert.ok(receiver.requests.some((r) => r.verified));
  });

  test('refused when not allowed: 127.0.0.1 gives webhook_error with the reason, and nothing is sent', async () => {
    const { row } = await programWithHook({ fallback: 'approve' });
    receiver.answer({ json: { approved: false } });
    const before = receiver.requests.length;
    const decision = await askForDecision(privateOff(), row, request());
    assert.equal(decision?.source, 'webhook_error');
    assert.equal(decision?.approved, true);
    assert.match(decision?.reason ?? '', /127\.0\.0\.1 is a private, loopback or otherwise non-public address/);
    assert.equal(receiver.requests.length, before);
  });

  test('refused after DNS resolution too: localhost resolves to loopback', async () => {
    const { program } = await programWithHook();
    const port = new URL(receiver.url).port;
    const set = await api.request('PATCH', `/card-programs/${program.id}`, { body: { authorizationWebhook: { url: `http://localhost:${port}/decide`, timeoutMs: 1_000 } } });
    assert.equal(set.status, 200, set.text);
    const row = await findProgramRow(ctx.db, api.organizationId, program.id);
    const before = receiver.requests.length;
    const decision = await askForDecision(privateOff(), row, request());
    assert.equal(decision?.source, 'webhook_error');
    assert.match(decision?.reason ?? '', /localhost resolves to (127\.0\.0\.1|::1), a private/);
    assert.equal(receiver.requests.length, before);
    // The same program with private targets allowed reaches the receiver by name.
    receiver.answer({ json: { approved: true } });
    assert.equal((await askForDecision(ctx, row, request()))?.source, 'webhook');
    assert.equal(receiver.requests.length, before + 1);
  });

  test('a program refuses a URL that could never be called', async () => {
    for (const url of ['ftp://example.com/decide', 'file:///etc/passwd', 'http://user:secret@example.com/decide']) {
      const res = await api.request('POST', '/card-programs', { body: { name: `bad hook ${Math.random()}`, brand: 'Visa', bin: '45990000', currency: 'USD', authorizationWebhook: { url } } });
      assert.equal(res.status, 422, `${url}: ${res.text}`);
      assert.equal(res.body.error.code, 'invalid_webhook_url', url);
      assert.equal(res.body.error.details[0].field, 'authorizationWebhook.url');
    }
  });

  test('an app started with private targets refused: programs cannot point at private IPs nor localhost, and a name resolving to loopback is refused at call time', async (t) => {
    const strict = await startHarness({ config: { workers: false, webhookAllowPrivate: false } });
    try {
      const strictCtx = (strict.app as unknown as { ctx: Ctx }).ctx;
      for (const url of [`${receiver.url}/decide`, 'http://169.254.169.254/latest', 'http://[::1]/x', 'http://10.0.0.7/decide', `http://localhost:${new URL(receiver.url).port}/decide`]) {
        const res = await strict.request('POST', '/card-programs', { body: { name: `private ${Math.random()}`, brand: 'Visa', bin: '45990000', currency: 'USD', authorizationWebhook: { url } } });
        assert.equal(res.status, 422, `${url}: ${res.text}`);
        assert.equal(res.body.error.code, 'webhook_url_not_allowed', url);
      }
      // A name that passes creation, and that DNS (stood in for here) resolves to loopback.
      t.mock.method(dns, 'lookup', (_name: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) =>
        (options?.all ? callback(null, [{ address: '127.0.0.1', family: 4 }]) : callback(null, '127.0.0.1', 4)));
      const program = await createProgram(strict, { authorizationWebhook: { url: `http://decide.example.com:${new URL(receiver.url).port}/decide`, timeoutMs: 1_000, fallback: 'approve' } });
      const patched = await strict.request('PATCH', `/card-programs/${program.id}`, { body: { authorizationWebhook: { url: 'http://127.0.0.1:9/decide' } } });
      assert.equal(patched.status, 422, patched.text);
      const before = receiver.requests.length;
      const decision = await askForDecision(strictCtx, await findProgramRow(strictCtx.db, strict.organizationId, program.id), request());
      assert.equal(decision?.source, 'webhook_error');
      assert.equal(decision?.approved, true);
      assert.match(decision?.reason ?? '', /decide\.example\.com resolves to 127\.0\.0\.1/);
      assert.equal(receiver.requests.length, before);
      await strict.checkLedger();
    } finally {
      await strict.close();
    }
  });

  test('the address checks', async () => {
    for (const address of ['127.0.0.1', '10.1.2.3', '172.31.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', '::', 'fe80::1', 'fd00::1', '::ffff:127.0.0.1', '::ffff:a9fe:a9fe', '224.0.0.1', 'not-an-ip']) {
      assert.equal(isNonPublicAddress(address), true, address);
    }
    for (const address of ['93.184.216.34', '8.8.8.8', '2606:4700:4700::1111', '::ffff:8.8.8.8']) assert.equal(isNonPublicAddress(address), false, address);
    for (const url of ['http://[::1]:8080/x', 'http://169.254.169.254/latest/meta-data', 'http://10.0.0.1/']) {
      assert.throws(() => checkOutboundUrl(url, false), (e: unknown) => e instanceof OutboundError && e.kind === 'refused_address', url);
      assert.equal(checkOutboundUrl(url, true).href, new URL(url).href);
    }
    for (const url of ['file:///etc/passwd', 'ftp://example.com/', 'gopher://example.com', 'not a url', 'http://user:pass@example.com/']) {
      assert.throws(() => checkOutboundUrl(url, true), (e: unknown) => e instanceof OutboundError && e.kind === 'invalid_url', url);
    }
    await assert.rejects(
      sendOutbound({ url: 'file:///etc/passwd', headers: {}, body: '', timeoutMs: 100, maxResponseBytes: 10, allowPrivate: true }),
      (e: unknown) => e instanceof OutboundError && e.kind === 'invalid_url',
    );
  });
});

describe('the program\'s signing secret', () => {
  test('shown only on the request that made it; never in reads, lists or events', async () => {
    const { program } = await programWithHook();
    const secret = program.authorizationWebhook.secret;
    const got = await api.request('GET', `/card-programs/${program.id}`);
    assert.deepEqual(got.body.data.authorizationWebhook, { url: `${receiver.url}/decide`, timeoutMs: TIMEOUT_MS, fallback: 'decline' });
    const list = await api.request('GET', '/card-programs?limit=100');
    assert.equal(list.text.includes(secret), false);
    const changed = await api.request('PATCH', `/card-programs/${program.id}`, { body: { authorizationWebhook: { url: `${receiver.url}/other`, timeoutMs: 300 } } });
    assert.equal(changed.status, 200, changed.text);
    assert.equal(changed.body.data.authorizationWebhook.secret, undefined, 'a webhook that stays set keeps its secret');
    const events = await api.request('GET', `/events?resourceId=${program.id}&limit=100`);
    assert.equal(events.body.data.length, 2);
    assert.equal(events.text.includes('whsec_'), false);
    // The kept secret still signs.
    receiver.answer({ json: { approved: true } });
    await askForDecision(ctx, await findProgramRow(ctx.db, api.organizationId, program.id), request());
    assert.equal(receiver.requests.at(-1)!.verified, true);
    assert.equal(receiver.requests.at(-1)!.path, '/other');
  });

  test('a webhook added by PATCH gets a secret; removing it drops the secret; adding it again makes a new one', async () => {
    const program = await createProgram(api);
    const added = await api.request('PATCH', `/card-programs/${program.id}`, { body: { authorizationWebhook: { url: `${receiver.url}/decide` } } });
    assert.equal(added.status, 200, added.text);
    const first = added.body.data.authorizationWebhook.secret;
    assert.match(first, /^whsec_/);
    const removed = await api.request('PATCH', `/card-programs/${program.id}`, { body: { authorizationWebhook: null } });
    assert.equal(removed.body.data.authorizationWebhook, null);
    assert.equal((await findProgramRow(ctx.db, api.organizationId, program.id)).authorization_webhook_secret_ciphertext, null);
    const again = await api.request('PATCH', `/card-programs/${program.id}`, { body: { authorizationWebhook: { url: `${receiver.url}/decide`, timeoutMs: 500 } } });
    assert.match(again.body.data.authorizationWebhook.secret, /^whsec_/);
    assert.notEqual(again.body.data.authorizationWebhook.secret, first);
  });

  test('the secret is sealed at rest', async () => {
    const { program, row } = await programWithHook();
    assert.ok(row.authorization_webhook_secret_ciphertext);
    assert.equal(row.authorization_webhook_secret_key_id, ctx.vault.keyId);
    assert.equal(row.authorization_webhook_secret_ciphertext!.includes(program.authorizationWebhook.secret.slice(6)), false);
  });

  test('rotate-webhook-secret: the new secret signs, the old one no longer verifies', async () => {
    const { program, row } = await programWithHook();
    const old = program.authorizationWebhook.secret;
    const rotated = await api.request('POST', `/card-programs/${program.id}/rotate-webhook-secret`);
    assert.equal(rotated.status, 200, rotated.text);
    const fresh = rotated.body.data.authorizationWebhook.secret;
    assert.match(fresh, /^whsec_/);
    assert.notEqual(fresh, old);
    receiver.answer({ json: { approved: true } });
    await askForDecision(ctx, row, request());
    assert.equal(receiver.requests.at(-1)!.verified, true, 'the row read before rotation still holds the old secret');
    await askForDecision(ctx, await findProgramRow(ctx.db, api.organizationId, program.id), request());
    assert.equal(receiver.requests.at(-1)!.verified, false);
    receiver.secret = fresh;
    await askForDecision(ctx, await findProgramRow(ctx.db, api.organizationId, program.id), request());
    assert.equal(receiver.requests.at(-1)!.verified, true);
    const events = await api.request('GET', `/events?resourceId=${program.id}&limit=100`);
    assert.deepEqual(events.body.data.map((e: any) => e.type).sort(), ['card_program.created', 'card_program.updated']);
    assert.equal(events.text.includes('whsec_'), false);
  });

  test('rotate-webhook-secret on a program without a webhook, or another organization\'s, is a 404', async () => {
    const plain = await createProgram(api);
    const none = await api.request('POST', `/card-programs/${plain.id}/rotate-webhook-secret`);
    assert.equal(none.status, 404, none.text);
    assert.equal(none.body.error.code, 'not_found');
    const { program } = await programWithHook();
    const other = await api.otherOrganization();
    const theirs = await api.request('POST', `/card-programs/${program.id}/rotate-webhook-secret`, { key: other.apiKey });
    assert.equal(theirs.status, 404, theirs.text);
  });
});

describe('end to end through POST /simulator/authorizations', () => {
  let account: { id: string };

  before(async () => { account = await createAccount(api); });

  /** A card funded with `funds` under a program whose decision webhook is the receiver. */
  async function cardWithHook(hook: Record<string, unknown> = {}, funds = 5_000) {
    const { program } = await programWithHook(hook);
    const card = await issueNameOnlyCard(api, account, program, funds);
    assert.equal(card.status, 201, card.text);
    return card.body.data;
  }
  const authorize = async (cardId: string, amount: number, extra: Record<string, unknown> = {}) => {
    const res = await api.request('POST', '/simulator/authorizations', {
      body: { cardId, amount, currency: 'USD', merchant: { name: 'Coffee Shop', mcc: '5812', city: 'Paris', country: 'FR' }, entryMode: 'ecommerce', ...extra },
    });
    assert.equal(res.status, 201, res.text);
    return res.body.data;
  };
  const available = async (cardId: string) => (await api.request('GET', `/cards/${cardId}`)).body.data.balance.available;

  test('an approval holds the money and records the source and latency; the receiver saw a verified request about this authorization', async () => {
    const card = await cardWithHook();
    receiver.answer({ json: { approved: true }, delayMs: 20 });
    const auth = await authorize(card.id, 1_200);
    assert.equal(auth.approved, true);
    assert.equal(auth.decisionSource, 'webhook');
    assert.ok(auth.decisionLatencyMs >= 15 && auth.decisionLatencyMs < TIMEOUT_MS, String(auth.decisionLatencyMs));
    assert.equal(auth.heldAmount, 1_200);
    assert.equal(await available(card.id), 3_800);
    const received = receiver.requests.at(-1)!;
    assert.equal(received.verified, true, received.verifyError);
    assert.equal(received.json.data.authorizationId, auth.id);
    assert.equal(received.json.data.cardId, card.id);
    assert.equal(received.json.data.card.lastFour, card.lastFour);
    assert.deepEqual(Object.keys(received.json.data.card).sort(), ['brand', 'budgetId', 'cardHolderId', 'expiry', 'label', 'lastFour', 'status', 'type', 'bin'].sort());
  });

  test('a webhook decline is a 201 decline with no hold', async () => {
    const card = await cardWithHook({ fallback: 'approve' });
    receiver.answer({ json: { approved: false, reason: 'velocity' } });
    const auth = await authorize(card.id, 1_000);
    assert.equal(auth.approved, false);
    assert.equal(auth.status, 'declined');
    assert.equal(auth.declineReason, 'webhook_declined');
    assert.equal(auth.decisionSource, 'webhook');
    assert.equal(auth.heldAmount, 0);
    assert.equal(await available(card.id), 5_000);
  });

  test('a partial amount from the webhook is applied only when the terminal supports it', async () => {
    const card = await cardWithHook();
    receiver.answer({ json: { approved: true, amount: 300 } });
    const partial = await authorize(card.id, 1_000, { partialApprovalSupported: true });
    assert.equal(partial.approved, true);
    assert.equal(partial.approvedAmount, 300);
    assert.equal(partial.heldAmount, 300);
    const refused = await authorize(card.id, 1_000, { partialApprovalSupported: false });
    assert.equal(refused.approved, false);
    assert.equal(refused.decisionSource, 'webhook');
    assert.equal(await available(card.id), 4_700);
  });

  test('timeout and errors apply the fallback and say so', async () => {
    const approving = await cardWithHook({ fallback: 'approve' });
    receiver.answer({ sleepMs: TIMEOUT_MS * 4 });
    const late = await authorize(approving.id, 500);
    assert.equal(late.approved, true);
    assert.equal(late.decisionSource, 'webhook_timeout');
    assert.ok(late.decisionLatencyMs >= TIMEOUT_MS - 5, String(late.decisionLatencyMs));
    receiver.answer({ json: { approved: true, amount: 501 } });
    const tooMuch = await authorize(approving.id, 500);
    assert.equal(tooMuch.approved, true);
    assert.equal(tooMuch.decisionSource, 'webhook_error');
    assert.equal(tooMuch.heldAmount, 500);
    assert.equal(await available(approving.id), 4_000);

    const declining = await cardWithHook({ fallback: 'decline' });
    receiver.answer({ status: 500, text: 'down' });
    const failed = await authorize(declining.id, 500);
    assert.equal(failed.approved, false);
    assert.equal(failed.decisionSource, 'webhook_error');
    assert.equal(await available(declining.id), 5_000);
  });

  test('the rules decide first: a card without funds is declined without calling the webhook', async () => {
    const card = await cardWithHook({}, 100);
    receiver.answer({ json: { approved: true } });
    const before = receiver.requests.length;
    const auth = await authorize(card.id, 1_000);
    assert.equal(auth.approved, false);
    assert.equal(auth.declineReason, 'insufficient_funds');
    assert.equal(auth.decisionSource, 'rules');
    assert.equal(auth.decisionLatencyMs, null);
    assert.equal(receiver.requests.length, before);
  });

  test('the same network message twice calls the webhook once', async () => {
    const card = await cardWithHook();
    receiver.answer({ json: { approved: true } });
    const before = receiver.requests.length;
    const first = await authorize(card.id, 700, { networkId: `net-${card.id}` });
    const second = await authorize(card.id, 700, { networkId: `net-${card.id}` });
    assert.equal(second.id, first.id);
    assert.equal(receiver.requests.length, before + 1);
    assert.equal(await available(card.id), 4_300);
  });
});

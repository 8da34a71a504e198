// Webhook delivery against a real local receiver that verifies every request with the
// standardwebhooks package. Workers are off: the tests run the delivery job themselves and move
// a ManualClock, so the retry schedule is checked without sleeping.
import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import { ManualClock } from '../../src/platform/clock.ts';
import { createDeliveryJob } from '../../src/modules/webhooks/delivery.job.ts';
import { MAX_DELIVERY_ATTEMPTS, retryDelayMs } from '../../src/modules/webhooks/retry-schedule.ts';
import { startHarness, type Harness } from '../support/api.ts';
import { createAccount } from '../support/fixtures.ts';
import { startReceiver, type Receiver } from './receiver.ts';

let api: Harness;
let receiver: Receiver;
// Far in the future: on a shared PostgreSQL, a worker of another suite (system clock) never finds
// these deliveries due, so only this file's explicit job runs deliver them.
const clock = new ManualClock(new Date('2100-01-01T00:00:00.000Z'));

/** Runs the delivery job until nothing is due; returns how many deliveries it handled. */
/** The delivery job, limited to this file's organization: on a shared PostgreSQL other suites have deliveries too. */
const ownDeliveries = () => createDeliveryJob({ organizationId: api.organizationId });

async function drain(job = ownDeliveries()) {
  let total = 0;
  for (let i = 0; i < 100; i++) {
    const handled = await job.run(api.app.ctx);
    if (handled === 0) return total;
    total += handled;
  }
  throw new Error('the delivery job never ran dry');
}

async function createWebhook(events: string[], url = receiver.url) {
  const res = await api.request('POST', '/webhooks', { body: { url, events, description: 'tests' } });
  assert.equal(res.status, 201, res.text);
  return res.body.data as { id: string; secret: string };
}

async function deliveriesOf(webhookId: string) {
  const res = await api.request('GET', `/webhooks/${webhookId}/deliveries?sort=createdAt&limit=100`);
  assert.equal(res.status, 200, res.text);
  return res.body.data as any[];
}

before(async () => { api = await startHarness({ config: { workers: false }, clock }); });
beforeEach(async () => {
  // Each test starts with no endpoint, so earlier ones do not take its events.
  for (const hook of (await api.request('GET', '/webhooks?limit=100')).body.data) {
    assert.equal((await api.request('DELETE', `/webhooks/${hook.id}`)).status, 200);
  }
  await drain();
  await receiver?.close();
  receiver = await startReceiver();
});
after(async () => { await receiver.close(); await api.checkLedger(); await api.close(); });

test('every matching event is delivered once, signed per Standard Webhooks, with its payload', async () => {
  const hook = await createWebhook(['account.created', 'account.updated']);
  assert.match(hook.secret, /^whsec_[A-Za-z0-9+/=]{40,}$/);
  receiver.secrets = [hook.secret];
  const account = await createAccount(api);
  const renamed = await api.request('PATCH', `/accounts/${account.id}`, { body: { name: 'Renamed' } });
  assert.equal(renamed.status, 200);
  assert.equal(await drain(), 2, 'account.created and account.updated; not account.deposit_received');

  assert.equal(receiver.received.length, 2);
  const events = (await api.request('GET', `/events?resourceId=${account.id}&sort=createdAt`)).body.data;
  const created = events.find((e: any) => e.type === 'account.created');
  const updated = events.find((e: any) => e.type === 'account.updated');
  for (const got of receiver.received) assert.deepEqual(got.verifiedWith, [0], 'verified with the secret');
  const [first, second] = receiver.received;
  assert.equal(first.headers['webhook-id'], created.id);
  assert.match(first.headers['webhook-timestamp'], /^\d{10}$/);
  assert.equal(first.headers['content-type'], 'application/json');
  const { previousAttributes: _none, ...createdWithoutPrevious } = created;
  assert.deepEqual(first.payload, createdWithoutPrevious, 'the event as the API shows it; no previousAttributes when there are none');
  assert.deepEqual(second.payload, updated);
  assert.deepEqual(second.payload.previousAttributes, { name: 'Primary USD Wallet' });
  assert.deepEqual(Object.keys(second.payload), ['id', 'type', 'createdAt', 'resource', 'resourceId', 'sequence', 'data', 'previousAttributes']);

  const log = await deliveriesOf(hook.id);
  assert.deepEqual(log.map((d) => [d.eventId, d.status, d.reason, d.attemptCount, d.nextAttemptAt]), [
    [created.id, 'succeeded', 'event', 1, null], [updated.id, 'succeeded', 'event', 1, null],
  ]);
  const attempt = log[0].attempts[0];
  assert.equal(attempt.attempt, 1);
  assert.equal(attempt.statusCode, 200);
  assert.equal(attempt.succeeded, true);
  assert.equal(attempt.responseExcerpt, 'ok');
  assert.equal(attempt.error, null);
  assert.equal(attempt.nextAttemptAt, null);
  assert.ok(Number.isInteger(attempt.latencyMs) && attempt.latencyMs >= 0);
  const perEvent = await api.request('GET', `/events/${created.id}/deliveries`);
  assert.deepEqual(perEvent.body.data.map((d: any) => d.id), [log[0].id]);
  assert.equal(await drain(), 0, 'nothing is delivered twice');
});

test('a receiver that fails 3 times then succeeds: one success, 3 failed attempts with reasons, on schedule', async () => {
  const failures = 3;
  receiver.answer = (n) => (n < failures ? { status: 500, body: `boom ${n + 1}` } : { status: 204 });
  const hook = await createWebhook(['account.created']);
  receiver.secrets = [hook.secret];
  await createAccount(api);
  for (let attempt = 1; attempt <= failures; attempt++) {
    assert.equal(await drain(), 1, `attempt ${attempt} is made`);
    const delay = retryDelayMs(attempt)!;
    clock.advance(delay - 1);
    assert.equal(await drain(), 0, `attempt ${attempt + 1} waits the full ${delay} ms`);
    clock.advance(1);
  }
  assert.equal(await drain(), 1);
  assert.equal(receiver.received.length, failures + 1);
  assert.equal(new Set(receiver.received.map((r) => r.headers['webhook-id'])).size, 1, 'webhook-id is stable across retries');
  assert.ok(receiver.received.every((r) => r.verifiedWith.length === 1));

  const [delivery] = await deliveriesOf(hook.id);
  assert.equal(delivery.status, 'succeeded');
  assert.equal(delivery.attemptCount, failures + 1);
  assert.deepEqual(delivery.attempts.map((a: any) => [a.attempt, a.succeeded, a.statusCode, a.responseExcerpt]), [
    [1, false, 500, 'boom 1'], [2, false, 500, 'boom 2'], [3, false, 500, 'boom 3'], [4, true, 204, ''],
  ]);
  for (const a of delivery.attempts.slice(0, failures)) {
    assert.match(a.error, /answered 500/);
    assert.equal(Date.parse(a.nextAttemptAt) - Date.parse(a.attemptedAt), retryDelayMs(a.attempt), 'the schedule in the log');
  }
  assert.equal(delivery.attempts.filter((a: any) => a.succeeded).length, 1);
});

test('after the last attempt a delivery is failed; timeouts and connection errors are failed attempts', async () => {
  const hook = await createWebhook(['account.created']);
  receiver.answer = () => ({ status: 200, hang: true });
  const quick = createDeliveryJob({ timeoutMs: 150, organizationId: api.organizationId });
  await createAccount(api);
  assert.equal(await drain(quick), 1);
  let [delivery] = await deliveriesOf(hook.id);
  assert.equal(delivery.status, 'pending');
  assert.match(delivery.attempts[0].error, /^timeout: /);
  assert.equal(delivery.attempts[0].statusCode, null);

  // The receiver goes away: connection errors until the attempts run out.
  const url = receiver.url;
  await receiver.close();
  assert.equal((await api.request('PATCH', `/webhooks/${hook.id}`, { body: { url } })).status, 200);
  for (let attempt = 2; attempt <= MAX_DELIVERY_ATTEMPTS; attempt++) {
    clock.advance(retryDelayMs(attempt - 1)!);
    assert.equal(await drain(quick), 1, `attempt ${attempt}`);
  }
  clock.advance(24 * 60 * 60 * 1000);
  assert.equal(await drain(quick), 0, 'no attempt after the last one');
  [delivery] = await deliveriesOf(hook.id);
  assert.equal(delivery.status, 'failed');
  assert.equal(delivery.attemptCount, MAX_DELIVERY_ATTEMPTS);
  assert.equal(delivery.nextAttemptAt, null);
  assert.ok(delivery.completedAt);
  assert.equal(delivery.attempts.length, MAX_DELIVERY_ATTEMPTS);
  for (const a of delivery.attempts.slice(1)) assert.match(a.error, /^connection: .*ECONNREFUSED/);
  assert.equal(delivery.attempts.at(-1).nextAttemptAt, null);
  receiver = await startReceiver();
});

test('after a secret rotation both secrets sign for 24 hours, then only the new one', async () => {
  const hook = await createWebhook(['account.updated']);
  const account = await createAccount(api);
  const rotated = await api.request('POST', `/webhooks/${hook.id}/rotate-secret`);
  assert.equal(rotated.status, 200, rotated.text);
  const secret = rotated.body.data.secret;
  assert.notEqual(secret, hook.secret);
  assert.equal(Date.parse(rotated.body.data.previousSecretExpiresAt) - clock.now().getTime(), 24 * 60 * 60 * 1000);
  const read = await api.request('GET', `/webhooks/${hook.id}`);
  assert.equal(read.body.data.secret, undefined, 'the secret is shown only at creation and rotation');
  receiver.secrets = [secret, hook.secret];

  await api.request('PATCH', `/accounts/${account.id}`, { body: { name: 'During the overlap' } });
  await drain();
  assert.equal(receiver.received[0].headers['webhook-signature'].split(' ').length, 2);
  assert.deepEqual(receiver.received[0].verifiedWith, [0, 1], 'verifies with the new and the old secret');

  clock.advance(24 * 60 * 60 * 1000 + 1);
  await api.request('PATCH', `/accounts/${account.id}`, { body: { name: 'After the overlap' } });
  await drain();
  assert.equal(receiver.received[1].headers['webhook-signature'].split(' ').length, 1);
  assert.deepEqual(receiver.received[1].verifiedWith, [0], 'only the new secret verifies');
  assert.equal((await api.request('GET', `/webhooks/${hook.id}`)).body.data.previousSecretExpiresAt, null);
});

test('POST /webhooks/:id/test reaches that endpoint only; a disabled endpoint gets nothing', async () => {
  const hook = await createWebhook(['*']);
  const other = await startReceiver();
  const otherHook = await createWebhook(['*'], other.url);
  receiver.secrets = [hook.secret];
  const sent = await api.request('POST', `/webhooks/${hook.id}/test`);
  assert.equal(sent.status, 202, sent.text);
  assert.equal(sent.body.data.status, 'pending');
  assert.equal(sent.body.data.reason, 'test');
  assert.equal(sent.body.data.eventType, 'webhook.test');
  await drain();
  assert.equal(receiver.received.length, 1);
  assert.equal(receiver.received[0].payload.type, 'webhook.test');
  assert.equal(receiver.received[0].payload.data.webhookId, hook.id);
  assert.deepEqual(receiver.received[0].verifiedWith, [0]);
  assert.equal(other.received.length, 0, 'the other "*" endpoint does not get the test event');

  const disabled = await api.request('PATCH', `/webhooks/${otherHook.id}`, { body: { enabled: false } });
  assert.equal(disabled.body.data.enabled, false);
  await createAccount(api);
  await drain();
  assert.equal(other.received.length, 0, 'no delivery to a disabled endpoint');
  const refused = await api.request('POST', `/webhooks/${otherHook.id}/test`);
  assert.equal(refused.status, 422);
  assert.equal(refused.body.error.code, 'webhook_disabled');
  assert.equal((await api.request('DELETE', `/webhooks/${otherHook.id}`)).status, 200);
  assert.equal((await api.request('GET', `/webhooks/${otherHook.id}`)).status, 404);
  await other.close();
});

test('disabling an endpoint cancels its pending deliveries', async () => {
  const hook = await createWebhook(['account.created']);
  await createAccount(api);
  const patched = await api.request('PATCH', `/webhooks/${hook.id}`, { body: { enabled: false } });
  assert.equal(patched.status, 200);
  assert.equal(await drain(), 0);
  const [delivery] = await deliveriesOf(hook.id);
  assert.equal(delivery.status, 'cancelled');
  assert.equal(receiver.received.length, 0);
});

test('resend and replay deliver events again with the same webhook-id', async () => {
  clock.advance(1000);
  const since = clock.now().toISOString();
  const hook = await createWebhook(['account.created', 'account.updated']);
  receiver.secrets = [hook.secret];
  const account = await createAccount(api);
  await api.request('PATCH', `/accounts/${account.id}`, { body: { name: 'Again' } });
  await drain();
  assert.equal(receiver.received.length, 2);
  const created = receiver.received[0].payload;

  const resent = await api.request('POST', `/events/${created.id}/resend`);
  assert.equal(resent.status, 202, resent.text);
  assert.deepEqual(resent.body.data.map((d: any) => [d.webhookId, d.reason, d.status]), [[hook.id, 'resend', 'pending']]);
  await drain();
  assert.equal(receiver.received[2].headers['webhook-id'], created.id);
  const perEvent = await api.request('GET', `/events/${created.id}/deliveries?sort=createdAt`);
  assert.deepEqual(perEvent.body.data.map((d: any) => [d.reason, d.status]), [['event', 'succeeded'], ['resend', 'succeeded']]);

  const replayed = await api.request('POST', `/webhooks/${hook.id}/replay`, { body: { since } });
  assert.equal(replayed.status, 202, replayed.text);
  assert.equal(replayed.body.data.deliveries, 2, 'account.created and account.updated; not the deposit');
  await drain();
  assert.deepEqual(receiver.received.slice(3).map((r) => r.payload.type).sort(), ['account.created', 'account.updated']);
  assert.ok(receiver.received.every((r) => r.verifiedWith.length === 1));

  const future = await api.request('POST', `/webhooks/${hook.id}/replay`, { body: { since: new Date(clock.now().getTime() + 60_000).toISOString() } });
  assert.equal(future.status, 422);
  assert.equal(future.body.error.code, 'invalid_replay_window');
});

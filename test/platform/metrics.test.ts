// GET /metrics (issue 11): the Prometheus text format of a per-app registry. Counters move with
// requests (labelled by route pattern, never the raw URL), authorizations (by decision) and webhook
// delivery attempts (by outcome, with their lag); the job queue depth and the DB pool are read at
// scrape; no label carries tenant data. Without PAYGEN_METRICS_TOKEN only the loopback address may
// scrape; with it, only its bearer. Workers are off and the clock is far in the future, as in the
// delivery suite, so that on a shared PostgreSQL only this file's job runs deliver its events.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ManualClock } from '../../src/platform/clock.ts';
import { createDeliveryJob } from '../../src/modules/webhooks/delivery.job.ts';
import { startHarness, type Harness } from '../support/api.ts';
import { createAccount, createProgram, issueNameOnlyCard } from '../support/fixtures.ts';
import { sample, scrape as scrapeMetrics } from '../support/metrics.ts';
import { startReceiver, type Receiver } from '../support/receiver.ts';

let api: Harness;
let receiver: Receiver;
const clock = new ManualClock(new Date('2100-01-01T00:00:00.000Z'));

before(async () => {
  api = await startHarness({ config: { workers: false }, clock });
  receiver = await startReceiver({ json: { ok: true } });
});
after(async () => { await receiver.close(); await api.checkLedger(); await api.close(); });

const scrape = (harness = api) => scrapeMetrics(harness);

describe('GET /metrics', () => {
  test('counts requests by route pattern, method and status, with a duration histogram', async () => {
    const account = await createAccount(api);
    const before = await scrape();
    const own = { route: '/accounts/:id', method: 'GET', status: '200' };
    const missing = { route: '/accounts/:id', method: 'GET', status: '404' };
    await api.request('GET', `/accounts/${account.id}`);
    await api.request('GET', `/accounts/${account.id}`);
    await api.request('GET', '/accounts/acc_doesnotexist000000000000000');
    await api.request('GET', '/no-such-route/12345');
    const text = await scrape();
    assert.equal(sample(text, 'paygen_http_requests_total', own) - sample(before, 'paygen_http_requests_total', own), 2);
    assert.equal(sample(text, 'paygen_http_requests_total', missing) - sample(before, 'paygen_http_requests_total', missing), 1);
    assert.equal(sample(text, 'paygen_http_request_duration_seconds_count', own) - sample(before, 'paygen_http_request_duration_seconds_count', own), 2);
    assert.ok(sample(text, 'paygen_http_request_duration_seconds_bucket', { ...own, le: '+Inf' }) >= 2);
    assert.ok(sample(text, 'paygen_http_requests_total', { route: 'unmatched', status: '404' }) >= 1);
    // Patterns, not URLs; and nothing that names a tenant or a resource.
    for (const secret of [account.id, 'acc_doesnotexist', '/no-such-route', api.organizationId, api.apiKey]) {
      assert.ok(!text.includes(secret), `${secret} appears in the metrics`);
    }
  });

  test('counts authorizations by decision and reason', async () => {
    const account = await createAccount(api);
    const program = await createProgram(api);
    const card = (await issueNameOnlyCard(api, account, program, 1_000)).body.data;
    const before = await scrape();
    const merchant = { name: 'Shop', mcc: '5411', country: 'US' };
    const approved = await api.request('POST', '/simulator/authorizations', { body: { cardId: card.id, amount: 100, currency: 'USD', merchant, entryMode: 'chip' } });
    assert.equal(approved.status, 201, approved.text);
    assert.equal(approved.body.data.approved, true);
    const declined = await api.request('POST', '/simulator/authorizations', { body: { cardId: card.id, amount: 5_000, currency: 'USD', merchant, entryMode: 'chip' } });
    assert.equal(declined.status, 201, declined.text);
    assert.equal(declined.body.data.approved, false);
    const reason = declined.body.data.declineReason as string;
    const text = await scrape();
    const delta = (labels: Record<string, string>) =>
      sample(text, 'paygen_authorizations_total', labels) - sample(before, 'paygen_authorizations_total', labels);
    assert.equal(delta({ decision: 'approved', reason: 'none' }), 1);
    assert.equal(delta({ decision: 'declined', reason }), 1);
    const paths = sample(text, 'paygen_authorization_paths_total') - sample(before, 'paygen_authorization_paths_total');
    assert.equal(paths, 2, 'each authorization counted once by its path');
    assert.ok(!text.includes(card.id));
  });

  test('counts webhook delivery attempts by outcome, with their lag, and reads the queue depth', async () => {
    const hook = await api.request('POST', '/webhooks', { body: { url: receiver.url, events: ['account.created'] } });
    assert.equal(hook.status, 201, hook.text);
    await createAccount(api, { name: 'Delivered' });
    const queued = await scrape();
    assert.ok(sample(queued, 'paygen_job_queue_depth', { job: 'webhook-delivery' }) >= 1, 'the delivery is due');
    assert.ok(queued.includes('paygen_job_queue_depth{job="authorization-expiry"'));
    // The event is 30 s old when it is sent: its lag lands in the 60 s bucket, not the 15 s one.
    clock.advance(30_000);
    const job = createDeliveryJob({ organizationId: api.organizationId });
    assert.equal(await job.run(api.app.ctx), 1);
    receiver.answer({ status: 500, text: 'down' });
    await createAccount(api, { name: 'Refused' });
    assert.equal(await job.run(api.app.ctx), 1);
    const text = await scrape();
    const delta = (name: string, labels: Record<string, string>) => sample(text, name, labels) - sample(queued, name, labels);
    assert.equal(delta('paygen_webhook_deliveries_total', { outcome: 'succeeded' }), 1);
    assert.equal(delta('paygen_webhook_deliveries_total', { outcome: 'retrying' }), 1);
    assert.equal(delta('paygen_webhook_delivery_lag_seconds_bucket', { outcome: 'succeeded', le: '15' }), 0);
    assert.equal(delta('paygen_webhook_delivery_lag_seconds_bucket', { outcome: 'succeeded', le: '60' }), 1);
    assert.equal(delta('paygen_webhook_delivery_lag_seconds_sum', { outcome: 'succeeded' }) >= 30, true);
    assert.ok(!text.includes(hook.body.data.id) && !text.includes(receiver.url));
    assert.equal((await api.request('DELETE', `/webhooks/${hook.body.data.id}`)).status, 200);
  });

  test('reports whether API keys are cached, and where lookups were answered', async () => {
    const before = await scrape();
    for (let i = 0; i < 3; i++) assert.equal((await api.request('GET', '/accounts')).status, 200);
    const text = await scrape();
    assert.equal(sample(text, 'paygen_credential_cache_listening'), 1, 'the cache is on by default, on both databases');
    const hits = sample(text, 'paygen_credential_lookups_total', { outcome: 'hit' }) - sample(before, 'paygen_credential_lookups_total', { outcome: 'hit' });
    // On PostgreSQL another suite's key change may make one of the three a miss.
    assert.ok(hits >= (api.app.ctx.db.kind === 'pglite' ? 3 : 1), `${hits} hits`);
  });

  test('reports the database pool', async () => {
    const text = await scrape();
    assert.ok(sample(text, 'paygen_db_pool_connections', { state: 'total' }) >= 1);
    assert.ok(sample(text, 'paygen_db_pool_max_connections') >= 1);
    if (api.app.ctx.db.kind === 'postgres') {
      assert.ok(text.includes('paygen_db_pool_connections{state="idle"'));
      assert.ok(text.includes('paygen_db_pool_connections{state="waiting"'));
    }
  });

  test('without PAYGEN_METRICS_TOKEN, answers the loopback address only', async () => {
    const remote = await api.app.inject({ method: 'GET', url: '/metrics', remoteAddress: '203.0.113.7' });
    assert.equal(remote.statusCode, 403);
    assert.equal(remote.json().error.code, 'forbidden');
    const local = await api.app.inject({ method: 'GET', url: '/metrics', remoteAddress: '127.0.0.1' });
    assert.equal(local.statusCode, 200);
  });

  test('with PAYGEN_METRICS_TOKEN, needs that bearer, from anywhere; an API key is not enough', async () => {
    const guarded = await startHarness({ config: { metricsToken: 'scrape-token-0123456789' } });
    try {
      const attempts: Array<Record<string, string>> = [{}, { authorization: 'Bearer wrong-token' }, { 'x-api-key': guarded.apiKey }];
      for (const headers of attempts) {
        const res = await guarded.request('GET', '/metrics', { key: null, headers });
        assert.equal(res.status, 401, res.text);
        assert.equal(res.body.error.code, 'unauthorized');
      }
      const ok = await guarded.request('GET', '/metrics', { key: null, headers: { authorization: 'Bearer scrape-token-0123456789' } });
      assert.equal(ok.status, 200, ok.text);
      assert.match(ok.text, /^# HELP /m);
      const remote = await guarded.app.inject({
        method: 'GET', url: '/metrics', remoteAddress: '203.0.113.7', headers: { authorization: 'Bearer scrape-token-0123456789' },
      });
      assert.equal(remote.statusCode, 200);
    } finally {
      await guarded.close();
    }
  });
});

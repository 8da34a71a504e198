// Webhook delivery with several workers on one PostgreSQL (DESIGN §1, §4): deliveries are claimed
// with FOR UPDATE SKIP LOCKED, so two workers never send the same attempt at the same time, every
// event ends with exactly one successful delivery, and a worker killed mid-batch only delays the
// deliveries it held until their lease ends.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.ts';
import { ManualClock, type Clock } from '../../src/platform/clock.ts';
import { startJobs, type JobRunner } from '../../src/platform/jobs.ts';
import { createDeliveryJob } from '../../src/modules/webhooks/delivery.job.ts';
import { DELIVERY_LEASE_MS } from '../../src/modules/webhooks/retry-schedule.ts';
import { startHarness, TEST_MASTER_KEY, testDatabaseUrl, type Harness } from '../support/api.ts';
import { createAccount } from '../support/fixtures.ts';
import { startReceiver, type Receiver } from '../webhooks/receiver.ts';
import { CONCURRENT_POOL_SIZE, listAll, POSTGRES_ONLY } from './support.ts';

const EVENTS = Number(process.env.PAYGEN_WEBHOOK_TEST_EVENTS ?? 1_000);
const PARALLEL_REQUESTS = 10;
const WAIT_LIMIT_MS = 120_000;

let api: Harness;
/** The receiver's answer time while the child worker is killed. */
const SLOW_ANSWER_MS = 1_500;
let receiver: Receiver;

/** Another app on the same database (and master key, which seals the signing secrets), with no HTTP traffic: a worker. */
function workerApp(clock?: Clock): Promise<FastifyInstance> {
  return buildApp({ logger: false, clock, config: { databaseUrl: testDatabaseUrl(), masterKey: TEST_MASTER_KEY, workers: false, sandboxApiKey: `sk_boot_${randomBytes(12).toString('hex')}`, databasePoolSize: 5 } });
}

/** `count` account.updated events on one account, sent PARALLEL_REQUESTS at a time. */
async function makeEvents(count: number) {
  const account = await createAccount(api);
  for (let i = 0; i < count; i += PARALLEL_REQUESTS) {
    await Promise.all(Array.from({ length: Math.min(PARALLEL_REQUESTS, count - i) }, async (_, j) => {
      const res = await api.request('PATCH', `/accounts/${account.id}`, { body: { name: `Name ${i + j}` } });
      assert.equal(res.status, 200, res.text);
    }));
  }
  return account.id as string;
}

async function until(condition: () => Promise<boolean> | boolean, what: string) {
  const deadline = Date.now() + WAIT_LIMIT_MS;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Every delivery of the endpoint; asserts one per event, each succeeded once. */
async function assertDeliveredOnce(webhookId: string, eventIds: Set<string>) {
  const deliveries = await listAll(api, `/webhooks/${webhookId}/deliveries`);
  assert.equal(deliveries.length, eventIds.size, 'one delivery per event');
  assert.deepEqual(new Set(deliveries.map((d) => d.eventId)), eventIds);
  for (const d of deliveries) {
    assert.equal(d.status, 'succeeded', JSON.stringify(d));
    assert.equal(d.attempts.filter((a: any) => a.succeeded).length, 1, `${d.id}: exactly one successful attempt`);
    assert.deepEqual(d.attempts.map((a: any) => a.attempt), d.attempts.map((_: unknown, i: number) => i + 1), `${d.id}: attempt numbers in order, none twice`);
  }
  return deliveries;
}

async function setUp(name: string) {
  // One endpoint at a time: another one on the same receiver would get the same webhook-ids.
  for (const hook of (await api.request('GET', '/webhooks?limit=100')).body.data) {
    assert.equal((await api.request('DELETE', `/webhooks/${hook.id}`)).status, 200);
  }
  const hook = await api.request('POST', '/webhooks', { body: { url: receiver.url, events: ['account.updated'], description: name } });
  assert.equal(hook.status, 201, hook.text);
  receiver.secrets = [hook.body.data.secret];
  const accountId = await makeEvents(EVENTS);
  const events = await listAll(api, `/events?resourceId=${accountId}&type=account.updated`);
  assert.equal(events.length, EVENTS);
  return { webhookId: hook.body.data.id as string, eventIds: new Set(events.map((e) => e.id as string)) };
}

const ours = (eventIds: Set<string>) => receiver.received.filter((r) => eventIds.has(r.headers['webhook-id']));

describe('webhook delivery with several workers', { skip: POSTGRES_ONLY }, () => {
  before(async () => {
    // The API instance runs no workers: only the workers under test deliver.
    api = await startHarness({ config: { workers: false, databasePoolSize: CONCURRENT_POOL_SIZE, rateLimitPerMinute: 1_000_000 } });
    receiver = await startReceiver();
  });
  after(async () => {
    await receiver.close();
    await api.checkLedger();
    await api.close();
  });

  test(`two workers, ${EVENTS} events: each delivered exactly once, never two attempts at once`, async () => {
    const { webhookId, eventIds } = await setUp('two workers');
    receiver.maxConcurrentPerMessage = 0;
    const apps = [await workerApp(), await workerApp()];
    // Scoped to this suite's organization: other suites share the database and have deliveries too.
    const runners: JobRunner[] = apps.map((app) => startJobs(app.ctx, [createDeliveryJob({ organizationId: api.organizationId })], app.log));
    try {
      await until(() => new Set(ours(eventIds).map((r) => r.headers['webhook-id'])).size === EVENTS, 'every event to arrive');
    } finally {
      await Promise.all(runners.map((r) => r.stop()));
      await Promise.all(apps.map((a) => a.close()));
    }
    const got = ours(eventIds);
    assert.equal(got.length, EVENTS, 'no event was sent twice');
    assert.ok(got.every((r) => r.verifiedWith.length === 1), 'every delivery verifies');
    assert.equal(receiver.maxConcurrentPerMessage, 1, 'no message was in flight twice at once');
    await assertDeliveredOnce(webhookId, eventIds);
  });

  test('a worker killed mid-batch: its deliveries go out after their lease, the rest at once', async () => {
    const { webhookId, eventIds } = await setUp('killed worker');
    receiver.maxConcurrentPerMessage = 0;
    // Slow answers keep batches in flight, so the kill lands mid-batch.
    receiver.answer = () => ({ status: 200, body: 'ok', delayMs: 20 });
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/worker.ts'], {
      env: { ...process.env, DATABASE_URL: testDatabaseUrl(), PAYGEN_MASTER_KEY: TEST_MASTER_KEY, LOG_LEVEL: 'error', PAYGEN_SANDBOX_API_KEY: `sk_boot_${randomBytes(12).toString('hex')}` },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    const clock = new ManualClock();
    const survivorApp = await workerApp(clock);
    let survivor: JobRunner | undefined;
    try {
      await until(() => ours(eventIds).length >= EVENTS / 5, 'the child worker to deliver a fifth');
      // From now on the receiver answers slowly, so the child's next batch is surely in flight
      // (claimed, sent, unanswered) when it is killed.
      receiver.answer = () => ({ status: 200, body: 'ok', delayMs: SLOW_ANSWER_MS });
      await new Promise((resolve) => setTimeout(resolve, SLOW_ANSWER_MS / 3));
      child.kill('SIGKILL');
      await exited;
      // The receiver finishes the dead worker's half-sent requests before the survivor starts:
      // an overlap with those would not be two live attempts.
      await new Promise((resolve) => setTimeout(resolve, SLOW_ANSWER_MS + 500));
      receiver.answer = () => ({ status: 200, body: 'ok', delayMs: 20 });
      survivor = startJobs(survivorApp.ctx, [createDeliveryJob({ organizationId: api.organizationId })], survivorApp.log);
      // What the killed worker held stays leased until its claim time + the lease: the survivor's
      // clock jumps past that instead of the test sleeping a minute.
      clock.advance(Date.now() - clock.now().getTime() + DELIVERY_LEASE_MS + 1_000);
      await until(async () => {
        const pending = await survivorApp.ctx.db.query<{ count: number }>(
          `SELECT count(*)::int AS count FROM webhook_deliveries WHERE endpoint_id = $1 AND status <> 'succeeded'`, [webhookId]);
        return pending[0].count === 0;
      }, 'every delivery to succeed');
    } finally {
      child.kill('SIGKILL');
      await survivor?.stop();
      await survivorApp.close();
      receiver.answer = () => ({ status: 200, body: 'ok' });
    }
    const deliveries = await assertDeliveredOnce(webhookId, eventIds);
    assert.equal(new Set(ours(eventIds).map((r) => r.headers['webhook-id'])).size, EVENTS, 'every event arrived');
    assert.equal(receiver.maxConcurrentPerMessage, 1, 'no message was in flight twice at once');
    // Deliveries the killed worker held show the lost attempt, then the survivor's success.
    const lost = deliveries.filter((d) => d.attempts.length > 1);
    assert.ok(lost.length > 0, 'the kill landed mid-batch: some deliveries were held by the dead worker');
    for (const d of lost) assert.match(d.attempts[0].error, /lease expired/);
    assert.ok(ours(eventIds).length - EVENTS <= lost.length, 'a message arrives twice only when its first worker died after sending it');
  });
});

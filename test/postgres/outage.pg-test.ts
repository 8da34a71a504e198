// A database outage under load: the app reaches PostgreSQL through a TCP proxy the test cuts while
// keyed deposits run. During the outage every request answers within a bound, in the envelope:
// 503 service_unavailable with Retry-After (logged as a warning, not as an unhandled error),
// /ready answers 503 not_ready and /health stays 200. When the proxy forwards again the same app,
// not restarted, serves again; every deposit retried with its key is applied exactly once.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import * as ledger from '../../src/modules/ledger/ledger.service.ts';
import { openDb, type Db } from '../../src/platform/db.ts';
import { startHarness, testDatabaseUrl, type Harness, type Response } from '../support/api.ts';
import { createAccount } from '../support/fixtures.ts';
import { eventually, startDbProxy, type DbProxy } from './processes.ts';
import { POSTGRES_ONLY, tally } from './support.ts';

/** The app's wait for a connection: the outage answers come within about this. */
const CONNECT_TIMEOUT_MS = 1_000;
/** A hang detector, far above the connect timeout (the machine is shared), not a latency check. */
const ANSWER_BOUND_MS = 15_000;
const LANES = 4;
const SUCCESSES_BEFORE_CUT = 20;
/** Answers received while the database is away, per lane, before it comes back. */
const OUTAGE_ANSWERS_PER_LANE = 3;
const MAX_ATTEMPTS_PER_KEY = 40;

interface Deposit { key: string; amount: number; answers: Response[] }

describe('a database outage under load', { skip: POSTGRES_ONLY }, () => {
  let proxy: DbProxy;
  let api: Harness;
  let direct: Db;
  const logLines: string[] = [];

  before(async () => {
    proxy = await startDbProxy();
    const stream = new Writable({ write(chunk, _encoding, done) { logLines.push(...String(chunk).split('\n').filter(Boolean)); done(); } });
    api = await startHarness({
      logger: { stream },
      config: {
        databaseUrl: proxy.databaseUrl, databaseConnectTimeoutMs: CONNECT_TIMEOUT_MS, databasePoolSize: 6,
        sandboxOpeningBalance: 0, rateLimitPerMinute: 1_000_000, logLevel: 'warn',
      },
    });
    direct = await openDb({ databaseUrl: testDatabaseUrl(), dataDir: '', poolSize: 2 });
  });
  after(async () => {
    proxy?.restore();
    await api?.close();
    await proxy?.close();
    await direct?.close();
  });

  test('503 service_unavailable within a bound, /ready 503, /health 200, then everything resumes', async (t) => {
    const account = await createAccount(api, { name: 'Outage wallet' });
    const deposits: Deposit[] = [];
    const send = (d: Deposit) => api.request('POST', `/simulator/accounts/${account.id}/deposits`,
      { body: { amount: d.amount }, headers: { 'idempotency-key': d.key } });
    const timed = async (d: Deposit) => {
      const started = Date.now();
      const res = await send(d);
      const elapsed = Date.now() - started;
      assert.ok(elapsed < ANSWER_BOUND_MS, `a deposit took ${elapsed} ms to answer`);
      d.answers.push(res);
      return res;
    };

    // Load; the proxy is cut after enough successes, and the lanes go on through the outage.
    let successes = 0;
    let cut = false;
    const outageAnswers: Response[] = [];
    const lanes = Array.from({ length: LANES }, async () => {
      for (let during = 0; during < OUTAGE_ANSWERS_PER_LANE;) {
        const d: Deposit = { key: `outage-${randomBytes(8).toString('hex')}`, amount: 1_000 + deposits.length, answers: [] };
        deposits.push(d);
        const wasCut = cut;
        const res = await timed(d);
        if (wasCut) { outageAnswers.push(res); during++; }
        if (res.status === 201 && ++successes >= SUCCESSES_BEFORE_CUT && !cut) {
          cut = true;
          proxy.cut();
        }
      }
    });
    await Promise.all(lanes);
    t.diagnostic(`before the cut: ${successes} deposits; during the outage: ${JSON.stringify(tally(outageAnswers))}`);

    // Outage: every answer is a 503 in the envelope, with Retry-After.
    for (const res of outageAnswers) {
      assert.equal(res.status, 503, res.text);
      assert.equal(res.body.error.code, 'service_unavailable');
      assert.equal(res.body.data, null);
      assert.match(res.body.requestId, /^req_/);
      assert.equal(res.headers.get('retry-after'), '1');
    }
    const ready = await api.request('GET', '/ready', { key: null });
    assert.equal(ready.status, 503, ready.text);
    assert.equal(ready.body.error.code, 'not_ready');
    assert.equal((await api.request('GET', '/health', { key: null })).status, 200);
    const read = await api.request('GET', `/accounts/${account.id}`);
    assert.equal(read.status, 503, read.text);

    // Back: the same app serves again, without a restart.
    proxy.restore();
    await eventually('/ready after the database came back', async () => (await api.request('GET', '/ready', { key: null })).status === 200);

    // Every deposit that did not get its 201 is retried with its key. A key whose request died
    // with its connection stays `running` (or `committed`) until its lease ends (idempotency.ts,
    // "Crashes"): a retry meets 409 idempotency_key_in_use until then. The lease of those keys is
    // ended here instead of waiting IDEMPOTENCY_LEASE_MS.
    const open = () => deposits.filter((d) => d.answers.at(-1)?.status !== 201);
    const inUse: Deposit[] = [];
    for (const d of open()) {
      const res = await timed(d);
      assert.ok(res.status === 201 || (res.status === 409 && res.body.error.code === 'idempotency_key_in_use'), res.text);
      if (res.status === 409) inUse.push(d);
    }
    const leased = await direct.query<{ state: string }>(
      `UPDATE idempotency_keys SET locked_until = now() - interval '1 second'
       WHERE organization_id = $1 AND state IN ('running', 'committed') RETURNING state`, [api.organizationId]);
    t.diagnostic(`keys left by requests cut off: ${inUse.length} answered 409; leases ended: ${JSON.stringify(leased.map((r) => r.state))}`);
    for (const d of open()) {
      for (let attempt = 0; attempt < MAX_ATTEMPTS_PER_KEY && d.answers.at(-1)?.status !== 201; attempt++) await timed(d);
      assert.equal(d.answers.at(-1)?.status, 201, `${d.key}: ${d.answers.at(-1)?.text}`);
    }

    // Exactly once: the deposits the ledger shows are exactly the keys, each once.
    const events = await direct.query<{ amount: number }>(
      `SELECT (data->>'amount')::bigint AS amount FROM events WHERE organization_id = $1 AND resource_id = $2
       AND type = 'account.deposit_received' ORDER BY 1`, [api.organizationId, account.id]);
    assert.deepEqual(events.map((e) => e.amount), deposits.map((d) => d.amount).sort((a, b) => a - b));
    const balance = (await api.request('GET', `/accounts/${account.id}`)).body.data.balance;
    assert.equal(balance.posted, deposits.reduce((sum, d) => sum + d.amount, 0));
    const check = await ledger.check(direct, api.organizationId);
    assert.ok(check.ok, check.problems.join('\n'));

    // Logged as warnings naming the cause, never as an unhandled error.
    const logs = logLines.map((line) => JSON.parse(line) as { level: number; msg: string; code?: string; cause?: { message: string } });
    const warnings = logs.filter((l) => l.msg === 'answered 503 service_unavailable');
    assert.ok(warnings.length >= outageAnswers.length, `${warnings.length} warnings for ${outageAnswers.length} 503s`);
    assert.ok(warnings.every((l) => l.level === 40 && typeof l.cause?.message === 'string' && l.cause.message.length > 0));
    assert.deepEqual(logs.filter((l) => l.msg === 'unhandled error'), []);
  });
});

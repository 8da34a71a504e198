// Graceful shutdown of real processes (platform/shutdown.ts). SIGTERM to a server while an
// authorization waits on a slow decision webhook: the server stops accepting connections at once,
// the authorization still answers 201, and the process exits 0. SIGTERM to a worker while a
// webhook delivery waits on a slow receiver: the delivery is finished and recorded as succeeded,
// and the worker exits 0. Both within PAYGEN_SHUTDOWN_TIMEOUT_MS.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import * as ledger from '../../src/modules/ledger/ledger.service.ts';
import { openDb } from '../../src/platform/db.ts';
import { createAccount, createProgram, issueNameOnlyCard } from '../support/fixtures.ts';
import { startReceiver, type Receiver } from '../support/receiver.ts';
import { clientFor, createOwnDatabase, eventually, kill, startServer, startWorker, type PaygenProcess } from './processes.ts';
import { POSTGRES_ONLY } from './support.ts';

const SHUTDOWN_TIMEOUT_MS = 20_000;
/** The receiver's pause: long enough that the shutdown starts while the call is in flight. */
const SLOW_ANSWER_MS = 3_000;
const MERCHANT = { name: 'Blue Bottle Coffee', mcc: '5812', city: 'San Francisco', country: 'US', id: 'mch_1' };

/** Whether a new TCP connection to the server's port is refused. */
function refused(url: string): Promise<boolean> {
  const { port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), '127.0.0.1');
    socket.once('connect', () => { socket.destroy(); resolve(false); });
    socket.once('error', () => resolve(true));
  });
}

/** The exit of a process, or a failure if it has not exited within the shutdown bound and a margin. */
async function exitOf(p: PaygenProcess) {
  const timeout = sleep(SHUTDOWN_TIMEOUT_MS + 10_000).then(() => 'still running' as const);
  const result = await Promise.race([p.exited, timeout]);
  assert.notEqual(result, 'still running', 'the process did not exit after SIGTERM');
  return result as Awaited<PaygenProcess['exited']>;
}

describe('graceful shutdown on SIGTERM', { skip: POSTGRES_ONLY }, () => {
  let database: Awaited<ReturnType<typeof createOwnDatabase>>;
  let receiver: Receiver;
  const processes: PaygenProcess[] = [];
  const env = { PAYGEN_SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS), LOG_LEVEL: 'info' };

  before(async () => {
    database = await createOwnDatabase();
    receiver = await startReceiver();
  });
  after(async () => {
    for (const p of processes) await kill(p);
    await receiver?.close();
    await database?.drop();
  });

  test('a server refuses new connections, finishes the authorization in flight and exits 0', async () => {
    const server = await startServer(database.url, env);
    processes.push(server);
    const api = await clientFor(server.url);
    const account = await createAccount(api);
    assert.equal((await api.request('POST', `/simulator/accounts/${account.id}/deposits`, { body: { amount: 50_000 } })).status, 201);
    const program = await createProgram(api, { authorizationWebhook: { url: `${receiver.url}/decide`, timeoutMs: 5_000, fallback: 'decline' } });
    const card = await issueNameOnlyCard(api, account, program, 10_000);
    assert.equal(card.status, 201, card.text);

    receiver.answer({ json: { approved: true }, delayMs: SLOW_ANSWER_MS });
    const seen = receiver.requests.length;
    let answered = false;
    const authorization = api.request('POST', '/simulator/authorizations', {
      body: { cardId: card.body.data.id, amount: 2_500, currency: 'USD', merchant: MERCHANT, entryMode: 'contactless' },
    }).finally(() => { answered = true; });
    await receiver.waitFor(seen + 1, 10_000);
    server.child.kill('SIGTERM');

    await eventually('new connections refused after SIGTERM', () => refused(server.url));
    assert.equal(answered, false, 'the listener closed while the authorization was still in flight');
    const res = await authorization;
    assert.equal(res.status, 201, res.text);
    assert.equal(res.body.data.approved, true, res.text);
    assert.deepEqual(await exitOf(server), { code: 0, signal: null }, server.output.join('\n'));
    assert.ok(server.output.some((line) => line.includes('"msg":"stopped"')), server.output.join('\n'));

    const db = await openDb({ databaseUrl: database.url, dataDir: '', poolSize: 1 });
    try {
      const [row] = await db.query<{ status: string; held: number }>('SELECT status, held_amount AS held FROM authorizations WHERE id = $1', [res.body.data.id]);
      assert.deepEqual(row, { status: 'pending', held: 2_500 });
      const check = await ledger.check(db, api.organizationId);
      assert.ok(check.ok, check.problems.join('\n'));
    } finally {
      await db.close();
    }
  });

  test('a worker finishes the webhook delivery in flight, records it and exits 0', async () => {
    const [server, worker] = await Promise.all([startServer(database.url), startWorker(database.url, env)]);
    processes.push(server, worker);
    const api = await clientFor(server.url);
    const created = await api.request('POST', '/webhooks', { body: { url: `${receiver.url}/hooks`, events: ['*'] } });
    assert.equal(created.status, 201, created.text);
    const webhookId: string = created.body.data.id;
    receiver.secret = created.body.data.secret;
    receiver.answer({ json: { ok: true }, delayMs: SLOW_ANSWER_MS });

    const seen = receiver.requests.length;
    assert.equal((await api.request('POST', `/webhooks/${webhookId}/test`)).status, 202);
    const [delivered] = (await receiver.waitFor(seen + 1, 15_000)).slice(seen);
    assert.equal(delivered.path, '/hooks');
    assert.ok(delivered.verified, delivered.verifyError);
    worker.child.kill('SIGTERM');
    assert.deepEqual(await exitOf(worker), { code: 0, signal: null }, worker.output.join('\n'));
    assert.ok(worker.output.some((line) => line.includes('worker stopped')), worker.output.join('\n'));

    const deliveries = await api.request('GET', `/webhooks/${webhookId}/deliveries`);
    assert.equal(deliveries.status, 200, deliveries.text);
    assert.equal(deliveries.body.data.length, 1);
    const [delivery] = deliveries.body.data;
    assert.equal(delivery.status, 'succeeded', JSON.stringify(delivery));
    assert.deepEqual(delivery.attempts.map((a: { statusCode: number; succeeded: boolean }) => [a.statusCode, a.succeeded]), [[200, true]]);
    assert.equal(receiver.requests.length, seen + 1, 'delivered once');
  });
});

// The proof of src/platform/idempotency.ts "Crashes" with a real crash: a server process on
// PostgreSQL is killed with SIGKILL while keyed deposits are in flight, a new one starts on the
// same database, and every key is retried until it answers. Every key ends `completed`, every
// deposit is applied exactly once, and the ledger balances.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, test } from 'node:test';
import * as ledger from '../../src/modules/ledger/ledger.service.ts';
import { openDb, type Db } from '../../src/platform/db.ts';
import { send, testDatabaseUrl, type Response } from '../support/api.ts';
import { freePort, kill, startServer, type PaygenProcess } from './processes.ts';
import { POSTGRES_ONLY } from './support.ts';

const ACCOUNTS = 4;
const DEPOSITS = 160;
const IN_FLIGHT = 12;
/** Answers received before the kill: enough load that requests are in flight at every stage. */
const ANSWERS_BEFORE_KILL = 40;
/** A retry can meet a key whose first attempt is still finishing on the new server: bounded. */
const MAX_RETRIES_PER_KEY = 20;
const RETRY_PAUSE_MS = 50;

describe('a server killed with SIGKILL under keyed deposits', { skip: POSTGRES_ONLY }, () => {
  const children: PaygenProcess[] = [];
  let db: Db | undefined;
  after(async () => {
    for (const child of children) await kill(child);
    await db?.close();
  });

  test(`${DEPOSITS} keyed deposits, a kill mid-load, a restart and a retry of every key: each applied once`, async (t) => {
    const port = await freePort();
    const baseUrl = `http://127.0.0.1:${port}`;
    children.push(await startServer(testDatabaseUrl(), { PAYGEN_DATABASE_POOL_SIZE: '10' }, port));

    const email = `crash-${randomBytes(6).toString('hex')}@example.com`;
    const signup = await send(baseUrl, 'POST', '/auth/signup', { body: { email, password: 'correct horse battery', organizationName: 'Crash test' }, key: null }, '');
    assert.equal(signup.status, 201, signup.text);
    const organizationId: string = signup.body.data.organization.id;
    const created = await send(baseUrl, 'POST', '/api-keys', { body: { name: 'crash' }, bearer: signup.body.data.token }, '');
    const apiKey: string = created.body.data.key;
    const call = (method: string, path: string, body?: unknown, key?: string): Promise<Response> =>
      send(baseUrl, method, path, { body, headers: key ? { 'idempotency-key': key } : {} }, apiKey);
    const accounts: string[] = [];
    for (let i = 0; i < ACCOUNTS; i++) {
      const res = await call('POST', '/accounts', { ownerType: 'business', ownerId: 'crash', name: `Crash ${i}`, type: 'checking', category: 'fiat', currency: 'USD' });
      assert.equal(res.status, 201, res.text);
      accounts.push(res.body.data.id);
    }
    // Each deposit has its own amount, so that the ledger shows which ones ran and how often.
    const deposits = Array.from({ length: DEPOSITS }, (_, i) => ({ key: `crash-${randomBytes(8).toString('hex')}`, accountId: accounts[i % ACCOUNTS], amount: 1_000 + i }));
    const deposit = (d: (typeof deposits)[number]) => call('POST', `/simulator/accounts/${d.accountId}/deposits`, { amount: d.amount }, d.key);

    // Load, and the kill once enough answers came back.
    let next = 0;
    let answered = 0;
    let killed = false;
    const lanes = Array.from({ length: IN_FLIGHT }, async () => {
      while (!killed && next < deposits.length) {
        const d = deposits[next++];
        await deposit(d).then(() => { answered++; }, () => undefined);
        if (answered >= ANSWERS_BEFORE_KILL && !killed) {
          killed = true;
          await kill(children[0]);
        }
      }
    });
    await Promise.all(lanes);
    t.diagnostic(`${answered} answers before the kill, ${next} deposits sent`);

    // The killed process held its claims; its leases would end within IDEMPOTENCY_LEASE_MS.
    // Waiting that long proves nothing more, so the dead process's leases are ended now.
    db = await openDb({ databaseUrl: testDatabaseUrl(), dataDir: '', poolSize: 2 });
    const leased = await db.query<{ state: string; n: number }>(
      `UPDATE idempotency_keys SET locked_until = now() - interval '1 second'
       WHERE organization_id = $1 AND state IN ('running', 'committed') RETURNING state`, [organizationId]);
    t.diagnostic(`keys left by the dead process: ${leased.filter((r) => r.state === 'running').length} running, ${leased.filter((r) => r.state === 'committed').length} committed`);

    children.push(await startServer(testDatabaseUrl(), { PAYGEN_DATABASE_POOL_SIZE: '10' }, port));
    const statuses: Record<string, number> = {};
    for (const d of deposits) {
      let res = await deposit(d);
      for (let retry = 0; res.status === 409 && retry < MAX_RETRIES_PER_KEY; retry++) {
        await sleep(RETRY_PAUSE_MS);
        res = await deposit(d);
      }
      assert.equal(res.status, 201, `${d.key}: ${res.text}`);
      const kind = res.headers.get('idempotent-replayed') ? (res.body.message.includes('not kept') ? 'rebuilt' : 'replayed') : 'executed';
      statuses[kind] = (statuses[kind] ?? 0) + 1;
    }
    t.diagnostic(`retries: ${JSON.stringify(statuses)}`);

    const keys = await db.query<{ state: string }>('SELECT state FROM idempotency_keys WHERE organization_id = $1', [organizationId]);
    assert.equal(keys.length, DEPOSITS, 'one key per deposit');
    assert.deepEqual([...new Set(keys.map((k) => k.state))], ['completed']);
    for (const accountId of accounts) {
      const events = await call('GET', `/events?resourceId=${accountId}&type=account.deposit_received&limit=100`);
      assert.equal(events.status, 200, events.text);
      const applied = (events.body.data as Array<{ data: { amount: number } }>).map((e) => e.data.amount).sort((a, b) => a - b);
      const expected = deposits.filter((d) => d.accountId === accountId).map((d) => d.amount);
      assert.deepEqual(applied, expected, `each deposit into ${accountId} applied exactly once`);
      const balance = (await call('GET', `/accounts/${accountId}`)).body.data.balance;
      assert.equal(balance.posted, expected.reduce((sum, amount) => sum + amount, 0));
    }
    const check = await ledger.check(db, organizationId);
    assert.ok(check.ok, check.problems.join('\n'));
  });
});

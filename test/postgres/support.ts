// Shared pieces of the PostgreSQL concurrency suites (test/postgres/*.pg-test.ts). Those files are
// collected only by `npm run test:pg`; run by hand on PGlite they skip with the message below,
// because PGlite has one connection and cannot race (DESIGN §3).
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import pg from 'pg';
import type { BuildOptions } from '../../src/app.ts';
import { onPostgres, startHarness, type Harness, type Response } from '../support/api.ts';
import { createAccount } from '../support/fixtures.ts';

export const POSTGRES_ONLY = onPostgres()
  ? false
  : 'concurrency suite: runs on PostgreSQL only (npm run test:pg, or set PAYGEN_TEST_DATABASE_URL=postgres://…)';

/**
 * More connections than the default pool of 10, so that more transactions are in flight at
 * once and races are likely. Two suites run at a time, well below PostgreSQL's 100 connections.
 */
export const CONCURRENT_POOL_SIZE = 20;

/** A harness whose new accounts open empty, so that every cent in them is put there by the test. */
export function startConcurrencyHarness(options: Pick<BuildOptions, 'logger'> = {}): Promise<Harness> {
  return startHarness({ ...options, config: { sandboxOpeningBalance: 0, databasePoolSize: CONCURRENT_POOL_SIZE, rateLimitPerMinute: 1_000_000 } });
}

/**
 * Inside a describe: a concurrency harness started before the suite's tests, and after them the
 * ledger check and the close. `onStart` receives the harness.
 */
export function useConcurrencyHarness(onStart: (api: Harness) => void, options: Pick<BuildOptions, 'logger'> = {}) {
  let api: Harness | undefined;
  before(async () => { api = await startConcurrencyHarness(options); onStart(api); });
  after(async () => {
    if (!api) return;
    try {
      await api.checkLedger();
    } finally {
      await api.close();
    }
  });
}

/** A USD account holding exactly `amount`, funded by one simulated deposit. */
export async function accountHolding(api: Harness, amount: number, name = 'Concurrency wallet') {
  const account = await createAccount(api, { name });
  assert.deepEqual(account.balance, { available: 0, pending: 0, posted: 0 }, 'the account must open empty (sandboxOpeningBalance: 0)');
  if (amount > 0) {
    const deposit = await api.request('POST', `/simulator/accounts/${account.id}/deposits`, { body: { amount } });
    assert.equal(deposit.status, 201, deposit.text);
  }
  const balance = await balanceOf(api, account.id);
  assert.deepEqual(balance, { available: amount, pending: 0, posted: amount });
  return account as { id: string; currency: string };
}

export async function balanceOf(api: Harness, accountId: string): Promise<{ available: number; pending: number; posted: number }> {
  const res = await api.request('GET', `/accounts/${accountId}`);
  assert.equal(res.status, 200, res.text);
  return res.body.data.balance;
}

/** Every item of a list endpoint, following cursors (path may carry filters already). */
export async function listAll(api: Harness, path: string): Promise<any[]> {
  const items: any[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 1000; page++) {
    const sep = path.includes('?') ? '&' : '?';
    const res: Response = await api.request('GET', `${path}${sep}limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    assert.equal(res.status, 200, res.text);
    items.push(...res.body.data);
    cursor = res.body.meta.nextCursor;
    if (!cursor) return items;
  }
  throw new Error(`more than 1000 pages at ${path}`);
}

/** "201×20 422:insufficient_funds×30": a readable tally of responses for assertion messages. */
export function tally(responses: Response[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of responses) {
    const key = r.status >= 400 ? `${r.status}:${r.body?.error?.code ?? r.text.slice(0, 80)}` : String(r.status);
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

/** Fails with the first 5xx body, which names the bug far better than a count. */
export function assertNoServerErrors(responses: Response[]) {
  const broken = responses.filter((r) => r.status >= 500);
  assert.equal(broken.length, 0, `${broken.length} responses were 5xx; first: ${broken[0]?.text}`);
}

/**
 * Counts the statements every pg client of this process sends while `fn` runs (the app runs in
 * this process), and of those the ones sent while the same client still waited for an earlier
 * answer (pipelined: no round trip of their own); `texts` has each statement's SQL.
 */
export async function statementsDuring(fn: () => Promise<void>) {
  const original = pg.Client.prototype.query;
  const waiting = new Map<pg.Client, number>();
  const counts = { statements: 0, pipelined: 0, texts: [] as string[] };
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    counts.statements++;
    const config = args[0] as string | { text?: string } | undefined;
    counts.texts.push(typeof config === 'string' ? config : config?.text ?? '');
    if ((waiting.get(this) ?? 0) > 0) counts.pipelined++;
    waiting.set(this, (waiting.get(this) ?? 0) + 1);
    const answered = () => waiting.set(this, waiting.get(this)! - 1);
    // pg-pool passes a callback (and gets no promise back): wrap it.
    const last = args.length - 1;
    if (typeof args[last] === 'function') {
      const callback = args[last] as (...a: unknown[]) => void;
      args[last] = (...a: unknown[]) => { answered(); callback(...a); };
    }
    const result = (original as (...a: unknown[]) => Promise<unknown> | undefined).apply(this, args);
    result?.then(answered, answered);
    return result;
  } as typeof original;
  try {
    await fn();
  } finally {
    pg.Client.prototype.query = original;
  }
  return counts;
}

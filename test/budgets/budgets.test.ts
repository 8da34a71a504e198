// Budgets over HTTP: create, list, get, update, close; every refusal with its code and nothing
// left behind; events in the same transaction; another organization's budgets answer 404.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startHarness, type Harness } from '../support/api.ts';
import { createAccount } from '../support/fixtures.ts';
import { createBudget } from './helpers.ts';

let api: Harness;
let account: { id: string };
before(async () => {
  api = await startHarness();
  account = await createAccount(api);
});
after(async () => { await api.checkLedger(); await api.close(); });

const eventsOf = async (id: string) => {
  const res = await api.request('GET', `/events?resourceId=${id}&sort=createdAt`);
  assert.equal(res.status, 200, res.text);
  return res.body.data as Array<{ type: string; sequence: number; data: any; previousAttributes: any }>;
};
const countBudgets = async () => {
  const res = await api.request('GET', '/budgets?limit=100');
  assert.equal(res.status, 200, res.text);
  return res.body.data.length as number;
};

describe('creating budgets', () => {
  test('a budget opens active with nothing spent, its current period and a budget.created event', async () => {
    const before = Date.now();
    const res = await api.request('POST', '/budgets', {
      body: { accountId: account.id, name: 'Marketing team', currency: 'usd', limit: { amount: 500_000, interval: 'monthly' } },
    });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.body.message, 'Budget created successfully.');
    const budget = res.body.data;
    assert.match(budget.id, /^bud_[0-9a-z]{26}$/);
    const now = new Date();
    const monthStart = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1)).toISOString();
    const monthEnd = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1)).toISOString();
    assert.deepEqual({ ...budget, id: undefined, createdAt: undefined, updatedAt: undefined }, {
      id: undefined, accountId: account.id, name: 'Marketing team', currency: 'USD', limit: { amount: 500_000, interval: 'monthly' },
      status: 'active', spent: 0, remaining: 500_000, period: { start: monthStart, end: monthEnd },
      createdAt: undefined, updatedAt: undefined, closedAt: null,
    });
    assert.ok(Date.parse(budget.createdAt) >= before - 1000);
    assert.equal(budget.updatedAt, budget.createdAt);

    const events = await eventsOf(budget.id);
    assert.deepEqual(events.map((e) => [e.type, e.sequence]), [['budget.created', 1]]);
    assert.deepEqual(events[0].data, budget);
    const got = await api.request('GET', `/budgets/${budget.id}`);
    assert.equal(got.status, 200, got.text);
    assert.deepEqual(got.body.data, budget);
  });

  test('every interval is accepted; per_transaction has no period and all_time no end', async () => {
    const perTransaction = await createBudget(api, account.id, { limit: { amount: 2_500, interval: 'per_transaction' } });
    assert.deepEqual([perTransaction.spent, perTransaction.remaining, perTransaction.period], [0, 2_500, null]);
    const allTime = await createBudget(api, account.id, { limit: { amount: 2_500, interval: 'all_time' } });
    assert.deepEqual(allTime.period, { start: allTime.createdAt, end: null });
    for (const interval of ['daily', 'weekly', 'yearly']) {
      const budget = await createBudget(api, account.id, { limit: { amount: 1, interval } });
      assert.equal(budget.limit.interval, interval);
      assert.ok(Date.parse(budget.period.start) <= Date.parse(budget.createdAt) && Date.parse(budget.createdAt) < Date.parse(budget.period.end), interval);
    }
  });

  test('the account must exist in the organization, be active and hold the budget\'s currency', async () => {
    const other = await api.otherOrganization();
    const theirs = await createAccount(api, {}, other.apiKey);
    const eur = await createAccount(api, { currency: 'EUR' });
    const frozen = await createAccount(api);
    assert.equal((await api.request('PATCH', `/accounts/${frozen.id}`, { body: { status: 'frozen' } })).status, 200);
    const cases: Array<[Record<string, unknown>, number, string, string]> = [
      [{ accountId: 'acc_01jd0000000000000000000000' }, 422, 'account_not_found', 'accountId'],
      [{ accountId: theirs.id }, 422, 'account_not_found', 'accountId'],
      [{ accountId: frozen.id }, 422, 'account_not_active', 'accountId'],
      [{ accountId: eur.id }, 422, 'currency_mismatch', 'currency'],
      [{ currency: 'ABC' }, 422, 'invalid_currency', 'currency'],
    ];
    const count = await countBudgets();
    for (const [overrides, status, code, field] of cases) {
      const res = await api.request('POST', '/budgets', {
        body: { accountId: account.id, name: 'x', currency: 'USD', limit: { amount: 100, interval: 'daily' }, ...overrides },
      });
      assert.equal(res.status, status, `${JSON.stringify(overrides)}: ${res.text}`);
      assert.equal(res.body.error.code, code, res.text);
      assert.equal(res.body.error.details[0].field, field, res.text);
    }
    assert.equal(await countBudgets(), count, 'no budget was left behind');
    const theirBudgets = await api.request('GET', '/budgets', { key: other.apiKey });
    assert.deepEqual(theirBudgets.body.data, []);
  });

  test('malformed bodies are refused with the field named, amounts with invalid_amount', async () => {
    const base = { accountId: account.id, name: 'x', currency: 'USD', limit: { amount: 100, interval: 'daily' } };
    const cases: Array<[unknown, string, string]> = [
      [{ ...base, limit: { amount: 0, interval: 'daily' } }, 'invalid_amount', 'limit.amount'],
      [{ ...base, limit: { amount: -5, interval: 'daily' } }, 'invalid_amount', 'limit.amount'],
      [{ ...base, limit: { amount: 10.5, interval: 'daily' } }, 'invalid_amount', 'limit.amount'],
      [{ ...base, limit: { amount: 2 ** 53, interval: 'daily' } }, 'invalid_amount', 'limit.amount'],
      [{ ...base, limit: { amount: 100, interval: 'hourly' } }, 'validation_failed', 'limit.interval'],
      [{ ...base, limit: { amount: 100 } }, 'validation_failed', 'limit.interval'],
      [{ ...base, name: '' }, 'validation_failed', 'name'],
      [{ ...base, name: 'n'.repeat(101) }, 'validation_failed', 'name'],
      [{ ...base, accountId: undefined }, 'validation_failed', 'accountId'],
      [{ ...base, budgetOwner: 'me' }, 'validation_failed', 'budgetOwner'],
      [{ ...base, limit: { amount: 100, interval: 'daily', rollover: true } }, 'validation_failed', 'limit.rollover'],
    ];
    const count = await countBudgets();
    for (const [body, code, field] of cases) {
      const res = await api.request('POST', '/budgets', { body });
      assert.equal(res.status, 422, `${JSON.stringify(body)}: ${res.text}`);
      assert.equal(res.body.error.code, code, res.text);
      assert.ok(res.body.error.details.some((d: any) => d.field === field), `${field} in ${res.text}`);
    }
    assert.equal(await countBudgets(), count);
  });

  test('an Idempotency-Key replays the same budget instead of creating a second one', async () => {
    const body = { accountId: account.id, name: 'Travel', currency: 'USD', limit: { amount: 9_000, interval: 'weekly' } };
    const headers = { 'idempotency-key': 'budget-travel-1' };
    const first = await api.request('POST', '/budgets', { body, headers });
    const second = await api.request('POST', '/budgets', { body, headers });
    assert.equal(first.status, 201, first.text);
    assert.equal(second.status, 201, second.text);
    assert.equal(second.headers.get('idempotent-replayed'), 'true');
    assert.equal(second.body.data.id, first.body.data.id);
  });
});

describe('listing budgets', () => {
  test('filters by account, status and currency, and pages with a cursor', async () => {
    const mine = await createAccount(api);
    const eurAccount = await createAccount(api, { currency: 'EUR' });
    const a = await createBudget(api, mine.id, { name: 'A' });
    const b = await createBudget(api, mine.id, { name: 'B', limit: { amount: 50, interval: 'daily' } });
    const c = await createBudget(api, mine.id, { name: 'C' });
    const euro = await createBudget(api, eurAccount.id, { name: 'Euro', currency: 'EUR' });
    assert.equal((await api.request('POST', `/budgets/${b.id}/close`)).status, 200);

    const byAccount = await api.request('GET', `/budgets?accountId=${mine.id}`);
    assert.equal(byAccount.status, 200, byAccount.text);
    assert.deepEqual(byAccount.body.data.map((x: any) => x.id), [c.id, b.id, a.id]);
    assert.deepEqual(byAccount.body.meta.filters, { accountId: mine.id });
    assert.equal(byAccount.body.data[2].remaining, 10_000, 'list items carry their figures');

    const active = await api.request('GET', `/budgets?accountId=${mine.id}&status=active&sort=createdAt`);
    assert.deepEqual(active.body.data.map((x: any) => x.id), [a.id, c.id]);
    const closed = await api.request('GET', `/budgets?accountId=${mine.id}&status=closed`);
    assert.deepEqual(closed.body.data.map((x: any) => x.id), [b.id]);
    const eur = await api.request('GET', '/budgets?currency=eur');
    assert.deepEqual(eur.body.data.map((x: any) => x.id), [euro.id]);
    assert.deepEqual(eur.body.meta.filters, { currency: 'EUR' });

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: any = await api.request('GET', `/budgets?accountId=${mine.id}&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      assert.equal(page.status, 200, page.text);
      seen.push(...page.body.data.map((x: any) => x.id));
      cursor = page.body.meta.nextCursor;
    } while (cursor);
    assert.deepEqual(seen, [c.id, b.id, a.id]);

    const badStatus = await api.request('GET', '/budgets?status=open');
    assert.equal(badStatus.status, 422);
    assert.equal(badStatus.body.error.code, 'validation_failed');
  });
});

describe('updating and closing budgets', () => {
  test('PATCH renames and changes the limit, with previousAttributes in budget.updated', async () => {
    const budget = await createBudget(api, account.id);
    const res = await api.request('PATCH', `/budgets/${budget.id}`, { body: { name: 'Growth', limit: { amount: 20_000, interval: 'weekly' } } });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.message, 'Budget updated successfully.');
    const updated = res.body.data;
    assert.deepEqual([updated.name, updated.limit, updated.remaining, updated.status], ['Growth', { amount: 20_000, interval: 'weekly' }, 20_000, 'active']);
    assert.equal(new Date(updated.period.start).getUTCDay(), 1, 'the period follows the new interval (weeks start on Monday)');
    const events = await eventsOf(budget.id);
    assert.deepEqual(events.map((e) => [e.type, e.sequence]), [['budget.created', 1], ['budget.updated', 2]]);
    assert.deepEqual(events[1].data, updated);
    assert.deepEqual(events[1].previousAttributes.name, 'Marketing team');
    assert.deepEqual(events[1].previousAttributes.limit, { amount: 10_000, interval: 'monthly' });
    assert.equal(events[1].previousAttributes.remaining, 10_000);

    const nameOnly = await api.request('PATCH', `/budgets/${budget.id}`, { body: { name: 'Growth EU' } });
    assert.deepEqual([nameOnly.body.data.name, nameOnly.body.data.limit], ['Growth EU', { amount: 20_000, interval: 'weekly' }]);
  });

  test('PATCH refuses an empty body, unknown fields, a bad limit and fields that cannot change', async () => {
    const budget = await createBudget(api, account.id);
    const cases: Array<[unknown, string]> = [
      [{}, 'validation_failed'],
      [{ status: 'closed' }, 'validation_failed'],
      [{ currency: 'EUR' }, 'validation_failed'],
      [{ accountId: account.id }, 'validation_failed'],
      [{ limit: { amount: 0, interval: 'daily' } }, 'invalid_amount'],
      [{ limit: { interval: 'daily' } }, 'invalid_amount'],
      [{ limit: { amount: 100, interval: 'fortnightly' } }, 'validation_failed'],
    ];
    for (const [body, code] of cases) {
      const res = await api.request('PATCH', `/budgets/${budget.id}`, { body });
      assert.equal(res.status, 422, `${JSON.stringify(body)}: ${res.text}`);
      assert.equal(res.body.error.code, code, res.text);
    }
    const after = await api.request('GET', `/budgets/${budget.id}`);
    assert.deepEqual(after.body.data, budget);
    assert.equal((await eventsOf(budget.id)).length, 1);
  });

  test('closing is final: a second close and any later PATCH are 409 budget_closed', async () => {
    const budget = await createBudget(api, account.id);
    const res = await api.request('POST', `/budgets/${budget.id}/close`);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.message, 'Budget closed successfully.');
    const closed = res.body.data;
    assert.equal(closed.status, 'closed');
    assert.ok(closed.closedAt);
    assert.equal(closed.updatedAt, closed.closedAt);

    const again = await api.request('POST', `/budgets/${budget.id}/close`);
    assert.equal(again.status, 409, again.text);
    assert.equal(again.body.error.code, 'budget_closed');
    const patch = await api.request('PATCH', `/budgets/${budget.id}`, { body: { name: 'Revived' } });
    assert.equal(patch.status, 409, patch.text);
    assert.equal(patch.body.error.code, 'budget_closed');

    assert.deepEqual((await api.request('GET', `/budgets/${budget.id}`)).body.data, closed);
    const events = await eventsOf(budget.id);
    assert.deepEqual(events.map((e) => e.type), ['budget.created', 'budget.closed']);
    assert.deepEqual(events[1].previousAttributes, { status: 'active', closedAt: null });
  });
});

describe('tenancy', () => {
  test('another organization\'s budget answers 404 like an absent one, on every route, and does not change', async () => {
    const budget = await createBudget(api, account.id);
    const other = await api.otherOrganization();
    const absent = `${budget.id.slice(0, -8)}00000000`;
    const attempts: Array<[string, string, unknown]> = [
      ['GET', '/budgets/:id', undefined],
      ['PATCH', '/budgets/:id', { name: 'Hijacked' }],
      ['POST', '/budgets/:id/close', undefined],
    ];
    for (const [method, path, body] of attempts) {
      const theirs = await api.request(method, path.replace(':id', budget.id), { body, key: other.apiKey });
      const nobody = await api.request(method, path.replace(':id', absent), { body, key: other.apiKey });
      assert.equal(theirs.status, 404, `${method} ${path}: ${theirs.text}`);
      assert.equal(theirs.body.error.code, 'not_found');
      assert.equal(theirs.body.message, nobody.body.message);
      assert.equal(nobody.status, 404);
    }
    const list = await api.request('GET', `/budgets?accountId=${account.id}`, { key: other.apiKey });
    assert.deepEqual(list.body.data, []);
    assert.deepEqual((await api.request('GET', `/budgets/${budget.id}`)).body.data, budget);
    assert.equal((await eventsOf(budget.id)).length, 1);
  });

  test('no credential is 401', async () => {
    for (const [method, path] of [['GET', '/budgets'], ['POST', '/budgets'], ['GET', '/budgets/bud_x'], ['POST', '/budgets/bud_x/close']]) {
      const res = await api.request(method, path, { key: null });
      assert.equal(res.status, 401, `${method} ${path}`);
    }
  });
});

describe('the OpenAPI document', () => {
  test('describes the budget routes and the Budget schema', async () => {
    const doc = await api.request('GET', '/openapi.json');
    assert.equal(doc.status, 200);
    for (const [path, method] of [['/budgets', 'post'], ['/budgets', 'get'], ['/budgets/{id}', 'get'], ['/budgets/{id}', 'patch'], ['/budgets/{id}/close', 'post']]) {
      assert.ok(doc.body.paths[path]?.[method], `${method} ${path}`);
    }
    assert.ok(doc.body.components.schemas.Budget.properties.remaining);
    const catalog = await api.request('GET', '/events/catalog');
    const types = catalog.body.data.map((e: any) => e.type);
    for (const type of ['budget.created', 'budget.updated', 'budget.closed']) assert.ok(types.includes(type), type);
  });
});

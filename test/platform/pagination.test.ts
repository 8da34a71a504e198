// API.md "Lists": limit bounds and default, the meta block, cursor walks that return every item
// exactly once in order, both sort orders, cursors bound to their list and sort, filters echoed.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../../src/platform/pagination.ts';
import { startHarness, type Harness, type Response } from '../support/api.ts';
import { createAccount } from '../support/fixtures.ts';

let api: Harness;
/** A fresh organization holding exactly ACCOUNTS accounts, so every page is predictable. */
let key: string;
let created: string[];
const ACCOUNTS = 45;

before(async () => {
  api = await startHarness();
  key = (await api.otherOrganization()).apiKey;
  created = [];
  for (let i = 0; i < ACCOUNTS; i++) {
    created.push((await createAccount(api, { ownerId: i % 3 === 0 ? 'owner-third' : 'owner-rest', currency: i % 5 === 0 ? 'EUR' : 'USD' }, key)).id);
  }
});
after(async () => { await api.checkLedger(); await api.close(); });

const list = (query: string) => api.request('GET', `/accounts${query}`, { key });

function assertError(res: Response, status: number, code: string) {
  assert.equal(res.status, status, res.text);
  assert.equal(res.body.error.code, code, res.text);
  assert.match(res.body.requestId, /^req_/);
}

async function walk(query: string): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const sep: string = query ? '&' : '?';
    const page: Response = await list(`${query}${cursor ? `${sep}cursor=${encodeURIComponent(cursor)}` : ''}`);
    assert.equal(page.status, 200, page.text);
    pages++;
    ids.push(...page.body.data.map((a: any) => a.id));
    assert.equal(page.body.meta.hasMore, page.body.meta.nextCursor !== null);
    cursor = page.body.meta.nextCursor;
    assert.ok(pages <= ACCOUNTS + 1, 'the walk ends');
  } while (cursor);
  return { ids, pages };
}

describe('limits', () => {
  test(`the default page holds ${DEFAULT_PAGE_SIZE} items, newest first, with the full meta`, async () => {
    const page = await list('');
    assert.equal(page.status, 200);
    assert.equal(page.body.data.length, DEFAULT_PAGE_SIZE);
    assert.deepEqual(Object.keys(page.body.meta).sort(), ['filters', 'hasMore', 'limit', 'nextCursor', 'sort']);
    assert.equal(page.body.meta.limit, DEFAULT_PAGE_SIZE);
    assert.equal(page.body.meta.hasMore, true);
    assert.equal(typeof page.body.meta.nextCursor, 'string');
    assert.equal(page.body.meta.sort, '-createdAt');
    assert.deepEqual(page.body.meta.filters, {});
    assert.deepEqual(page.body.data.map((a: any) => a.id), [...created].reverse().slice(0, DEFAULT_PAGE_SIZE));
  });

  test(`limit must be 1–${MAX_PAGE_SIZE}: 0, ${MAX_PAGE_SIZE + 1}, -1 and text are a 422 naming the field`, async () => {
    for (const limit of ['0', String(MAX_PAGE_SIZE + 1), '-1', 'ten', '2.5']) {
      const res = await list(`?limit=${limit}`);
      assertError(res, 422, 'validation_failed');
      assert.ok(res.body.error.details.some((d: any) => /limit$/.test(d.field)), res.text);
    }
  });

  test(`limit=1 and limit=${MAX_PAGE_SIZE} are accepted`, async () => {
    const one = await list('?limit=1');
    assert.equal(one.body.data.length, 1);
    assert.equal(one.body.meta.limit, 1);
    const max = await list(`?limit=${MAX_PAGE_SIZE}`);
    assert.equal(max.body.data.length, ACCOUNTS);
    assert.equal(max.body.meta.hasMore, false);
    assert.equal(max.body.meta.nextCursor, null);
  });

  test('an exact last page has hasMore false', async () => {
    const page = await list(`?limit=${ACCOUNTS}`);
    assert.equal(page.body.data.length, ACCOUNTS);
    assert.equal(page.body.meta.hasMore, false);
    assert.equal(page.body.meta.nextCursor, null);
  });

  test('an unknown query parameter or sort is a 422', async () => {
    assertError(await list('?colour=red'), 422, 'validation_failed');
    assertError(await list('?sort=name'), 422, 'validation_failed');
  });
});

describe('cursor walks', () => {
  test('walking newest first returns every item exactly once, in order', async () => {
    const { ids, pages } = await walk('?limit=10');
    assert.equal(pages, Math.ceil(ACCOUNTS / 10));
    assert.equal(new Set(ids).size, ids.length, 'no duplicates');
    assert.deepEqual(ids, [...created].reverse());
  });

  test('sort=createdAt walks oldest first, every item exactly once', async () => {
    const first = await list('?limit=7&sort=createdAt');
    assert.equal(first.body.meta.sort, 'createdAt');
    const { ids } = await walk('?limit=7&sort=createdAt');
    assert.deepEqual(ids, created);
    const times = (await list(`?limit=${MAX_PAGE_SIZE}&sort=createdAt`)).body.data.map((a: any) => Date.parse(a.createdAt));
    assert.deepEqual(times, [...times].sort((a, b) => a - b));
  });

  test('a walk with a filter returns exactly the matching items', async () => {
    const { ids } = await walk('?limit=4&ownerId=owner-third');
    const expected = created.filter((_, i) => i % 3 === 0).reverse();
    assert.deepEqual(ids, expected);
  });

  test('items created during a walk do not shift the pages (keyset, not offset)', async () => {
    const first = await list('?limit=10');
    await createAccount(api, { ownerId: 'owner-late' }, key);
    const second = await list(`?limit=10&cursor=${encodeURIComponent(first.body.meta.nextCursor)}`);
    assert.deepEqual(second.body.data.map((a: any) => a.id), [...created].reverse().slice(10, 20));
  });
});

describe('cursors', () => {
  test('a cursor made for the other sort order is a 422 invalid_cursor', async () => {
    const newestFirst = (await list('?limit=5')).body.meta.nextCursor;
    const res = await list(`?limit=5&sort=createdAt&cursor=${encodeURIComponent(newestFirst)}`);
    assertError(res, 422, 'invalid_cursor');
    assert.equal(res.body.error.details[0].field, 'cursor');
  });

  test('a garbage, empty-looking or tampered cursor is a 422 invalid_cursor', async () => {
    const valid = (await list('?limit=5')).body.meta.nextCursor as string;
    const decoded = Buffer.from(valid, 'base64url').toString('utf8');
    const tampered = Buffer.from(decoded.replace(/acc_/, "acc_' OR 1=1 --")).toString('base64url');
    for (const cursor of ['garbage', 'AAAA', '%00', Buffer.from('-createdAt|').toString('base64url'), tampered]) {
      assertError(await list(`?cursor=${encodeURIComponent(cursor)}`), 422, 'invalid_cursor');
    }
    assertError(await list(`?cursor=${'x'.repeat(300)}`), 422, 'validation_failed');
  });

  test('a cursor from another list is a 422 invalid_cursor', async () => {
    for (let i = 0; i < 3; i++) await api.request('POST', '/api-keys', { key, body: { name: `k${i}` } });
    const keysCursor = (await api.request('GET', '/api-keys?limit=1', { key })).body.meta.nextCursor;
    assert.equal(typeof keysCursor, 'string');
    assertError(await list(`?cursor=${encodeURIComponent(keysCursor)}`), 422, 'invalid_cursor');
  });

  test('a cursor never reaches another organization\'s rows', async () => {
    const cursor = (await list('?limit=5')).body.meta.nextCursor;
    const mine = await api.request('GET', `/accounts?limit=5&cursor=${encodeURIComponent(cursor)}`);
    assert.equal(mine.status, 200);
    for (const account of mine.body.data) assert.ok(!created.includes(account.id));
  });
});

describe('filters', () => {
  test('the filters asked for are echoed in meta and applied', async () => {
    const page = await list('?status=active&currency=EUR&ownerId=owner-third&type=checking');
    assert.equal(page.status, 200, page.text);
    assert.deepEqual(page.body.meta.filters, { status: 'active', currency: 'EUR', ownerId: 'owner-third', type: 'checking' });
    const expected = created.filter((_, i) => i % 3 === 0 && i % 5 === 0).reverse();
    assert.deepEqual(page.body.data.map((a: any) => a.id), expected);
    for (const account of page.body.data) assert.equal(account.currency, 'EUR');
  });

  test('a filter that matches nothing gives an empty page, not an error', async () => {
    const page = await list('?ownerId=nobody');
    assert.equal(page.status, 200);
    assert.deepEqual(page.body.data, []);
    assert.equal(page.body.meta.hasMore, false);
    assert.equal(page.body.meta.nextCursor, null);
    assert.deepEqual(page.body.meta.filters, { ownerId: 'nobody' });
  });

  test('createdFrom and createdTo bound the page', async () => {
    const all = (await list(`?limit=${MAX_PAGE_SIZE}&sort=createdAt`)).body.data;
    const middle = all[20];
    const from = await list(`?limit=${MAX_PAGE_SIZE}&createdFrom=${encodeURIComponent(middle.createdAt)}`);
    assert.equal(from.status, 200, from.text);
    for (const account of from.body.data) assert.ok(Date.parse(account.createdAt) >= Date.parse(middle.createdAt));
    assert.ok(from.body.data.some((a: any) => a.id === middle.id));
    const to = await list(`?limit=${MAX_PAGE_SIZE}&createdTo=${encodeURIComponent(middle.createdAt)}`);
    for (const account of to.body.data) assert.ok(Date.parse(account.createdAt) < Date.parse(middle.createdAt));
    assertError(await list('?createdFrom=yesterday'), 422, 'validation_failed');
  });
});

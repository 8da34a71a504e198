// GET /cards round trips (issue 10, scenario d): a page is the credential lookup and one statement
// that brings the cards with their program name, balances and wallet tokenizations. Counted at the
// pg driver, as test/postgres/authorization-round-trips.pg-test.ts does; a statement added to the
// path fails the count on purpose: fold it into the page's statement or raise the budget and say why.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Harness } from '../support/api.ts';
import { createCardHolder } from '../support/fixtures.ts';
import { POSTGRES_ONLY, accountHolding, statementsDuring, useConcurrencyHarness } from './support.ts';

/** The credential lookup (with the signature policy) and the page. Main had 3 (tokenizations apart). */
const STATEMENTS_PER_PAGE = 2;
const RUNS = 5;

describe('GET /cards on PostgreSQL', { skip: POSTGRES_ONLY }, () => {
  let api: Harness;
  useConcurrencyHarness((started) => { api = started; });

  test(`a page, first or by cursor, with or without wallet tokens, takes at most ${STATEMENTS_PER_PAGE} statements`, async () => {
    const account = await accountHolding(api, 1_000);
    const holder = await createCardHolder(api);
    const cards: any[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await api.request('POST', '/cards', {
        body: { debitAccountId: account.id, cardHolderId: holder.id, type: 'virtual', brand: 'Visa', currency: 'USD', amount: 100 + i },
      });
      assert.equal(res.status, 201, res.text);
      cards.push(res.body.data);
    }
    const token = await api.request('POST', `/simulator/cards/${cards[0].id}/tokenizations`, { body: { walletType: 'apple_pay' } });
    assert.equal(token.status, 201, token.text);

    const first = await api.request('GET', `/cards?accountId=${account.id}&limit=2`);
    assert.equal(first.status, 200, first.text);
    const pages: any[] = [];
    const { statements } = await statementsDuring(async () => {
      for (let i = 0; i < RUNS; i++) {
        pages.push(await api.request('GET', `/cards?accountId=${account.id}&limit=2`));
        pages.push(await api.request('GET', `/cards?accountId=${account.id}&limit=2&cursor=${first.body.meta.nextCursor}`));
      }
    });
    assert.ok(statements <= STATEMENTS_PER_PAGE * pages.length, `${statements} statements for ${pages.length} pages`);
    for (const [i, page] of pages.entries()) {
      assert.equal(page.status, 200, page.text);
      const expected = i % 2 === 0 ? [[cards[2].id, 102, 0], [cards[1].id, 101, 0]] : [[cards[0].id, 100, 1]];
      assert.deepEqual(page.body.data.map((c: any) => [c.id, c.balance.available, c.tokenizations.length]), expected);
    }
    assert.deepEqual(pages[1].body.data[0].tokenizations, [token.body.data]);
  });
});

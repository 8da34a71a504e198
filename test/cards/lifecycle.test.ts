// The card status machine, table-driven: every (status, action) pair. Allowed actions land in the
// expected status with their event and a status-history row; the rest are 409 (422 where the
// action needs a physical card) and change nothing.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startHarness, type Harness } from '../support/api.ts';
import { balanceOf, createAccount, createProgram } from '../support/fixtures.ts';

let api: Harness;
let account: { id: string };
let instant: { id: string };
let review: { id: string };
before(async () => {
  api = await startHarness();
  account = await createAccount(api);
  instant = await createProgram(api);
  review = await createProgram(api, { issuanceReview: true });
});
after(async () => { await api.checkLedger(); await api.close(); });

const ADDRESS = { address1: '1 Rue de Rivoli', city: 'Paris', countryCode: 'FR', postalCode: '75001' };

async function card(type: 'virtual' | 'physical', program = instant, amount = 500) {
  const res = await api.request('POST', '/cards', {
    body: { debitAccountId: account.id, firstName: 'Ada', lastName: 'Lovelace', type, currency: 'USD', typeId: program.id, amount, ...(type === 'physical' ? { deliveryAddress: ADDRESS } : {}) },
  });
  assert.equal(res.status, 201, res.text);
  return res.body.data;
}

const ACTIONS: Record<string, { method: string; path: (id: string) => string; body?: unknown; event: string }> = {
  freeze: { method: 'POST', path: (id) => `/cards/${id}/freeze`, event: 'card.frozen' },
  unfreeze: { method: 'POST', path: (id) => `/cards/${id}/unfreeze`, event: 'card.unfrozen' },
  activate: { method: 'POST', path: (id) => `/cards/${id}/activate`, event: 'card.activated' },
  cancel: { method: 'POST', path: (id) => `/cards/${id}/cancel`, body: { reason: 'customer request' }, event: 'card.cancelled' },
  delete: { method: 'DELETE', path: (id) => `/cards/${id}`, event: 'card.cancelled' },
  'patch:locked': { method: 'PATCH', path: (id) => `/cards/${id}`, body: { status: 'locked' }, event: 'card.frozen' },
  issue: { method: 'PATCH', path: (id) => `/simulator/cards/${id}/issue`, event: 'card.issued' },
  fail: { method: 'PATCH', path: (id) => `/simulator/cards/${id}/fail`, event: 'card.rejected' },
  ship: { method: 'POST', path: (id) => `/simulator/cards/${id}/ship`, event: 'card.shipped' },
  deliver: { method: 'POST', path: (id) => `/simulator/cards/${id}/deliver`, event: 'card.delivered' },
  expire: { method: 'POST', path: (id) => `/simulator/cards/${id}/expire`, event: 'card.expired' },
  suspend: { method: 'POST', path: (id) => `/simulator/cards/${id}/suspend`, body: { reason: 'risk review' }, event: 'card.suspended' },
  reinstate: { method: 'POST', path: (id) => `/simulator/cards/${id}/reinstate`, event: 'card.reinstated' },
};

/** How to get a fresh card into each status, through the API. */
const SETUPS: Record<string, () => Promise<{ id: string }>> = {
  pending: () => card('virtual', review),
  issued: () => card('physical'),
  digital: async () => { const c = await card('physical'); await must('ship', c.id); return c; },
  active: () => card('virtual'),
  locked: async () => { const c = await card('virtual'); await must('freeze', c.id); return c; },
  suspended: async () => { const c = await card('virtual'); await must('suspend', c.id); return c; },
  cancelled: async () => { const c = await card('virtual'); await must('cancel', c.id); return c; },
  expired: async () => { const c = await card('virtual'); await must('expire', c.id); return c; },
  rejected: async () => { const c = await card('virtual', review); await must('fail', c.id); return c; },
};

async function run(action: string, id: string) {
  const a = ACTIONS[action];
  return api.request(a.method, a.path(id), a.body ? { body: a.body } : {});
}

async function must(action: string, id: string) {
  const res = await run(action, id);
  assert.ok(res.status < 300, `${action}: ${res.text}`);
  return res;
}

// Expected outcome of every action from every status: a status, or an HTTP error status.
// Cards in "active", "locked" and "suspended" are virtual, so deliver is 422 not_physical there.
// PATCH with the status the card already has is not a transition: 200, nothing recorded.
const X = 409;
const TABLE: Record<string, Record<string, string | number>> = {
  pending: { freeze: X, unfreeze: X, activate: X, cancel: 'cancelled', delete: 'cancelled', 'patch:locked': X, issue: 'active', fail: 'rejected', ship: X, deliver: X, expire: 'expired', suspend: X, reinstate: X },
  issued: { freeze: X, unfreeze: X, activate: 'active', cancel: 'cancelled', delete: 'cancelled', 'patch:locked': X, issue: X, fail: X, ship: 'digital', deliver: X, expire: 'expired', suspend: 'suspended', reinstate: X },
  digital: { freeze: 'locked', unfreeze: X, activate: 'active', cancel: 'cancelled', delete: 'cancelled', 'patch:locked': 'locked', issue: X, fail: X, ship: X, deliver: 'digital', expire: 'expired', suspend: 'suspended', reinstate: X },
  active: { freeze: 'locked', unfreeze: X, activate: X, cancel: 'cancelled', delete: 'cancelled', 'patch:locked': 'locked', issue: X, fail: X, ship: X, deliver: 422, expire: 'expired', suspend: 'suspended', reinstate: X },
  locked: { freeze: X, unfreeze: 'active', activate: X, cancel: 'cancelled', delete: 'cancelled', 'patch:locked': 'unchanged', issue: X, fail: X, ship: X, deliver: 422, expire: 'expired', suspend: 'suspended', reinstate: X },
  suspended: { freeze: X, unfreeze: X, activate: X, cancel: 'cancelled', delete: 'cancelled', 'patch:locked': X, issue: X, fail: X, ship: X, deliver: 422, expire: 'expired', suspend: X, reinstate: 'active' },
  cancelled: Object.fromEntries(Object.keys(ACTIONS).map((a) => [a, X])),
  expired: Object.fromEntries(Object.keys(ACTIONS).map((a) => [a, X])),
  rejected: Object.fromEntries(Object.keys(ACTIONS).map((a) => [a, X])),
};

describe('every (status, action) pair', () => {
  for (const [from, row] of Object.entries(TABLE)) {
    for (const [action, expected] of Object.entries(row)) {
      test(`${from} → ${action} → ${expected}`, async () => {
        const { id } = await SETUPS[from]();
        const before = await api.request('GET', `/cards/${id}`);
        assert.equal(before.body.data.status, from);
        const eventsBefore = (await api.request('GET', `/events?resourceId=${id}&limit=100`)).body.data.length;
        const historyBefore = (await api.request('GET', `/cards/${id}/status-history?limit=100`)).body.data.length;
        const res = await run(action, id);
        const eventsAfter = await api.request('GET', `/events?resourceId=${id}&limit=100`);
        const history = await api.request('GET', `/cards/${id}/status-history?limit=100`);
        if (typeof expected === 'number') {
          assert.equal(res.status, expected, res.text);
          assert.equal(res.body.error.code, expected === 409 ? (action === 'deliver' && from === 'issued' ? 'invalid_shipping_transition' : 'invalid_status_transition') : 'not_physical');
          assert.deepEqual((await api.request('GET', `/cards/${id}`)).body.data, before.body.data, 'nothing changed');
          assert.equal(eventsAfter.body.data.length, eventsBefore);
          assert.equal(history.body.data.length, historyBefore);
          return;
        }
        if (expected === 'unchanged') {
          assert.equal(res.status, 200, res.text);
          assert.deepEqual(res.body.data, before.body.data);
          assert.equal(eventsAfter.body.data.length, eventsBefore);
          assert.equal(history.body.data.length, historyBefore);
          return;
        }
        assert.ok(res.status === 200 || res.status === 202, res.text);
        assert.equal(res.status, action === 'issue' ? 202 : 200);
        assert.equal(res.body.data.status, expected);
        assert.equal((await api.request('GET', `/cards/${id}`)).body.data.status, expected);
        assert.equal(eventsAfter.body.data[0].type, ACTIONS[action].event);
        if (expected !== from) assert.deepEqual(eventsAfter.body.data[0].previousAttributes, { status: from });
        assert.equal(history.body.data.length, historyBefore + 1);
        const change = history.body.data[0];
        assert.deepEqual([change.fromStatus, change.toStatus], [from, expected]);
        const simulator = ['issue', 'fail', 'ship', 'deliver', 'expire', 'suspend', 'reinstate'].includes(action);
        assert.equal(change.actor, simulator ? 'simulator' : 'client');
      });
    }
  }
});

describe('money on the way out', () => {
  // Every path that ends a card, with the status it ends in. A card under issuance review starts
  // pending: fail (→ rejected) and the other paths from pending must settle it as well.
  const ENDINGS: [string, 'active' | 'pending', string, string][] = [
    ['cancel', 'active', 'cancelled', 'card.cancelled'],
    ['delete', 'active', 'cancelled', 'card.cancelled'],
    ['patch:cancelled', 'active', 'cancelled', 'card.cancelled'],
    ['expire', 'active', 'expired', 'card.expired'],
    ['fail', 'pending', 'rejected', 'card.rejected'],
    ['cancel', 'pending', 'cancelled', 'card.cancelled'],
    ['expire', 'pending', 'expired', 'card.expired'],
  ];

  test('every terminal status returns the available balance to the debit account in the same transaction', async () => {
    for (const [action, from, status, event] of ENDINGS) {
      const start = (await balanceOf(api, account.id)).available;
      const c = await card('virtual', from === 'pending' ? review : instant, 700);
      assert.equal((await balanceOf(api, account.id)).available, start - 700);
      const res = action === 'patch:cancelled'
        ? await api.request('PATCH', `/cards/${c.id}`, { body: { status: 'cancelled' } })
        : await run(action, c.id);
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.data.status, status);
      assert.deepEqual(res.body.data.balance, { available: 0, pending: 0 }, action);
      assert.equal((await balanceOf(api, account.id)).available, start, `${action} from ${from}`);
      const entries = await api.request('GET', `/accounts/${account.id}/entries?limit=1`);
      assert.deepEqual([entries.body.data[0].kind, entries.body.data[0].amount, entries.body.data[0].direction, entries.body.data[0].referenceId],
        ['card_balance_return', 700, 'credit', c.id]);
      const events = await api.request('GET', `/events?resourceId=${c.id}&limit=1`);
      assert.equal(events.body.data[0].type, event);
      assert.deepEqual(events.body.data[0].data.balance, { available: 0, pending: 0 }, 'the event shows the settled card');
      await api.checkLedger();
    }
  });

  test('a rejected card has nothing left to withdraw: its money is already back', async () => {
    const start = (await balanceOf(api, account.id)).available;
    const c = await card('virtual', review, 400);
    await must('fail', c.id);
    const withdraw = await api.request('POST', `/cards/${c.id}/withdraw`, { body: { amount: 400 } });
    assert.equal(withdraw.status, 409);
    assert.equal(withdraw.body.error.code, 'card_closed');
    assert.equal((await balanceOf(api, account.id)).available, start);
    await api.checkLedger();
  });

  test('reinstate and unfreeze return to the status before (digital stays digital)', async () => {
    const c = await card('physical');
    await must('ship', c.id);
    await must('freeze', c.id);
    assert.equal((await must('unfreeze', c.id)).body.data.status, 'digital');
    await must('suspend', c.id);
    assert.equal((await must('reinstate', c.id)).body.data.status, 'digital');
  });
});

describe('shipping', () => {
  test('ship sets a tracking number; deliver dates it; activation works in transit or after', async () => {
    const c = await card('physical');
    const shipped = (await must('ship', c.id)).body.data;
    assert.equal(shipped.status, 'digital');
    assert.equal(shipped.shipping.status, 'shipped');
    assert.match(shipped.shipping.trackingNumber, /^PG[0-9A-F]{16}$/);
    assert.ok(shipped.shipping.shippedAt);
    const delivered = (await must('deliver', c.id)).body.data;
    assert.equal(delivered.shipping.status, 'delivered');
    assert.ok(delivered.shipping.deliveredAt);
    const again = await run('deliver', c.id);
    assert.equal(again.status, 409);
    const active = (await must('activate', c.id)).body.data;
    assert.equal(active.status, 'active');
    assert.ok(active.activatedAt);
  });

  test('a program without digital use in transit keeps a shipped card issued', async () => {
    const program = await createProgram(api, { digitalInTransit: false });
    const c = await card('physical', program);
    const shipped = (await must('ship', c.id)).body.data;
    assert.equal(shipped.status, 'issued');
    assert.equal(shipped.shipping.status, 'shipped');
  });
});

describe('holds outliving an ended card', () => {
  // Rejection ends a pending card (under issuance review) like cancellation ends a live one.
  for (const [action, ending, program] of [['cancel', 'cancelled', 'instant'], ['expire', 'expired', 'instant'], ['fail', 'rejected', 'review']]) {
    test(`money released from a hold after the card is ${ending} goes back to the debit account`, async () => {
      const { afterHoldReleased } = await import('../../src/modules/cards/card-lifecycle.service.ts');
      const ledger = await import('../../src/modules/ledger/ledger.service.ts');
      const start = (await balanceOf(api, account.id)).available;
      const c = await card('virtual', program === 'review' ? review : instant, 1_000);
      const db = api.app.ctx.db;
      const [row] = await db.query<{ ledger_account_id: string }>('SELECT ledger_account_id FROM cards WHERE id = $1', [c.id]);
      const at = new Date();
      // A hold of 300, as an authorization will place it (issue 4): card → network settlement.
      const hold = await db.transaction(async (tx) => {
        const settlement = await ledger.houseAccount(tx, api.organizationId, ledger.HOUSE.settlement, 'USD', at);
        return ledger.transfer(tx, { organizationId: api.organizationId, kind: 'pending', debitAccountId: row.ledger_account_id, creditAccountId: settlement, amount: 300, currency: 'USD', code: 'authorization', referenceType: 'card', referenceId: c.id, at });
      });
      const ended = await run(action, c.id);
      assert.equal(ended.body.data.status, ending);
      assert.deepEqual(ended.body.data.balance, { available: 0, pending: 300 });
      assert.equal((await balanceOf(api, account.id)).available, start - 300, 'the free 700 came back at once');
      const returned = await db.transaction(async (tx) => {
        await ledger.resolvePending(tx, api.organizationId, hold.id, 'void', at);
        return afterHoldReleased(tx, api.organizationId, c.id, at);
      });
      assert.equal(returned, 300);
      assert.equal((await balanceOf(api, account.id)).available, start, 'the released 300 came back too');
      assert.deepEqual((await api.request('GET', `/cards/${c.id}`)).body.data.balance, { available: 0, pending: 0 });
      await api.checkLedger();
    });
  }
});

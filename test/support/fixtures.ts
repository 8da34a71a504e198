// Fixtures, created through the API like a user would.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Harness } from './api.ts';

export async function createAccount(api: Harness, overrides: Record<string, unknown> = {}, key?: string) {
  const res = await api.request('POST', '/accounts', {
    key,
    body: { ownerType: 'business', ownerId: 'owner-1', name: 'Primary USD Wallet', type: 'checking', category: 'fiat', currency: 'USD', ...overrides },
  });
  assert.equal(res.status, 201, res.text);
  return res.body.data;
}

/** A JSON card holder with every identity field, verified at once in the sandbox. */
export async function createCardHolder(api: Harness, overrides: Record<string, unknown> = {}, key?: string) {
  const res = await api.request('POST', '/card-holders', {
    key,
    body: {
      firstName: 'Jane', lastName: 'Doe', email: 'jane.doe@example.com', phoneNumber: '+14155550100',
      dateOfBirth: '1990-07-14', nationality: 'US', addressLine1: '123 Main St', city: 'San Francisco', state: 'CA',
      postalCode: '94105', country: 'US', ...overrides,
    },
  });
  assert.equal(res.status, 201, res.text);
  return res.body.data;
}

/** A program that allows name-only issuance and does not require a verified holder. */
export async function createProgram(api: Harness, overrides: Record<string, unknown> = {}) {
  const res = await api.request('POST', '/card-programs', {
    body: {
      name: `Test program ${randomBytes(4).toString('hex')}`, brand: 'Visa', bin: '45990000', currency: 'USD',
      allowNameOnlyIssuance: true, requiresVerifiedCardHolder: false, ...overrides,
    },
  });
  assert.equal(res.status, 201, res.text);
  return res.body.data;
}

/** A name-only virtual card under `program`, funded with `amount` from `account`. */
export async function issueNameOnlyCard(api: Harness, account: { id: string }, program: { id: string }, amount = 100, extra: Record<string, unknown> = {}) {
  return api.request('POST', '/cards', {
    body: { debitAccountId: account.id, firstName: 'Ada', lastName: 'Lovelace', type: 'virtual', currency: 'USD', typeId: program.id, amount, ...extra },
  });
}

/** `count` name-only virtual cards under `program`, each funded with `amount` from `account` (asserted issued). */
export async function issueNameOnlyCards(api: Harness, account: { id: string }, program: { id: string }, count: number, amount: number) {
  const cards = [];
  for (let i = 0; i < count; i++) {
    const issued = await issueNameOnlyCard(api, account, program, amount);
    assert.equal(issued.status, 201, issued.text);
    cards.push(issued.body.data);
  }
  return cards;
}

export async function balanceOf(api: Harness, accountId: string) {
  const res = await api.request('GET', `/accounts/${accountId}`);
  assert.equal(res.status, 200, res.text);
  return res.body.data.balance;
}

export async function countCards(api: Harness, query = '') {
  let count = 0;
  let cursor: string | null = null;
  do {
    const sep: string = query ? '&' : '';
    const page: any = await api.request('GET', `/cards?limit=100${sep}${query}${cursor ? `&cursor=${cursor}` : ''}`);
    assert.equal(page.status, 200, page.text);
    count += page.body.data.length;
    cursor = page.body.meta.nextCursor;
  } while (cursor);
  return count;
}

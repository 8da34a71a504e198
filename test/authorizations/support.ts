// Shared fixtures of the authorization suites: a funded card and one-call network messages.
import assert from 'node:assert/strict';
import type { Harness } from '../support/api.ts';
import { createAccount, createProgram, issueNameOnlyCard } from '../support/fixtures.ts';

export const MERCHANT = { name: 'Blue Bottle Coffee', mcc: '5812', city: 'San Francisco', country: 'US', id: 'mch_1' };

export async function fundedCard(api: Harness, amount: number, options: { program?: Record<string, unknown>; card?: Record<string, unknown> } = {}) {
  const account = await createAccount(api);
  const program = await createProgram(api, options.program);
  const res = await issueNameOnlyCard(api, account, program, amount, options.card);
  assert.equal(res.status, 201, res.text);
  return { account, program, card: res.body.data };
}

/** Card-not-present (authorize sends contactless unless told otherwise). */
export const ONLINE = { entryMode: 'ecommerce' };

export async function authorize(api: Harness, cardId: string, amount: number, extra: Record<string, unknown> = {}, key?: string) {
  return api.request('POST', '/simulator/authorizations', {
    key,
    body: { cardId, amount, currency: 'USD', merchant: MERCHANT, entryMode: 'contactless', ...extra },
  });
}

/** An approved authorization (asserts it). */
export async function approved(api: Harness, cardId: string, amount: number, extra: Record<string, unknown> = {}) {
  const res = await authorize(api, cardId, amount, extra);
  assert.equal(res.status, 201, res.text);
  assert.equal(res.body.data.approved, true, res.text);
  return res.body.data;
}

export async function cardBalance(api: Harness, cardId: string) {
  const res = await api.request('GET', `/cards/${cardId}`);
  assert.equal(res.status, 200, res.text);
  return res.body.data.balance as { available: number; pending: number };
}

export async function step(api: Harness, authId: string, action: 'increment' | 'capture' | 'reverse' | 'expire', body?: unknown) {
  return api.request('POST', `/simulator/authorizations/${authId}/${action}`, body === undefined ? {} : { body });
}

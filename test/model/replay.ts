// Replays a workload against the HTTP API of a real app and checks it against the model after
// every step: the answer (status, error code, the authorization's figures), every account's and
// card's balance, and the ledger invariants. A mismatch throws with everything needed to replay.
import assert from 'node:assert/strict';
import type { Harness, Response } from '../support/api.ts';
import { Model, type Balance, type CardBalance, type FinalBalances, type Outcome, type Step } from './model.ts';

const MERCHANT = { name: 'Model Grocer', mcc: '5411', city: 'Lyon', country: 'FR', id: 'merchant-model-1' };
const CURRENCY = 'USD';

interface Ids { accounts: string[]; cards: string[]; auths: Array<{ id: string; body: Record<string, unknown> }>; transactions: Array<string | null> }

export interface ReplayOptions {
  api: Harness;
  seed: number;
  steps: Step[];
  openingBalance: number;
  /** The card program the cards are issued under (allows name-only issuance). */
  programId: string;
  /**
   * Recognises a known engine bug from the step, the model before it and the API's answer, and
   * names it; the step is then taken back from the model (the API refused it, so its state did not
   * move either) and the replay goes on. Anything it does not name fails the replay. Only for
   * steps that create nothing (the ids of later steps would shift otherwise).
   */
  knownBug?: (step: Step, before: Model, res: Response) => string | null;
}

export class ReplayFailure extends Error {}

export interface ReplayResult {
  model: Model;
  /** The API's final balances, in the model's order and shape (see Model.finalBalances). */
  apiBalances: FinalBalances;
  /** Steps the API refused because of a known bug (see ReplayOptions.knownBug). */
  knownBugs: string[];
}

export async function replay({ api, seed, steps, openingBalance, programId, knownBug }: ReplayOptions): Promise<ReplayResult> {
  let model = new Model(openingBalance);
  const knownBugs: string[] = [];
  const ids: Ids = { accounts: [], cards: [], auths: [], transactions: [] };
  let apiBalances: FinalBalances = { accounts: [], cards: [] };
  for (const [n, step] of steps.entries()) {
    try {
      const before = model.clone();
      const expected = model.apply(step);
      const res = await perform(api, step, ids, { seed, n, programId });
      const bug = knownBug && expected.status !== res.status ? knownBug(step, before, res) : null;
      if (bug) {
        knownBugs.push(`step ${n} ${JSON.stringify(step)}: ${bug}`);
        model = before;
      } else {
        checkOutcome(step, expected, res);
        await record(api, model, expected, res, ids);
      }
      if (step.op === 'refund' && step.transaction !== undefined && res.status === 201) await checkRefunded(api, model, ids, step.transaction);
      apiBalances = await checkBalances(api, model, ids);
      await api.checkLedger();
    } catch (error) {
      throw new ReplayFailure(failureReport(seed, n, steps, error as Error), { cause: error });
    }
  }
  return { model, apiBalances, knownBugs };
}

function failureReport(seed: number, n: number, steps: Step[], error: Error) {
  return [
    `model-based test failed: seed ${seed}, step ${n} of ${steps.length}: ${JSON.stringify(steps[n])}`,
    error.message,
    `replay: MODEL_SEED=${seed} MODEL_STEPS=${steps.length} node --import tsx --test test/scenarios/model.test.ts`,
    'steps:',
    ...steps.slice(0, n + 1).map((s, i) => `  ${i}: ${JSON.stringify(s)}`),
  ].join('\n');
}

function perform(api: Harness, step: Step, ids: Ids, context: { seed: number; n: number; programId: string }): Promise<Response> {
  const post = (path: string, body: unknown) => api.request('POST', path, { body });
  const auth = (i: number) => `/simulator/authorizations/${ids.auths[i].id}`;
  const withAmount = (amount?: number) => (amount === undefined ? {} : { amount });
  switch (step.op) {
    case 'openAccount':
      return post('/accounts', { ownerType: 'business', ownerId: `model-${context.seed}`, name: `Model ${ids.accounts.length}`, type: 'checking', category: 'fiat', currency: CURRENCY });
    case 'fund': return post(`/simulator/accounts/${ids.accounts[step.account]}/deposits`, { amount: step.amount });
    case 'issue':
      return post('/cards', { debitAccountId: ids.accounts[step.account], firstName: 'Model', lastName: `Card${ids.cards.length}`, type: 'virtual', currency: CURRENCY, typeId: context.programId, amount: step.amount });
    case 'topUp': return post(`/cards/${ids.cards[step.card]}/top-up`, { amount: step.amount });
    case 'withdraw': return post(`/cards/${ids.cards[step.card]}/withdraw`, { amount: step.amount });
    case 'authorize': {
      const body = {
        cardId: ids.cards[step.card], amount: step.amount, currency: CURRENCY, merchant: MERCHANT, entryMode: 'chip',
        partialApprovalSupported: step.partial, networkId: `model-${context.seed}-${context.n}`,
      };
      ids.auths.push({ id: '', body });
      return post('/simulator/authorizations', body);
    }
    case 'duplicate': return post('/simulator/authorizations', ids.auths[step.auth].body);
    case 'increment': return post(`${auth(step.auth)}/increment`, { amount: step.amount });
    case 'reverse': return post(`${auth(step.auth)}/reverse`, withAmount(step.amount));
    case 'capture': return post(`${auth(step.auth)}/capture`, withAmount(step.amount));
    case 'expire': return post(`${auth(step.auth)}/expire`, {});
    case 'refund': {
      const transactionId = step.transaction === undefined ? undefined : ids.transactions[step.transaction];
      return post('/simulator/refunds', { cardId: ids.cards[step.card], amount: step.amount, ...(transactionId ? { transactionId } : {}) });
    }
    case 'forceCapture': return post('/simulator/force-captures', { cardId: ids.cards[step.card], amount: step.amount, merchant: MERCHANT });
    case 'cancel': return post(`/cards/${ids.cards[step.card]}/cancel`, { reason: 'model test' });
    case 'expireCard': return post(`/simulator/cards/${ids.cards[step.card]}/expire`, {});
    case 'freeze': return post(`/cards/${ids.cards[step.card]}/freeze`, {});
    case 'unfreeze': return post(`/cards/${ids.cards[step.card]}/unfreeze`, {});
  }
}

function checkOutcome(step: Step, expected: Outcome, res: Response) {
  assert.equal(res.status, expected.status, `status: expected ${expected.status}${expected.code ? ` ${expected.code}` : ''}, got ${res.status}: ${res.text}`);
  if (expected.code) assert.equal(res.body?.error?.code, expected.code, `error code: ${res.text}`);
  if (!expected.auth) return;
  const got = res.body.data;
  const want = expected.auth;
  const view = (a: any) => ({
    status: a.status, approved: a.approved, declineReason: a.declineReason ?? null, requestedAmount: a.requestedAmount,
    approvedAmount: a.approvedAmount, heldAmount: a.heldAmount, capturedAmount: a.capturedAmount,
    history: a.history.map((h: any) => ({ kind: h.kind, amount: h.amount, approved: h.approved, reason: h.reason })),
  });
  assert.deepEqual(view(got), view(want), `authorization after ${step.op}: ${res.text}`);
}

/** Keeps the API's ids of what the step created, in the model's order, and checks transactions. */
async function record(api: Harness, model: Model, expected: Outcome, res: Response, ids: Ids) {
  const created = expected.created;
  if (!created) return;
  const data = res.body.data;
  if (created.kind === 'account') ids.accounts[created.index] = data.id;
  if (created.kind === 'card') ids.cards[created.index] = data.id;
  if (created.kind === 'auth') ids.auths[created.index].id = data.id;
  if (created.kind !== 'transaction') return;
  // Refunds and force captures answer with the transaction; a capture answers with its authorization.
  const transaction = typeof data.id === 'string' && data.id.startsWith('txn_') ? data : await captureOf(api, data.id);
  ids.transactions[created.index] = transaction.id;
  const want = model.transactions[created.index];
  assert.deepEqual(
    { type: transaction.type, cardId: transaction.cardId, amount: transaction.amount, receivableAmount: transaction.receivableAmount },
    { type: want.type, cardId: ids.cards[want.card], amount: want.amount, receivableAmount: want.receivable },
    `transaction: ${JSON.stringify(transaction)}`,
  );
}

/** A refund of a given transaction adds to what that transaction has refunded. */
async function checkRefunded(api: Harness, model: Model, ids: Ids, index: number) {
  const res = await api.request('GET', `/transactions/${ids.transactions[index]}`);
  assert.equal(res.status, 200, res.text);
  assert.equal(res.body.data.refundedAmount, model.transactions[index].refunded, `refundedAmount of transaction ${index}: ${res.text}`);
}

async function captureOf(api: Harness, authorizationId: string) {
  const res = await api.request('GET', `/transactions?authorizationId=${authorizationId}&type=capture`);
  assert.equal(res.status, 200, res.text);
  assert.equal(res.body.data.length, 1, `one capture per authorization: ${res.text}`);
  return res.body.data[0];
}

async function listAll(api: Harness, path: string): Promise<any[]> {
  const res = await api.request('GET', `${path}?limit=100`);
  assert.equal(res.status, 200, res.text);
  assert.equal(res.body.meta.hasMore, false, `${path}: more than one page`);
  return res.body.data;
}

async function checkBalances(api: Harness, model: Model, ids: Ids): Promise<FinalBalances> {
  const [accounts, cards] = await Promise.all([listAll(api, '/accounts'), listAll(api, '/cards')]);
  const byId = new Map<string, any>([...accounts, ...cards].map((x) => [x.id, x]));
  const found = (id: string) => {
    const item = byId.get(id);
    assert.ok(item, `${id} is missing from the lists`);
    return item;
  };
  const actual = (id: string): Balance => {
    const { available, pending, posted } = found(id).balance;
    return { available, pending, posted };
  };
  const actualCard = (id: string): CardBalance => {
    const { available, pending } = found(id).balance;
    return { available, pending };
  };
  const mismatches: string[] = [];
  ids.accounts.forEach((id, i) => {
    const want = model.accountBalance(i);
    if (!same(actual(id), want)) mismatches.push(`account ${i} (${id}): API ${JSON.stringify(actual(id))}, model ${JSON.stringify(want)}`);
  });
  ids.cards.forEach((id, i) => {
    const want = model.cardBalance(i);
    if (!same(actualCard(id), want)) mismatches.push(`card ${i} (${id}): API ${JSON.stringify(found(id).balance)}, model ${JSON.stringify(want)}`);
    if (byId.get(id).status !== model.cards[i].status) mismatches.push(`card ${i} (${id}): API status ${byId.get(id).status}, model ${model.cards[i].status}`);
  });
  assert.deepEqual(mismatches, [], `balances differ:\n${mismatches.join('\n')}`);
  return {
    accounts: ids.accounts.map(actual),
    cards: ids.cards.map((id) => ({ ...actualCard(id), status: byId.get(id).status })),
  };
}

const same = (a: CardBalance & { posted?: number }, b: CardBalance & { posted?: number }) =>
  a.available === b.available && a.pending === b.pending && a.posted === b.posted;


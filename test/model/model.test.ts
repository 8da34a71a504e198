// Pure tests of the model and the workload generator (no app, no database): the model must be
// right on its own before it can judge the API.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Model, type Step } from './model.ts';
import { prng } from './prng.ts';
import { generate } from './workload.ts';

const OPENING = 10_000;

function run(steps: Step[]) {
  const model = new Model(OPENING);
  const outcomes = steps.map((s) => model.apply(s));
  return { model, outcomes };
}

const start: Step[] = [{ op: 'openAccount' }, { op: 'issue', account: 0, amount: 1_000 }];

test('issuing a card moves its funding from the account; an account that cannot cover it issues nothing', () => {
  const { model, outcomes } = run([...start, { op: 'issue', account: 0, amount: 9_001 }]);
  assert.deepEqual(model.accountBalance(0), { available: 9_000, pending: 0, posted: 9_000 });
  assert.deepEqual(model.cardBalance(0), { available: 1_000, pending: 0 });
  assert.deepEqual(outcomes[2], { status: 422, code: 'insufficient_funds' });
  assert.equal(model.cards.length, 1);
});

test('top-up and withdrawal move money both ways and refuse what the payer lacks', () => {
  const { model, outcomes } = run([...start, { op: 'topUp', card: 0, amount: 500 }, { op: 'withdraw', card: 0, amount: 1_501 }, { op: 'withdraw', card: 0, amount: 300 }]);
  assert.deepEqual(outcomes.slice(2).map((o) => o.status), [200, 422, 200]);
  assert.equal(model.cardBalance(0).available, 1_200);
  assert.equal(model.accountBalance(0).available, 8_800);
});

test('authorizations: full approval holds, partial approval holds what is there, otherwise a decline holds nothing', () => {
  const { model, outcomes } = run([
    ...start,
    { op: 'authorize', card: 0, amount: 400, partial: false },
    { op: 'authorize', card: 0, amount: 700, partial: false },
    { op: 'authorize', card: 0, amount: 700, partial: true },
    { op: 'authorize', card: 0, amount: 1, partial: true },
  ]);
  assert.deepEqual(outcomes.slice(2).map((o) => [o.auth!.status, o.auth!.approvedAmount, o.auth!.declineReason]), [
    ['pending', 400, null], ['declined', 0, 'insufficient_funds'], ['pending', 600, null], ['declined', 0, 'insufficient_funds'],
  ]);
  assert.deepEqual(model.cardBalance(0), { available: 0, pending: 1_000 });
});

test('a duplicate network message answers the stored decision and holds once', () => {
  const { model, outcomes } = run([...start, { op: 'authorize', card: 0, amount: 400, partial: false }, { op: 'duplicate', auth: 0 }]);
  assert.deepEqual(outcomes[3].auth, outcomes[2].auth);
  assert.equal(model.cardBalance(0).pending, 400);
});

test('increments grow the hold while the card can cover them, and leave it alone otherwise', () => {
  const { model, outcomes } = run([...start, { op: 'authorize', card: 0, amount: 400, partial: false },
    { op: 'increment', auth: 0, amount: 500 }, { op: 'increment', auth: 0, amount: 101 }]);
  assert.equal(outcomes[3].auth!.heldAmount, 900);
  assert.equal(outcomes[4].auth!.heldAmount, 900);
  assert.deepEqual(model.cardBalance(0), { available: 100, pending: 900 });
});

test('captures under, equal to and over the hold; over the card\'s balance becomes a receivable', () => {
  const { model, outcomes } = run([...start,
    { op: 'authorize', card: 0, amount: 300, partial: false }, { op: 'capture', auth: 0, amount: 200 },
    { op: 'authorize', card: 0, amount: 300, partial: false }, { op: 'capture', auth: 1 },
    { op: 'authorize', card: 0, amount: 100, partial: false }, { op: 'capture', auth: 2, amount: 150 },
    { op: 'authorize', card: 0, amount: 100, partial: false }, { op: 'capture', auth: 3, amount: 1_000 },
  ]);
  assert.deepEqual(outcomes.filter((_, i) => i > 2 && i % 2 === 1).map((o) => [o.auth!.status, o.auth!.capturedAmount, o.auth!.heldAmount]),
    [['closed', 200, 0], ['closed', 300, 0], ['closed', 150, 0], ['closed', 1_000, 0]]);
  // 1000 − 200 − 300 − 150 = 350 left before the last capture: 100 from its hold, 250 from the
  // balance, 650 owed.
  assert.deepEqual(model.cardBalance(0), { available: 0, pending: 0 });
  assert.equal(model.cards[0].receivable, 650);
});

test('reversals release part or all of a hold; a settled authorization refuses further messages', () => {
  const { model, outcomes } = run([...start, { op: 'authorize', card: 0, amount: 600, partial: false },
    { op: 'reverse', auth: 0, amount: 200 }, { op: 'reverse', auth: 0, amount: 401 }, { op: 'reverse', auth: 0 },
    { op: 'capture', auth: 0, amount: 10 }, { op: 'expire', auth: 0 }, { op: 'increment', auth: 0, amount: 1 }]);
  assert.deepEqual(outcomes.slice(3).map((o) => [o.status, o.code ?? o.auth?.status]), [
    [200, 'pending'], [422, 'amount_exceeds_hold'], [200, 'reversed'], [409, 'authorization_not_capturable'],
    [409, 'authorization_not_pending'], [409, 'authorization_not_pending'],
  ]);
  assert.deepEqual(model.cardBalance(0), { available: 1_000, pending: 0 });
});

test('an expired hold is released, and a capture after expiry still takes the money from the card', () => {
  const { model, outcomes } = run([...start, { op: 'authorize', card: 0, amount: 600, partial: false }, { op: 'expire', auth: 0 }, { op: 'capture', auth: 0 }, { op: 'capture', auth: 0, amount: 1 }]);
  assert.equal(outcomes[3].auth!.status, 'expired');
  // With no hold left, a capture without an amount takes what expired, from the card's balance.
  assert.deepEqual([outcomes[4].auth!.status, outcomes[4].auth!.capturedAmount], ['closed', 600]);
  assert.equal(outcomes[5].status, 409);
  assert.deepEqual(model.cardBalance(0), { available: 400, pending: 0 });
  const again = run([...start, { op: 'authorize', card: 0, amount: 600, partial: false }, { op: 'expire', auth: 0 }, { op: 'capture', auth: 0, amount: 1_100 }]);
  assert.deepEqual(again.model.cardBalance(0), { available: 0, pending: 0 });
  assert.equal(again.model.cards[0].receivable, 100);
});

test('force captures debit the card, refunds credit it, bounded by the refunded transaction', () => {
  const { model, outcomes } = run([...start, { op: 'forceCapture', card: 0, amount: 300 },
    { op: 'refund', card: 0, amount: 301, transaction: 0 }, { op: 'refund', card: 0, amount: 100, transaction: 0 }, { op: 'refund', card: 0, amount: 50 }]);
  assert.deepEqual(outcomes.slice(2).map((o) => o.status), [201, 422, 201, 201]);
  assert.equal(model.cardBalance(0).available, 850);
  assert.equal(model.transactions[0].refunded, 100);
});

test('cancelling returns the card\'s balance, and money freed from its holds later returns too', () => {
  const { model, outcomes } = run([...start, { op: 'authorize', card: 0, amount: 600, partial: false }, { op: 'cancel', card: 0 }]);
  assert.deepEqual(model.cardBalance(0), { available: 0, pending: 600 });
  assert.equal(model.accountBalance(0).available, 9_400);
  const more = [{ op: 'authorize', card: 0, amount: 1, partial: false }, { op: 'capture', auth: 0, amount: 100 }, { op: 'topUp', card: 0, amount: 1 }, { op: 'cancel', card: 0 }] as Step[];
  const outcomesAfter = more.map((s) => model.apply(s));
  assert.equal(outcomes[3].status, 200);
  assert.equal(outcomesAfter[0].auth!.declineReason, 'card_not_active');
  assert.deepEqual(outcomesAfter.slice(1).map((o) => o.status), [200, 409, 409]);
  assert.deepEqual(model.cardBalance(0), { available: 0, pending: 0 });
  assert.equal(model.accountBalance(0).available, 9_900);
});

test('a frozen card declines authorizations and increments but still clears, refunds and takes money in and out', () => {
  const { model, outcomes } = run([...start, { op: 'authorize', card: 0, amount: 300, partial: false }, { op: 'freeze', card: 0 },
    { op: 'authorize', card: 0, amount: 1, partial: false }, { op: 'increment', auth: 0, amount: 1 }, { op: 'capture', auth: 0, amount: 350 },
    { op: 'topUp', card: 0, amount: 100 }, { op: 'withdraw', card: 0, amount: 50 }, { op: 'freeze', card: 0 }, { op: 'unfreeze', card: 0 },
    { op: 'unfreeze', card: 0 }, { op: 'authorize', card: 0, amount: 1, partial: false }]);
  assert.equal(outcomes[4].auth!.declineReason, 'card_not_active');
  assert.deepEqual(outcomes[5].auth!.history.at(-1), { kind: 'increment', amount: 1, approved: false, reason: 'card_not_active' });
  assert.deepEqual(outcomes.slice(6).map((o) => o.status), [200, 200, 200, 409, 200, 409, 201]);
  assert.equal(outcomes[12].auth!.status, 'pending');
  assert.deepEqual(model.cardBalance(0), { available: 699, pending: 1 });
});

test('the workload is deterministic per seed and different across seeds', () => {
  assert.deepEqual(generate(7, 100, OPENING), generate(7, 100, OPENING));
  assert.notDeepEqual(generate(7, 100, OPENING), generate(8, 100, OPENING));
  const r = prng(1);
  const draws = Array.from({ length: 1_000 }, () => r.int(1, 6));
  assert.ok(draws.every((d) => d >= 1 && d <= 6) && new Set(draws).size === 6);
});

test('money is conserved and nothing goes negative over long random workloads', () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    const model = new Model(OPENING);
    let inflow = 0;
    for (const step of generate(seed, 400, OPENING)) {
      const outcome = model.apply(step);
      if (step.op === 'openAccount') inflow += OPENING;
      if (step.op === 'fund') inflow += step.amount;
      if (outcome.created?.kind === 'transaction') {
        const t = model.transactions[outcome.created.index];
        inflow += t.type === 'refund' ? t.amount : -t.amount;
      }
      const held = model.auths.reduce((sum, a) => sum + a.heldAmount, 0);
      const posted = [...model.accounts.map((a) => a.posted), ...model.cards.map((c) => c.posted)];
      const receivables = model.cards.reduce((sum, c) => sum + c.receivable, 0);
      assert.equal(posted.reduce((a, b) => a + b, 0), inflow + receivables, `seed ${seed}: money appeared or vanished at ${JSON.stringify(step)}`);
      assert.equal(model.cards.reduce((sum, _, i) => sum + model.cardBalance(i).pending, 0), held);
      for (const [i] of model.cards.entries()) assert.ok(model.cardBalance(i).available >= 0, `seed ${seed}: card ${i} below zero`);
    }
  }
});

test('the default workloads reach every operation and every interesting outcome', () => {
  const seen = new Set<string>();
  for (const seed of [1, 20261121, 424242]) {
    const model = new Model(20_000);
    for (const step of generate(seed, 150, 20_000)) {
      const before = step.op === 'capture' ? { ...model.auths[step.auth] } : null;
      const availableBefore = 'card' in step ? model.available(step.card) : 0;
      const o = model.apply(step);
      seen.add(step.op);
      if (o.code) seen.add(`${step.op}:${o.code}`);
      if (step.op === 'authorize' && o.auth!.approved && o.auth!.approvedAmount < step.amount) seen.add('partial approval');
      if (o.auth?.declineReason) seen.add(`decline:${o.auth.declineReason}`);
      if (step.op === 'reverse' && o.auth?.status === 'pending') seen.add('partial reversal');
      if (step.op === 'increment' && o.auth && o.auth.heldAmount === model.auths[step.auth].heldAmount && o.status === 200 && step.amount > availableBefore) seen.add('increment refused');
      if (before && o.status === 200) {
        const amount = step.op === 'capture' ? step.amount ?? before.heldAmount : 0;
        seen.add(before.status === 'expired' ? 'capture after expiry' : amount < before.heldAmount ? 'capture under' : amount === before.heldAmount ? 'capture equal' : 'capture over');
      }
      if (model.cards.some((c) => c.receivable > 0)) seen.add('receivable');
      if ((step.op === 'reverse' || step.op === 'expire' || step.op === 'capture') && o.status === 200 && model.cards[model.auths[step.auth].card].status === 'expired') seen.add('hold released on an expired card');
      if (step.op === 'capture' && o.status === 200 && model.cards[model.auths[step.auth].card].status === 'locked') seen.add('capture on a frozen card');
      if (step.op === 'authorize' && o.auth?.declineReason === 'card_not_active' && model.cards[step.card].status === 'locked') seen.add('frozen card declines');
    }
  }
  const wanted = ['openAccount', 'fund', 'issue', 'topUp', 'withdraw', 'authorize', 'duplicate', 'increment', 'reverse', 'capture',
    'expire', 'refund', 'forceCapture', 'cancel', 'partial approval', 'decline:insufficient_funds', 'decline:card_not_active', 'partial reversal',
    'increment refused', 'capture under', 'capture equal', 'capture over', 'capture after expiry', 'receivable', 'withdraw:insufficient_funds',
    'capture:authorization_not_capturable', 'reverse:authorization_not_pending', 'topUp:card_closed', 'refund:refund_exceeds_transaction',
    'freeze', 'unfreeze', 'capture on a frozen card', 'frozen card declines', 'expireCard', 'hold released on an expired card'];
  assert.deepEqual(wanted.filter((w) => !seen.has(w)), [], `seen: ${[...seen].sort().join(', ')}`);
});

// The seeded random workload: a list of steps chosen from the model's state, so most of them are
// meaningful (captures of live holds, refunds of real transactions) and some are meant to fail
// (withdrawing more than the card holds, capturing a reversed authorization). The same seed gives
// the same list on every run; the list alone replays a failure.
import { closed, Model, type Step } from './model.ts';
import { prng, type Prng } from './prng.ts';

export const MAX_ACCOUNTS = 3;
export const MAX_CARDS = 8;

const indexes = <T>(items: readonly T[], keep: (item: T) => boolean) => items.flatMap((item, i) => (keep(item) ? [i] : []));

/** Amounts of a few dollars to a few tens of dollars, sometimes more than anything holds. */
const amount = (r: Prng, max = 3_000) => (r.chance(0.05) ? r.int(max, max * 10) : r.int(1, max));

export function generate(seed: number, count: number, openingBalance: number): Step[] {
  const r = prng(seed);
  const model = new Model(openingBalance);
  const steps: Step[] = [];
  const push = (step: Step) => {
    steps.push(step);
    model.apply(step);
  };
  push({ op: 'openAccount' });
  push({ op: 'issue', account: 0, amount: r.int(2_000, 6_000) });
  while (steps.length < count) push(next(r, model));
  return steps;
}

function next(r: Prng, model: Model): Step {
  const activeCards = indexes(model.cards, (c) => c.status === 'active');
  const pending = indexes(model.auths, (a) => a.status === 'pending');
  const expired = indexes(model.auths, (a) => a.status === 'expired');
  const settled = indexes(model.auths, (a) => a.status !== 'pending' && a.status !== 'expired');
  const charges = indexes(model.transactions, (t) => t.type !== 'refund' && t.amount > t.refunded);
  const cards = model.cards.map((_, i) => i);
  const closedCards = indexes(model.cards, closed);
  const locked = indexes(model.cards, (c) => c.status === 'locked');
  const kind = r.weighted({
    openAccount: model.accounts.length < MAX_ACCOUNTS ? 2 : 0,
    fund: 4,
    issue: model.cards.length < MAX_CARDS ? 6 : 0,
    topUp: 6,
    withdraw: 4,
    authorize: 24,
    duplicate: model.auths.length ? 5 : 0,
    increment: pending.length ? 6 : 0,
    reverse: pending.length ? 8 : 0,
    capture: pending.length + expired.length ? 12 : 0,
    expire: pending.length ? 5 : 0,
    refund: charges.length ? 4 : 0,
    forceCapture: activeCards.length ? 3 : 0,
    cancel: activeCards.length > 2 ? 2 : 0,
    expireCard: activeCards.length > 2 ? 2 : 0,
    freeze: activeCards.length > 1 ? 3 : 0,
    unfreeze: locked.length ? 2 : 0,
    misuse: settled.length ? 2 : 0,
    closedCard: closedCards.length ? 2 : 0,
  });
  const anyCard = () => r.pick(r.chance(0.85) && activeCards.length ? activeCards : cards);
  switch (kind) {
    case 'openAccount': return { op: 'openAccount' };
    case 'fund': return { op: 'fund', account: r.int(0, model.accounts.length - 1), amount: r.int(1_000, 20_000) };
    case 'issue': return { op: 'issue', account: r.int(0, model.accounts.length - 1), amount: r.chance(0.05) ? r.int(50_000, 500_000) : r.int(500, 6_000) };
    case 'topUp': return { op: 'topUp', card: anyCard(), amount: amount(r, 4_000) };
    case 'withdraw': {
      const card = anyCard();
      return { op: 'withdraw', card, amount: r.chance(0.2) ? model.available(card) + r.int(1, 500) : r.int(1, Math.max(1, model.available(card))) };
    }
    case 'authorize': {
      // Now and then a card that cannot pay: closed for good, or frozen.
      const card = closedCards.length && r.chance(0.1) ? r.pick(closedCards) : locked.length && r.chance(0.1) ? r.pick(locked) : anyCard();
      return { op: 'authorize', card, amount: amount(r), partial: r.chance(0.4) };
    }
    case 'duplicate': return { op: 'duplicate', auth: r.int(0, model.auths.length - 1) };
    case 'increment': return { op: 'increment', auth: r.pick(pending), amount: amount(r, 1_500) };
    case 'reverse': {
      const auth = r.pick(pending);
      const held = model.auths[auth].heldAmount;
      return r.chance(0.5) || held < 2 ? { op: 'reverse', auth } : { op: 'reverse', auth, amount: r.int(1, held - 1) };
    }
    case 'capture': return capture(r, model, r.pick([...pending, ...expired]));
    case 'expire': return { op: 'expire', auth: r.pick(pending) };
    case 'refund': {
      const transaction = r.pick(charges);
      const t = model.transactions[transaction];
      // Now and then more than is left to refund, or against another card's transaction: refused.
      if (r.chance(0.1)) return { op: 'refund', card: t.card, amount: t.amount - t.refunded + r.int(1, 100), transaction };
      if (r.chance(0.05)) return { op: 'refund', card: r.pick(cards), amount: 1, transaction };
      const refund = r.int(1, t.amount - t.refunded);
      return r.chance(0.5) ? { op: 'refund', card: t.card, amount: refund, transaction } : { op: 'refund', card: t.card, amount: refund };
    }
    case 'forceCapture': return { op: 'forceCapture', card: anyCard(), amount: amount(r, 2_000) };
    case 'cancel': return { op: 'cancel', card: r.pick(r.chance(0.8) ? activeCards : cards) };
    case 'expireCard': return { op: 'expireCard', card: r.pick(r.chance(0.8) ? activeCards : cards) };
    case 'freeze': return { op: 'freeze', card: r.pick(r.chance(0.9) ? activeCards : cards) };
    case 'unfreeze': return { op: 'unfreeze', card: r.pick(r.chance(0.9) ? locked : cards) };
    case 'misuse': return misuse(r, r.pick(settled));
    case 'closedCard': {
      // Money in or out of a closedCards or expired card, or cancelling it again: refused.
      const card = r.pick(closedCards);
      return r.pick<Step>([{ op: 'topUp', card, amount: r.int(1, 500) }, { op: 'withdraw', card, amount: r.int(1, 500) }, { op: 'cancel', card }]);
    }
  }
}

/** Under, equal to, or over the hold (over by a little, or by more than the card holds). */
function capture(r: Prng, model: Model, auth: number): Step {
  const { heldAmount, card } = model.auths[auth];
  const shape = r.weighted({ full: 3, equal: 2, under: 3, over: 2, farOver: heldAmount ? 1 : 0 });
  switch (shape) {
    case 'full': return { op: 'capture', auth };
    case 'equal': return { op: 'capture', auth, amount: Math.max(1, heldAmount) };
    case 'under': return { op: 'capture', auth, amount: heldAmount > 1 ? r.int(1, heldAmount - 1) : r.int(1, 500) };
    case 'over': return { op: 'capture', auth, amount: heldAmount + r.int(1, 300) };
    case 'farOver': return { op: 'capture', auth, amount: heldAmount + Math.max(0, model.available(card)) + r.int(1, 1_000) };
  }
}

/** A follow-up message on an authorization that is already settled: the API must refuse it. */
function misuse(r: Prng, auth: number): Step {
  switch (r.int(0, 3)) {
    case 0: return { op: 'capture', auth, amount: r.int(1, 500) };
    case 1: return { op: 'reverse', auth };
    case 2: return { op: 'expire', auth };
    default: return { op: 'increment', auth, amount: r.int(1, 500) };
  }
}

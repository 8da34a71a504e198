// A pure model of Paygen's balances and holds: funding accounts, cards and authorizations, and
// the simulated card network's operations on them. It knows nothing of HTTP or SQL; the replayer
// applies the same steps to the API and compares. Where the engine's behaviour is a documented
// choice rather than API.md's contract, the choice is named in SEMANTICS below.
import { createHash } from 'node:crypto';

/** The engine's documented choices the model follows (see the authorizations guide and schemas). */
export const SEMANTICS = {
  /** HTTP status of the follow-up network messages (increment, capture, reverse, expire). */
  followUpStatus: 200,
  /** Only a pending or expired authorization can be captured (clearing.service.ts). */
  captureStatuses: ['pending', 'expired'] as readonly AuthStatus[],
  declineReasons: { cardInactive: 'card_not_active', insufficientFunds: 'insufficient_funds' },
  /** Error codes of refused network messages (authorizations and transactions schemas/services). */
  errors: {
    notPending: { status: 409, code: 'authorization_not_pending' },
    notCapturable: { status: 409, code: 'authorization_not_capturable' },
    exceedsHold: { status: 422, code: 'amount_exceeds_hold' },
    notRefundable: { status: 422, code: 'transaction_not_refundable' },
    refundExceeds: { status: 422, code: 'refund_exceeds_transaction' },
  },
} as const;

export type AuthStatus = 'pending' | 'closed' | 'reversed' | 'expired' | 'declined';

export type Step =
  | { op: 'openAccount' }
  | { op: 'fund'; account: number; amount: number }
  | { op: 'issue'; account: number; amount: number }
  | { op: 'topUp'; card: number; amount: number }
  | { op: 'withdraw'; card: number; amount: number }
  | { op: 'authorize'; card: number; amount: number; partial: boolean }
  | { op: 'duplicate'; auth: number }
  | { op: 'increment'; auth: number; amount: number }
  | { op: 'reverse'; auth: number; amount?: number }
  | { op: 'capture'; auth: number; amount?: number }
  | { op: 'expire'; auth: number }
  | { op: 'refund'; card: number; amount: number; transaction?: number }
  | { op: 'forceCapture'; card: number; amount: number }
  | { op: 'cancel'; card: number }
  | { op: 'freeze'; card: number }
  /** The simulator's card expiry: like a cancellation, the card leaves for good. */
  | { op: 'expireCard'; card: number }
  | { op: 'unfreeze'; card: number };

export interface AccountState { posted: number; pending: number }
export interface CardState {
  account: number;
  /** Only an active card pays; a locked (frozen) one still clears and takes money in and out. */
  status: 'active' | 'locked' | 'cancelled' | 'expired';
  posted: number;
  pending: number;
  /** What over-captures took beyond the card's balance (owed by the card's owner). */
  receivable: number;
}
export interface AuthState {
  card: number;
  status: AuthStatus;
  approved: boolean;
  declineReason: string | null;
  requestedAmount: number;
  approvedAmount: number;
  heldAmount: number;
  capturedAmount: number;
  /** The hold an expiry released: what a capture without an amount takes after expiry. */
  expiredAmount: number;
  history: HistoryEntry[];
}
export interface HistoryEntry {
  kind: 'authorization' | 'increment' | 'capture' | 'reversal' | 'expiry';
  /** Approved (0 for a decline), asked for (increments), captured, released or expired. */
  amount: number;
  approved: boolean;
  reason: string | null;
}
export interface TransactionState {
  card: number;
  type: 'capture' | 'refund' | 'force_capture';
  amount: number;
  refunded: number;
  /** The part of a capture or force capture the card could not cover. */
  receivable: number;
}

/** What the API must answer to a step: status code, error code, or the authorization it leaves. */
export interface Outcome {
  status: number;
  code?: string;
  /** The index of what the step created, if anything. */
  created?: { kind: 'account' | 'card' | 'auth' | 'transaction'; index: number };
  auth?: AuthState;
}

export interface Balance { available: number; pending: number; posted: number }
/** A card shows what it can spend and what is on hold (API.md: `balance {available, pending}`). */
export interface CardBalance { available: number; pending: number }

export class Model {
  readonly accounts: AccountState[] = [];
  readonly cards: CardState[] = [];
  readonly auths: AuthState[] = [];
  readonly transactions: TransactionState[] = [];

  constructor(readonly openingBalance: number) {}

  /** A deep copy (the replayer keeps the state before a step it may have to take back). */
  clone(): Model {
    const copy = new Model(this.openingBalance);
    copy.accounts.push(...this.accounts.map((a) => ({ ...a })));
    copy.cards.push(...this.cards.map((c) => ({ ...c })));
    copy.auths.push(...this.auths.map(snapshot));
    copy.transactions.push(...this.transactions.map((t) => ({ ...t })));
    return copy;
  }

  accountBalance(i: number): Balance {
    const a = this.accounts[i];
    return { available: a.posted - a.pending, pending: a.pending, posted: a.posted };
  }

  cardBalance(i: number): CardBalance {
    const c = this.cards[i];
    return { available: c.posted - c.pending, pending: c.pending };
  }

  available(card: number) {
    return this.cardBalance(card).available;
  }

  apply(step: Step): Outcome {
    switch (step.op) {
      case 'openAccount': return this.openAccount();
      case 'fund': return this.fund(step.account, step.amount);
      case 'issue': return this.issue(step.account, step.amount);
      case 'topUp': return this.topUp(step.card, step.amount);
      case 'withdraw': return this.withdraw(step.card, step.amount);
      case 'authorize': return this.authorize(step.card, step.amount, step.partial);
      case 'duplicate': return { status: 201, auth: snapshot(this.auths[step.auth]) };
      case 'increment': return this.increment(step.auth, step.amount);
      case 'reverse': return this.reverse(step.auth, step.amount);
      case 'capture': return this.capture(step.auth, step.amount);
      case 'expire': return this.expire(step.auth);
      case 'refund': return this.refund(step.card, step.amount, step.transaction);
      case 'forceCapture': return this.forceCapture(step.card, step.amount);
      case 'cancel': return this.close(step.card, 'cancelled');
      case 'expireCard': return this.close(step.card, 'expired');
      case 'freeze': return this.setStatus(step.card, 'active', 'locked');
      case 'unfreeze': return this.setStatus(step.card, 'locked', 'active');
    }
  }

  private openAccount(): Outcome {
    this.accounts.push({ posted: this.openingBalance, pending: 0 });
    return { status: 201, created: { kind: 'account', index: this.accounts.length - 1 } };
  }

  private fund(account: number, amount: number): Outcome {
    this.accounts[account].posted += amount;
    return { status: 201 };
  }

  private issue(account: number, amount: number): Outcome {
    if (this.accountBalance(account).available < amount) return { status: 422, code: 'insufficient_funds' };
    this.accounts[account].posted -= amount;
    this.cards.push({ account, status: 'active', posted: amount, pending: 0, receivable: 0 });
    return { status: 201, created: { kind: 'card', index: this.cards.length - 1 } };
  }

  private topUp(card: number, amount: number): Outcome {
    const c = this.cards[card];
    if (closed(c)) return { status: 409, code: 'card_closed' };
    if (this.accountBalance(c.account).available < amount) return { status: 422, code: 'insufficient_funds' };
    this.accounts[c.account].posted -= amount;
    c.posted += amount;
    return { status: 200 };
  }

  private withdraw(card: number, amount: number): Outcome {
    const c = this.cards[card];
    if (closed(c)) return { status: 409, code: 'card_closed' };
    if (this.available(card) < amount) return { status: 422, code: 'insufficient_funds' };
    c.posted -= amount;
    this.accounts[c.account].posted += amount;
    return { status: 200 };
  }

  private authorize(card: number, amount: number, partial: boolean): Outcome {
    const c = this.cards[card];
    const auth: AuthState = {
      card, status: 'declined', approved: false, declineReason: null, requestedAmount: amount,
      approvedAmount: 0, heldAmount: 0, capturedAmount: 0, expiredAmount: 0, history: [],
    };
    const available = this.available(card);
    if (c.status !== 'active') auth.declineReason = SEMANTICS.declineReasons.cardInactive;
    else if (available < amount && !(partial && available > 0)) auth.declineReason = SEMANTICS.declineReasons.insufficientFunds;
    else {
      const approved = Math.min(amount, available);
      Object.assign(auth, { status: 'pending', approved: true, approvedAmount: approved, heldAmount: approved });
      c.pending += approved;
    }
    auth.history.push({ kind: 'authorization', amount: auth.approvedAmount, approved: auth.approved, reason: auth.declineReason });
    this.auths.push(auth);
    return { status: 201, created: { kind: 'auth', index: this.auths.length - 1 }, auth: snapshot(auth) };
  }

  private increment(index: number, amount: number): Outcome {
    const auth = this.auths[index];
    if (auth.status !== 'pending') return { ...SEMANTICS.errors.notPending };
    const c = this.cards[auth.card];
    const reason = c.status !== 'active' ? SEMANTICS.declineReasons.cardInactive
      : this.available(auth.card) < amount ? SEMANTICS.declineReasons.insufficientFunds : null;
    auth.history.push({ kind: 'increment', amount, approved: !reason, reason });
    if (reason) return { status: SEMANTICS.followUpStatus, auth: snapshot(auth) };
    c.pending += amount;
    auth.heldAmount += amount;
    auth.approvedAmount += amount;
    return { status: SEMANTICS.followUpStatus, auth: snapshot(auth) };
  }

  private reverse(index: number, amount?: number): Outcome {
    const auth = this.auths[index];
    if (auth.status !== 'pending') return { ...SEMANTICS.errors.notPending };
    const released = amount ?? auth.heldAmount;
    if (released > auth.heldAmount) return { ...SEMANTICS.errors.exceedsHold };
    this.release(auth, released);
    auth.history.push({ kind: 'reversal', amount: released, approved: true, reason: null });
    if (auth.heldAmount === 0) auth.status = 'reversed';
    return { status: SEMANTICS.followUpStatus, auth: snapshot(auth) };
  }

  private expire(index: number): Outcome {
    const auth = this.auths[index];
    if (auth.status !== 'pending') return { ...SEMANTICS.errors.notPending };
    auth.expiredAmount = auth.heldAmount;
    auth.history.push({ kind: 'expiry', amount: auth.heldAmount, approved: true, reason: null });
    this.release(auth, auth.heldAmount);
    auth.status = 'expired';
    return { status: SEMANTICS.followUpStatus, auth: snapshot(auth) };
  }

  /**
   * A capture posts what it can from the hold and releases the rest of it; an amount beyond the
   * hold (or any amount after expiry, when there is no hold) is taken from the card's balance, and
   * what the balance cannot cover becomes a receivable. It always succeeds, as networks force it.
   */
  private capture(index: number, amount?: number): Outcome {
    const auth = this.auths[index];
    if (!SEMANTICS.captureStatuses.includes(auth.status)) return { ...SEMANTICS.errors.notCapturable };
    const total = amount ?? (auth.status === 'expired' ? auth.expiredAmount : auth.heldAmount);
    const fromHold = Math.min(total, auth.heldAmount);
    const c = this.cards[auth.card];
    c.pending -= auth.heldAmount;
    c.posted -= fromHold;
    const receivable = this.debitCard(auth.card, total - fromHold);
    auth.heldAmount = 0;
    auth.capturedAmount += total;
    auth.status = 'closed';
    auth.history.push({ kind: 'capture', amount: total, approved: true, reason: null });
    this.transactions.push({ card: auth.card, type: 'capture', amount: total, refunded: 0, receivable });
    this.sweepIfClosed(auth.card);
    return { status: SEMANTICS.followUpStatus, auth: snapshot(auth), created: { kind: 'transaction', index: this.transactions.length - 1 } };
  }

  private forceCapture(card: number, amount: number): Outcome {
    const receivable = this.debitCard(card, amount);
    this.transactions.push({ card, type: 'force_capture', amount, refunded: 0, receivable });
    return { status: 201, created: { kind: 'transaction', index: this.transactions.length - 1 } };
  }

  private refund(card: number, amount: number, transaction?: number): Outcome {
    if (transaction !== undefined) {
      const t = this.transactions[transaction];
      if (t.card !== card || t.type === 'refund') return { ...SEMANTICS.errors.notRefundable };
      if (t.amount - t.refunded < amount) return { ...SEMANTICS.errors.refundExceeds };
      t.refunded += amount;
    }
    this.cards[card].posted += amount;
    this.transactions.push({ card, type: 'refund', amount, refunded: 0, receivable: 0 });
    this.sweepIfClosed(card);
    return { status: 201, created: { kind: 'transaction', index: this.transactions.length - 1 } };
  }

  private setStatus(card: number, from: CardState['status'], to: CardState['status']): Outcome {
    const c = this.cards[card];
    if (c.status !== from) return { status: 409, code: 'invalid_status_transition' };
    c.status = to;
    return { status: 200 };
  }

  private close(card: number, status: 'cancelled' | 'expired'): Outcome {
    const c = this.cards[card];
    if (closed(c)) return { status: 409, code: 'invalid_status_transition' };
    c.status = status;
    this.sweepIfClosed(card);
    return { status: 200 };
  }

  private release(auth: AuthState, amount: number) {
    this.cards[auth.card].pending -= amount;
    auth.heldAmount -= amount;
    this.sweepIfClosed(auth.card);
  }

  /** Takes `amount` from the card's balance; what it cannot cover is a receivable (returned). */
  private debitCard(card: number, amount: number) {
    const c = this.cards[card];
    const covered = Math.max(0, Math.min(amount, this.available(card)));
    c.posted -= covered;
    c.receivable += amount - covered;
    return amount - covered;
  }

  /** A cancelled or expired card's freed money goes back to its debit account at once. */
  private sweepIfClosed(card: number) {
    const c = this.cards[card];
    const available = this.available(card);
    if (!closed(c) || available <= 0) return;
    c.posted -= available;
    this.accounts[c.account].posted += available;
  }

  /** Every balance, in a fixed order: what both databases must end with for a seed. */
  finalBalances(): FinalBalances {
    return {
      accounts: this.accounts.map((_, i) => this.accountBalance(i)),
      cards: this.cards.map((c, i) => ({ ...this.cardBalance(i), status: c.status })),
    };
  }

  fingerprint() {
    return fingerprintOf(this.finalBalances());
  }
}

/** Cancelled and expired cards are gone for good: their money goes home, none comes in. */
export const closed = (card: CardState) => card.status === 'cancelled' || card.status === 'expired';

const snapshot = (auth: AuthState): AuthState => ({ ...auth, history: auth.history.map((h) => ({ ...h })) });

export interface FinalBalances { accounts: Balance[]; cards: Array<CardBalance & { status: string }> }

export function fingerprintOf(balances: FinalBalances) {
  return createHash('sha256').update(JSON.stringify(balances)).digest('hex').slice(0, 16);
}

// Spend controls of API.md, checked in a fixed order: limits (per transaction, then per UTC
// interval), then merchant categories, then merchant countries. The program's default controls and
// the card's own count the card's spend; the card holder's count the spend of all the holder's cards.
import type { Queryable } from '../../platform/db.ts';
import { MAX_COUNTER } from '../../platform/money.ts';
import { periodAt, type BudgetInterval } from '../budgets/budget-periods.ts';
import type { SpendControls } from '../card-programs/card-programs.schemas.ts';
import type { DeclineReason, Merchant } from './authorizations.schemas.ts';
import * as repo from './authorizations.repo.ts';

export interface ControlSet {
  controls: SpendControls | null;
  /** Whose spend an interval limit counts. */
  scope: { cardId: string } | { cardHolderId: string };
  /** Start of the all_time interval (the card's creation; the epoch for a card holder). */
  since: Date;
}

const EPOCH = new Date(0);

export function controlSets(card: { id: string; created_at: Date; spend_controls: unknown; card_holder_id: string | null }, programControls: unknown, holderControls: unknown): ControlSet[] {
  const sets: ControlSet[] = [
    { controls: programControls as SpendControls | null, scope: { cardId: card.id }, since: card.created_at },
    { controls: card.spend_controls as SpendControls | null, scope: { cardId: card.id }, since: card.created_at },
  ];
  if (card.card_holder_id) sets.push({ controls: holderControls as SpendControls | null, scope: { cardHolderId: card.card_holder_id }, since: EPOCH });
  return sets.filter((s) => s.controls);
}

function merchantReason(controls: SpendControls, merchant: Merchant): DeclineReason | null {
  if (controls.allowedCategories?.length && !controls.allowedCategories.includes(merchant.mcc)) return 'category_blocked';
  if (controls.blockedCategories?.includes(merchant.mcc)) return 'category_blocked';
  if (controls.allowedCountries?.length && !controls.allowedCountries.includes(merchant.country)) return 'country_blocked';
  if (controls.blockedCountries?.includes(merchant.country)) return 'country_blocked';
  return null;
}

async function limitReason(db: Queryable, organizationId: string, set: ControlSet, amount: number, now: Date): Promise<DeclineReason | null> {
  for (const limit of set.controls?.limits ?? []) {
    if (limit.interval === 'per_transaction') {
      if (amount > limit.amount) return 'spend_limit_exceeded';
      continue;
    }
    const period = periodAt(limit.interval as BudgetInterval, now, set.since)!;
    const spent = await repo.spendBetween(db, organizationId, set.scope, period.start, now, MAX_COUNTER);
    if (spent + amount > limit.amount) return 'spend_limit_exceeded';
  }
  return null;
}

/** The first decline reason the controls give for `amount` at `merchant`, or null. */
export async function checkSpendControls(db: Queryable, organizationId: string, sets: ControlSet[], amount: number, merchant: Merchant, now: Date): Promise<DeclineReason | null> {
  for (const set of sets) {
    const reason = await limitReason(db, organizationId, set, amount, now);
    if (reason) return reason;
  }
  for (const set of sets) {
    const reason = merchantReason(set.controls!, merchant);
    if (reason) return reason;
  }
  return null;
}

// The card status machine of API.md. Every action names the statuses it may start from; anything
// else is 409 invalid_status_transition. Terminal statuses never leave.
import { ApiError } from '../../platform/errors.ts';
import type { CardStatus } from './cards.schemas.ts';

export type Actor = 'client' | 'simulator' | 'system';

export const TERMINAL: ReadonlySet<CardStatus> = new Set(['cancelled', 'expired', 'rejected']);
const LIVE: CardStatus[] = ['pending', 'issued', 'digital', 'active', 'locked', 'suspended'];

export type CardAction =
  | 'freeze' | 'unfreeze' | 'activate' | 'cancel'
  | 'issue' | 'fail' | 'ship' | 'deliver' | 'expire' | 'suspend' | 'reinstate';

interface Rule {
  from: CardStatus[];
  actor: Actor;
  /** The new status; `same` keeps it (shipping actions), `previous` returns to the one before. */
  to: CardStatus | 'same' | 'previous' | 'issued_or_active' | 'digital_or_same';
}

export const RULES: Record<CardAction, Rule> = {
  freeze: { from: ['active', 'digital'], actor: 'client', to: 'locked' },
  unfreeze: { from: ['locked'], actor: 'client', to: 'previous' },
  activate: { from: ['issued', 'digital'], actor: 'client', to: 'active' },
  cancel: { from: LIVE, actor: 'client', to: 'cancelled' },
  issue: { from: ['pending'], actor: 'simulator', to: 'issued_or_active' },
  fail: { from: ['pending'], actor: 'simulator', to: 'rejected' },
  ship: { from: ['issued'], actor: 'simulator', to: 'digital_or_same' },
  deliver: { from: ['issued', 'digital', 'active', 'locked', 'suspended'], actor: 'simulator', to: 'same' },
  expire: { from: LIVE, actor: 'simulator', to: 'expired' },
  suspend: { from: ['issued', 'digital', 'active', 'locked'], actor: 'simulator', to: 'suspended' },
  reinstate: { from: ['suspended'], actor: 'simulator', to: 'previous' },
};

export interface TransitionInput {
  status: CardStatus;
  type: 'virtual' | 'physical';
  /** The status the card had before it entered its current one (for unfreeze and reinstate). */
  previousStatus: CardStatus | null;
  digitalInTransit: boolean;
}

/** The status `action` leads to from the card's current status, or a 409. */
export function nextStatus(action: CardAction, card: TransitionInput): CardStatus {
  const rule = RULES[action];
  if (!rule.from.includes(card.status)) {
    throw new ApiError(409, 'invalid_status_transition', `A card that is ${card.status} cannot ${action}.`,
      [{ field: 'status', message: `${action} is allowed from ${rule.from.join(', ')}` }]);
  }
  switch (rule.to) {
    case 'same': return card.status;
    case 'previous': {
      const back = card.previousStatus;
      return back && ['issued', 'digital', 'active'].includes(back) ? back : 'active';
    }
    case 'issued_or_active': return card.type === 'physical' ? 'issued' : 'active';
    case 'digital_or_same': return card.digitalInTransit ? 'digital' : card.status;
    default: return rule.to;
  }
}

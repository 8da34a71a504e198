// Funds between a card and its debit account: top-up (account → card) and withdrawal
// (card → account). Both sides are guarded by the ledger, so neither can go below zero however
// many requests race. Budget cards have no balance of their own and take neither.
import type { Ctx } from '../../platform/context.ts';
import { ApiError, unprocessable } from '../../platform/errors.ts';
import * as accounts from '../accounts/accounts.service.ts';
import { recordEvent } from '../events/events.service.ts';
import * as ledger from '../ledger/ledger.service.ts';
import { lockCard } from './card-lifecycle.service.ts';
import { TERMINAL } from './card-status.ts';
import type { CardRow } from './cards.repo.ts';
import type { FundsBody } from './cards.schemas.ts';
import { readCard } from './cards.service.ts';

function assertFundable(card: CardRow) {
  if (TERMINAL.has(card.status)) throw new ApiError(409, 'card_closed', `The card is ${card.status}; its funds are settled.`);
  if (card.budget_id) throw unprocessable('budget_card', 'A budget card has no balance of its own; change the budget instead.', 'id');
}

function move(ctx: Ctx, organizationId: string, cardId: string, body: FundsBody, direction: 'top_up' | 'withdraw') {
  return ctx.db.transaction(async (tx) => {
    const now = ctx.clock.now();
    const card = await lockCard(tx, organizationId, cardId);
    assertFundable(card);
    const account = direction === 'top_up'
      ? await accounts.requireDebitable(tx, organizationId, card.debit_account_id, card.currency, 'debitAccountId')
      : await accounts.findForCard(tx, organizationId, card.debit_account_id);
    const [debit, credit] = direction === 'top_up' ? [account.ledger_account_id, card.ledger_account_id] : [card.ledger_account_id, account.ledger_account_id];
    await ledger.transfer(tx, {
      organizationId, debitAccountId: debit, creditAccountId: credit, amount: body.amount, currency: card.currency,
      code: direction === 'top_up' ? 'card_top_up' : 'card_withdrawal', referenceType: 'card', referenceId: card.id,
      description: body.description, at: now,
    });
    const after = await readCard(tx, organizationId, cardId);
    await recordEvent(tx, { organizationId, type: direction === 'top_up' ? 'card.topped_up' : 'card.withdrawn', resourceId: cardId, data: after, at: now });
    return after;
  });
}

export const topUp = (ctx: Ctx, organizationId: string, cardId: string, body: FundsBody) => move(ctx, organizationId, cardId, body, 'top_up');
export const withdraw = (ctx: Ctx, organizationId: string, cardId: string, body: FundsBody) => move(ctx, organizationId, cardId, body, 'withdraw');

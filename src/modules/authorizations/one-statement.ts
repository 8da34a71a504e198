// The common case of an authorization in ONE statement (issue 10): see authorizeInOneStatement.
import type { Ctx } from '../../platform/context.ts';
import { newId } from '../../platform/ids.ts';
import { recordEventPart } from '../events/events.service.ts';
import * as ledger from '../ledger/ledger.service.ts';
import type { Authorization } from './authorizations.schemas.ts';
import * as repo from './authorizations.repo.ts';
import { newRow, present, storedAnswer, type Request } from './authorization-row.ts';
import { withLockWait } from './lock-wait.ts';

/**
 * Cards this process found not plain (repo PLAIN_CARD), by organization and card id (so that
 * another organization naming the card changes nothing for it): until when to skip the statement.
 */
const notPlain = new Map<string, number>();
const NOT_PLAIN_FOR_MS = 60_000;
const MAX_NOT_PLAIN = 10_000;

/**
 * The common case in ONE statement, one round trip (DESIGN §3 step 5): a plain card (repo
 * PLAIN_CARD: every rule approves it without another read) that covers the whole amount. Otherwise
 * the statement writes nothing, the answer is undefined, and the caller takes the path that runs
 * the rules (authorizeUnderLock): declines, their reasons and their order stay the rules'. A card
 * found not plain takes that path directly for a minute (its controls, budget or program's webhook
 * rarely go away); the statement checks again whatever this remembers.
 */
export async function authorizeInOneStatement(ctx: Ctx, req: Request, settlementId: string): Promise<Authorization | undefined> {
  const { cardId } = req.body;
  const key = `${req.organizationId}:${cardId}`;
  if ((notPlain.get(key) ?? 0) > performance.now()) return undefined;
  // The request's arrival decides expiry here (the rules' path reads the clock after the card
  // lock, for its spend windows, which a plain card has none of): a lock wait (at most
  // AUTHORIZATION_LOCK_TIMEOUT_MS twice) cannot make an arrived payment expire.
  const now = ctx.clock.now();
  const row = newRow(req, { id: cardId, card_holder_id: null }, { amount: req.body.amount }, null, 0, now);
  const holdId = newId('tr', now.getTime());
  row.hold_ids = [{ id: holdId, amount: row.held_amount }];
  const hold = ledger.holdPart({
    id: holdId, organizationId: req.organizationId, creditAccountId: settlementId, amount: row.held_amount, currency: req.currency,
    code: 'authorization', referenceType: 'card', referenceId: cardId, description: row.merchant.name, at: now,
  }, 'ledger_account_id');
  // The event shows the row as stored: the hold's expiry (the program's lifetime) is merged in SQL.
  const event = recordEventPart(
    { organizationId: req.organizationId, type: 'authorization.created', resourceId: row.id, data: present(row), at: now },
    repo.presentedFromCard,
  );
  try {
    // The transaction's result is the answer, as on every path (an idempotency key's marker keeps it).
    return await withLockWait(ctx, async (tx) => {
      const sent = repo.insertForPlainCard(tx, row, hold, event);
      tx.commitEarly();
      return present(await sent);
    });
  } catch (error) {
    if (repo.isDuplicateNetworkId(error)) return storedAnswer(ctx, req.organizationId, req.body.networkId!);
    const refusal = repo.plainCardRefusal(error);
    if (refusal === 'card_not_plain') {
      // The oldest entry makes room (a Map keeps insertion order): no organization's stream of
      // unknown card ids can empty what is remembered for the others' cards at once.
      notPlain.delete(key);
      if (notPlain.size >= MAX_NOT_PLAIN) notPlain.delete(notPlain.keys().next().value!);
      notPlain.set(key, performance.now() + NOT_PLAIN_FOR_MS);
    }
    // A counter's limit on the settlement side: the rules' path gives the answer it always gave.
    if (refusal || ledger.refusalOf(error) === 'amount_limit_exceeded') return undefined;
    throw error;
  }
}

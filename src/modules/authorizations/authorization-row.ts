// The authorization row: how a new one is made from a request and a verdict, how it is shown, and
// how the stored one is answered when the same network message comes again. Shared by every path
// of authorizations.service.ts and by one-statement.ts.
import type { Ctx } from '../../platform/context.ts';
import type { CardRow } from '../cards/cards.repo.ts';
import type { Authorization, CreateAuthorizationBody, DeclineReason } from './authorizations.schemas.ts';
import * as repo from './authorizations.repo.ts';
import type { Decision } from './decision-webhook.ts';

const HOUR_MS = 60 * 60 * 1000;

export function present(row: repo.AuthorizationRow): Authorization {
  return {
    id: row.id, cardId: row.card_id, status: row.status, approved: row.approved, declineReason: row.decline_reason,
    requestedAmount: row.requested_amount, approvedAmount: row.approved_amount, heldAmount: row.held_amount,
    capturedAmount: row.captured_amount, currency: row.currency, merchant: row.merchant, entryMode: row.entry_mode,
    decisionSource: row.decision_source, decisionLatencyMs: row.decision_latency_ms, history: row.history,
    networkId: row.network_id, createdAt: row.created_at.toISOString(), updatedAt: row.updated_at.toISOString(),
    expiresAt: row.expires_at ? row.expires_at.toISOString() : null,
  };
}

export interface Request {
  id: string;
  organizationId: string;
  body: CreateAuthorizationBody;
  currency: string;
  partial: boolean;
}

/** What the rules allow: an amount, or a decline reason. */
export type Verdict = { amount: number } | { reason: DeclineReason };

export function newRow(req: Request, card: Pick<CardRow, 'id' | 'card_holder_id'>, verdict: Verdict, decision: Decision | null, holdTtlHours: number, now: Date): repo.AuthorizationRow {
  const approved = 'amount' in verdict;
  const amount = approved ? verdict.amount : 0;
  return {
    id: req.id, organization_id: req.organizationId, card_id: card.id, card_holder_id: card.card_holder_id,
    status: approved ? 'pending' : 'declined', approved, decline_reason: approved ? null : verdict.reason,
    requested_amount: req.body.amount, approved_amount: amount, held_amount: amount, captured_amount: 0,
    currency: req.currency, merchant: req.body.merchant, entry_mode: req.body.entryMode, partial_approval_supported: req.partial,
    decision_source: decision?.source ?? 'rules', decision_latency_ms: decision ? Math.round(decision.latencyMs) : null,
    network_id: req.body.networkId ?? null, hold_ids: [],
    history: [{ kind: 'authorization', amount, approved, reason: approved ? null : verdict.reason, at: now.toISOString() }],
    created_at: now, updated_at: now, expires_at: approved ? new Date(now.getTime() + holdTtlHours * HOUR_MS) : null,
  };
}

/** The authorization already stored for a network id (the same message came twice). */
export async function storedAnswer(ctx: Ctx, organizationId: string, networkId: string) {
  const row = await repo.findByNetworkId(ctx.db, organizationId, networkId);
  if (!row) throw new Error(`authorization with network id ${networkId} vanished`);
  return present(row);
}

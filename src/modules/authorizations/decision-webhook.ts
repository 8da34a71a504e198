// The program's real-time authorization decision webhook (API.md "Authorizations and
// transactions", DESIGN §4). Paygen POSTs a signed `authorization.request` and waits at most the
// program's `timeoutMs` for `{approved, amount?, reason?}`. It is the one synchronous network call
// on the authorization path, so the engine calls it after the rules pass and before it opens the
// ledger transaction: never call this inside a database transaction. Any failure — timeout,
// refused address, connection error, non-2xx, a malformed or oversized body — yields the program's
// fallback, with the source telling which.
import { randomBytes } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { Webhook } from 'standardwebhooks';
import type { Ctx } from '../../platform/context.ts';
import { OutboundError, sendOutbound } from '../../platform/outbound-http.ts';
import { authorizationWebhookSecret, type ProgramRow } from '../card-programs/card-programs.service.ts';

/** Bytes of the receiver's answer that are read; a longer answer is a malformed one. */
export const MAX_DECISION_RESPONSE_BYTES = 16 * 1024;
export const MAX_DECISION_REASON_LENGTH = 255;
const USER_AGENT = 'Paygen-Authorization-Webhook/1';

export interface DecisionMerchant {
  name: string;
  mcc: string;
  city?: string | null;
  country?: string | null;
  id?: string | null;
}

/** What the receiver learns about the card: never the PAN, CVV or PIN. */
export interface DecisionCard {
  status: string;
  lastFour: string;
  type?: string;
  brand?: string;
  bin?: string;
  expiry?: { month: number; year: number };
  cardHolderId?: string | null;
  budgetId?: string | null;
  label?: string | null;
}

export interface DecisionRequest {
  authorizationId: string;
  cardId: string;
  amount: number;
  currency: string;
  merchant: DecisionMerchant;
  entryMode: string;
  partialApprovalSupported: boolean;
  card: DecisionCard;
}

export interface Decision {
  approved: boolean;
  /** Set when the receiver approved a given amount; below the requested amount it is a partial approval. */
  amount?: number;
  /** The receiver's reason (source webhook), or why the webhook failed (webhook_timeout, webhook_error). */
  reason?: string;
  source: 'webhook' | 'webhook_timeout' | 'webhook_error';
  latencyMs: number;
}

interface ProgramWebhook {
  url: string;
  timeoutMs: number;
  fallback: 'approve' | 'decline';
}

// Receivers written in any language may send null for an absent field, and extra fields are
// ignored, so that a receiver can echo what it likes.
const Answer = Type.Object({
  approved: Type.Boolean(),
  amount: Type.Optional(Type.Union([Type.Integer({ minimum: 1 }), Type.Null()], { description: 'The approved amount in minor units; below the requested amount it is a partial approval. Left out: the requested amount.' })),
  reason: Type.Optional(Type.Union([Type.String({ maxLength: MAX_DECISION_REASON_LENGTH }), Type.Null()], { description: 'Why; recorded on the authorization.' })),
}, { description: 'The receiver\'s answer to an authorization.request.' });
/** The answer's schema, for the OpenAPI document's webhooks section. */
export const DecisionAnswer = Answer;

const NullableString = Type.Union([Type.String(), Type.Null()]);

/** The body Paygen POSTs (payloadOf below): never the PAN, CVV or PIN. */
export const DecisionPayload = Type.Object({
  id: Type.String({ description: 'A new message id per call (also the webhook-id header).' }),
  type: Type.Literal('authorization.request'),
  createdAt: Type.String({ format: 'date-time' }),
  data: Type.Object({
    authorizationId: Type.String(),
    cardId: Type.String(),
    programId: Type.String(),
    amount: Type.Integer({ minimum: 1, description: 'Requested amount in minor units of currency.' }),
    currency: Type.String(),
    entryMode: Type.String(),
    partialApprovalSupported: Type.Boolean({ description: 'Whether the merchant accepts an approved amount below the requested one.' }),
    merchant: Type.Object({ name: Type.String(), mcc: Type.String(), city: NullableString, country: NullableString, id: NullableString }),
    card: Type.Object({
      status: Type.String(),
      lastFour: Type.String(),
      type: Type.Optional(Type.String()),
      brand: Type.Optional(Type.String()),
      bin: Type.Optional(Type.String()),
      expiry: Type.Optional(Type.Object({ month: Type.Integer(), year: Type.Integer() })),
      cardHolderId: Type.Optional(NullableString),
      budgetId: Type.Optional(NullableString),
      label: Type.Optional(NullableString),
    }),
  }),
}, { description: 'A real-time authorization decision request.' });
type Answer = Static<typeof Answer>;
const answerCheck = TypeCompiler.Compile(Answer);

/** Only the listed card fields leave Paygen, whatever object the caller passes. */
function cardForReceiver(card: DecisionCard): DecisionCard {
  const { status, lastFour, type, brand, bin, expiry, cardHolderId, budgetId, label } = card;
  return { status, lastFour, type, brand, bin, expiry: expiry && { month: expiry.month, year: expiry.year }, cardHolderId, budgetId, label };
}

function payloadOf(ctx: Ctx, program: ProgramRow, request: DecisionRequest): Static<typeof DecisionPayload> {
  const { authorizationId, cardId, amount, currency, entryMode, partialApprovalSupported } = request;
  const { name, mcc, city, country, id } = request.merchant;
  return {
    // One message per call: a repeated authorization is answered from its stored decision, so
    // there is no retry that a stable id would have to cover.
    id: `msg_${randomBytes(12).toString('hex')}`,
    type: 'authorization.request' as const,
    createdAt: ctx.clock.now().toISOString(),
    data: {
      authorizationId, cardId, programId: program.id, amount, currency, entryMode, partialApprovalSupported,
      merchant: { name, mcc, city: city ?? null, country: country ?? null, id: id ?? null },
      card: cardForReceiver(request.card),
    },
  };
}

/** Reads the receiver's body as an answer; a string says what is wrong with it. */
function parseAnswer(body: string, requested: number): Answer | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return 'The response body is not JSON.';
  }
  if (!answerCheck.Check(parsed)) {
    const first = answerCheck.Errors(parsed).First();
    return `The response body is not {approved, amount?, reason?}: ${first ? `${first.path || '/'} ${first.message}` : 'wrong shape'}.`;
  }
  if (parsed.approved && typeof parsed.amount === 'number' && parsed.amount > requested) {
    return `The approved amount ${parsed.amount} is more than the requested ${requested}.`;
  }
  return parsed;
}

function fallback(hook: ProgramWebhook, source: 'webhook_timeout' | 'webhook_error', reason: string, latencyMs: number): Decision {
  return { approved: hook.fallback === 'approve', source, reason: reason.slice(0, MAX_DECISION_REASON_LENGTH), latencyMs };
}

/**
 * Asks the program's decision webhook about one authorization; null when the program has none.
 * Resolves in at most about `timeoutMs` and never rejects for anything the receiver does.
 */
export async function askForDecision(ctx: Ctx, program: ProgramRow, request: DecisionRequest): Promise<Decision | null> {
  const hook = program.authorization_webhook as ProgramWebhook | null;
  if (!hook) return null;
  const secret = authorizationWebhookSecret(ctx, program);
  if (!secret) return fallback(hook, 'webhook_error', 'The program has no webhook signing secret; rotate it with POST /card-programs/:id/rotate-webhook-secret.', 0);

  const payload = payloadOf(ctx, program, request);
  const body = JSON.stringify(payload);
  // The signature's timestamp is wall-clock time even under a simulated clock: receivers check it
  // against their own clock to refuse replays.
  const sentAt = new Date();
  const signature = new Webhook(secret).sign(payload.id, sentAt, body);
  let response;
  try {
    response = await sendOutbound({
      url: hook.url,
      headers: {
        'content-type': 'application/json', 'user-agent': USER_AGENT, accept: 'application/json',
        'webhook-id': payload.id, 'webhook-timestamp': String(Math.floor(sentAt.getTime() / 1000)), 'webhook-signature': signature,
      },
      body,
      timeoutMs: hook.timeoutMs,
      maxResponseBytes: MAX_DECISION_RESPONSE_BYTES,
      allowPrivate: ctx.config.webhookAllowPrivate,
    });
  } catch (error) {
    if (!(error instanceof OutboundError)) throw error;
    return fallback(hook, error.kind === 'timeout' ? 'webhook_timeout' : 'webhook_error', error.message, error.latencyMs);
  }
  const { status, latencyMs } = response;
  if (status < 200 || status > 299) return fallback(hook, 'webhook_error', `The webhook answered HTTP ${status}.`, latencyMs);
  if (response.truncated) return fallback(hook, 'webhook_error', `The response body is larger than ${MAX_DECISION_RESPONSE_BYTES} bytes.`, latencyMs);
  const answer = parseAnswer(response.body, request.amount);
  if (typeof answer === 'string') return fallback(hook, 'webhook_error', answer, latencyMs);
  const decision: Decision = { approved: answer.approved, source: 'webhook', latencyMs };
  if (answer.approved && typeof answer.amount === 'number') decision.amount = answer.amount;
  if (typeof answer.reason === 'string') decision.reason = answer.reason;
  return decision;
}

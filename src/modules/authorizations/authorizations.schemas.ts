import { Type, type Static } from '@sinclair/typebox';
import { Amount, Currency } from '../../platform/money.ts';

const Id = Type.String({ minLength: 1, maxLength: 64 });
const DateTime = Type.String({ format: 'date-time' });
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

export const ENTRY_MODES = ['ecommerce', 'contactless', 'chip', 'swipe'] as const;
/** Entry modes where the card holder can key in a PIN at the terminal. */
export const PIN_ENTRY_MODES: ReadonlySet<string> = new Set(['contactless', 'chip', 'swipe']);
export const AUTHORIZATION_STATUSES = ['pending', 'closed', 'reversed', 'expired', 'declined'] as const;
export const DECISION_SOURCES = ['rules', 'webhook', 'webhook_timeout', 'webhook_error'] as const;
/** Stable decline reasons, in the order the checks run. */
export const DECLINE_REASONS = [
  'card_not_active', 'card_expired', 'pin_blocked', 'incorrect_pin', 'pin_not_set', 'currency_mismatch', 'spend_limit_exceeded', 'category_blocked', 'country_blocked',
  'insufficient_funds', 'budget_exceeded', 'budget_closed', 'webhook_declined',
] as const;
export type DeclineReason = (typeof DECLINE_REASONS)[number];
export const HISTORY_KINDS = ['authorization', 'increment', 'capture', 'reversal', 'expiry'] as const;

export const Merchant = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 100, examples: ['Blue Bottle Coffee'] }),
  mcc: Type.String({ pattern: '^\\d{4}$', description: 'Merchant category code', examples: ['5812'] }),
  city: Type.Optional(Type.String({ maxLength: 60, examples: ['San Francisco'] })),
  country: Type.String({ pattern: '^[A-Z]{2}$', description: 'ISO 3166-1 alpha-2', examples: ['US'] }),
  id: Type.Optional(Type.String({ maxLength: 64, examples: ['mch_12345'] })),
}, { additionalProperties: false, $id: 'Merchant' });
export type Merchant = Static<typeof Merchant>;

export const CreateAuthorizationBody = Type.Object({
  cardId: Id,
  amount: Amount,
  currency: Currency,
  merchant: Type.Ref(Merchant),
  entryMode: Type.Union(ENTRY_MODES.map((m) => Type.Literal(m))),
  partialApprovalSupported: Type.Optional(Type.Boolean({ default: false, description: 'The terminal accepts approval of less than asked when funds are short.' })),
  networkId: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'The network\'s message id: the same id twice returns the stored decision and holds once.' })),
  pin: Type.Optional(Type.String({
    pattern: '^\\d{4}$',
    description: 'The PIN the card holder keyed in at the terminal (chip, swipe or contactless only). Checked after the ' +
      'card\'s status and expiry: a wrong one declines as incorrect_pin, the third wrong one in a row blocks the PIN ' +
      '(card.pin_blocked) and later PIN payments decline as pin_blocked until a new PIN is set. Never stored or echoed.',
  })),
}, {
  additionalProperties: false,
  examples: [{
    cardId: 'card_01jd0000000000000000000000', amount: 1250, currency: 'USD',
    merchant: { name: 'Blue Bottle Coffee', mcc: '5812', city: 'San Francisco', country: 'US', id: 'mch_12345' },
    entryMode: 'contactless', partialApprovalSupported: false, networkId: 'visa-auth-20260101-000042',
  }],
});
export type CreateAuthorizationBody = Static<typeof CreateAuthorizationBody>;

export const IncrementBody = Type.Object({ amount: Amount }, { additionalProperties: false, examples: [{ amount: 500 }] });
export type IncrementBody = Static<typeof IncrementBody>;

export const CaptureBody = Type.Object({
  amount: Type.Optional({ ...Amount, description: 'Defaults to the held amount (or the amount held before expiry). May be more than held: captures are forced.' }),
}, { additionalProperties: false, examples: [{ amount: 1750 }] });
export type CaptureBody = Static<typeof CaptureBody>;

export const ReverseBody = Type.Object({
  amount: Type.Optional({ ...Amount, description: 'Releases this much of the hold; absent releases all of it.' }),
}, { additionalProperties: false, examples: [{ amount: 250 }] });
export type ReverseBody = Static<typeof ReverseBody>;

export const AuthorizationListQuery = {
  cardId: Type.Optional(Id),
  status: Type.Optional(Type.Union(AUTHORIZATION_STATUSES.map((s) => Type.Literal(s)))),
};

const HistoryEntry = Type.Object({
  kind: Type.Union(HISTORY_KINDS.map((k) => Type.Literal(k))),
  amount: Type.Integer(),
  approved: Type.Boolean(),
  reason: Nullable(Type.String()),
  at: DateTime,
});
export type HistoryEntry = Static<typeof HistoryEntry>;

export const Authorization = Type.Object({
  id: Type.String({ examples: ['auth_01jd0000000000000000000000'] }),
  cardId: Type.String(),
  status: Type.Union(AUTHORIZATION_STATUSES.map((s) => Type.Literal(s))),
  approved: Type.Boolean(),
  declineReason: Nullable(Type.String({ description: `One of ${DECLINE_REASONS.join(', ')}.` })),
  requestedAmount: Type.Integer(),
  approvedAmount: Type.Integer({ description: 'Approved in total, increments included.' }),
  heldAmount: Type.Integer({ description: 'Still on hold now.' }),
  capturedAmount: Type.Integer(),
  currency: Type.String(),
  merchant: Type.Ref(Merchant),
  entryMode: Type.Union(ENTRY_MODES.map((m) => Type.Literal(m))),
  decisionSource: Type.Union(DECISION_SOURCES.map((s) => Type.Literal(s))),
  decisionLatencyMs: Nullable(Type.Integer({ description: 'Time the decision webhook took; null without one.' })),
  history: Type.Array(HistoryEntry),
  networkId: Nullable(Type.String()),
  createdAt: DateTime,
  updatedAt: DateTime,
  expiresAt: Nullable({ ...DateTime, description: 'When the sweeper releases the hold (null for a decline).' }),
}, { $id: 'Authorization' });
export type Authorization = Static<typeof Authorization>;

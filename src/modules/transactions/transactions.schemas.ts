import { Type, type Static } from '@sinclair/typebox';
import { Amount } from '../../platform/money.ts';
import { Merchant } from '../authorizations/authorizations.schemas.ts';

const Id = Type.String({ minLength: 1, maxLength: 64 });
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

export const TRANSACTION_TYPES = ['capture', 'refund', 'force_capture'] as const;
export type TransactionType = (typeof TRANSACTION_TYPES)[number];

export const RefundBody = Type.Object({
  cardId: Id,
  amount: Amount,
  transactionId: Type.Optional({ ...Id, description: 'The capture or force capture refunded; the refunds of one transaction never exceed it.' }),
}, { additionalProperties: false, examples: [{ cardId: 'card_01jd0000000000000000000000', amount: 500, transactionId: 'txn_01jd0000000000000000000000' }] });
export type RefundBody = Static<typeof RefundBody>;

export const ForceCaptureBody = Type.Object({
  cardId: Id,
  amount: Amount,
  merchant: Type.Ref(Merchant),
}, {
  additionalProperties: false,
  examples: [{ cardId: 'card_01jd0000000000000000000000', amount: 990, merchant: { name: 'Lyft', mcc: '4121', city: 'San Francisco', country: 'US', id: 'mch_67890' } }],
});
export type ForceCaptureBody = Static<typeof ForceCaptureBody>;

export const TransactionListQuery = {
  cardId: Type.Optional(Id),
  type: Type.Optional(Type.Union(TRANSACTION_TYPES.map((t) => Type.Literal(t)))),
  authorizationId: Type.Optional(Id),
};

export const Transaction = Type.Object({
  id: Type.String({ examples: ['txn_01jd0000000000000000000000'] }),
  type: Type.Union(TRANSACTION_TYPES.map((t) => Type.Literal(t))),
  cardId: Type.String(),
  authorizationId: Nullable(Type.String()),
  relatedTransactionId: Nullable(Type.String({ description: 'For a refund: the transaction it refunds.' })),
  amount: Type.Integer(),
  refundedAmount: Type.Integer(),
  receivableAmount: Type.Integer({ description: 'The part of a forced capture the card could not cover, booked as a receivable.' }),
  currency: Type.String(),
  merchant: Nullable(Type.Ref(Merchant)),
  createdAt: Type.String({ format: 'date-time' }),
}, { $id: 'Transaction' });
export type Transaction = Static<typeof Transaction>;

import { Type, type Static } from '@sinclair/typebox';
import { Amount, Currency } from '../../platform/money.ts';
import { BUDGET_INTERVALS } from './budget-periods.ts';

const Id = Type.String({ minLength: 1, maxLength: 64 });
const DateTime = Type.String({ format: 'date-time' });
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

export const BUDGET_STATUSES = ['active', 'closed'] as const;
const BudgetStatus = Type.Union(BUDGET_STATUSES.map((s) => Type.Literal(s)));
const BudgetInterval = Type.Union(BUDGET_INTERVALS.map((i) => Type.Literal(i)), {
  description: 'per_transaction caps each transaction; the others cap the sum in the current UTC day, week (from Monday), month, year, or since creation.',
});

const BudgetLimit = Type.Object({
  amount: Amount,
  interval: BudgetInterval,
}, { additionalProperties: false });

export const CreateBudgetBody = Type.Object({
  accountId: { ...Id, description: 'The funding account that budget cards spend from (active, same currency).' },
  name: Type.String({ minLength: 1, maxLength: 100, examples: ['Marketing team'] }),
  currency: Currency,
  limit: BudgetLimit,
}, {
  additionalProperties: false,
  examples: [{ accountId: 'acc_01jd0000000000000000000000', name: 'Marketing team', currency: 'USD', limit: { amount: 500000, interval: 'monthly' } }],
});
export type CreateBudgetBody = Static<typeof CreateBudgetBody>;

export const UpdateBudgetBody = Type.Object({
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  limit: Type.Optional(BudgetLimit),
}, { additionalProperties: false, minProperties: 1, examples: [{ name: 'Marketing team EMEA', limit: { amount: 750000, interval: 'monthly' } }] });
export type UpdateBudgetBody = Static<typeof UpdateBudgetBody>;

export const BudgetListQuery = {
  accountId: Type.Optional(Id),
  status: Type.Optional(BudgetStatus),
  currency: Type.Optional(Currency),
};

export const Budget = Type.Object({
  id: Type.String({ examples: ['bud_01jd0000000000000000000000'] }),
  accountId: Type.String(),
  name: Type.String(),
  currency: Type.String(),
  limit: Type.Object({ amount: Type.Integer(), interval: BudgetInterval }),
  status: BudgetStatus,
  spent: Type.Integer({ description: 'Approved spend of the budget\'s cards in the current period: holds at their held amount, captures at their captured amount, less refunds. Always 0 for per_transaction.' }),
  remaining: Type.Integer({ description: 'limit.amount − spent, never below 0. For per_transaction: limit.amount (the cap of each transaction).' }),
  period: Nullable(Type.Object({
    start: DateTime,
    end: Nullable({ ...DateTime, description: 'Exclusive; null for all_time.' }),
  }, { description: 'The current period in UTC; null for per_transaction.' })),
  createdAt: DateTime,
  updatedAt: DateTime,
  closedAt: Nullable(DateTime),
}, { $id: 'Budget' });
export type Budget = Static<typeof Budget>;

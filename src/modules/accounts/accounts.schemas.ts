import { Type, type Static } from '@sinclair/typebox';
import { Amount, Balance, Currency } from '../../platform/money.ts';

const AccountStatus = Type.Union([Type.Literal('active'), Type.Literal('frozen'), Type.Literal('closed')]);
const AccountType = Type.Union([Type.Literal('checking'), Type.Literal('savings'), Type.Literal('wallet')]);
const OwnerType = Type.Union([Type.Literal('business'), Type.Literal('individual')]);

export const CreateAccountBody = Type.Object({
  ownerType: OwnerType,
  ownerId: Type.String({ minLength: 1, maxLength: 64, description: 'Your own reference for the owner.', examples: ['665f1c4f4a4f4a4f4a4f4a4f'] }),
  name: Type.String({ minLength: 1, maxLength: 100, examples: ['Primary USD Wallet'] }),
  type: AccountType,
  category: Type.Literal('fiat'),
  currency: Currency,
}, {
  additionalProperties: false,
  examples: [{ ownerType: 'business', ownerId: '665f1c4f4a4f4a4f4a4f4a4f', name: 'Primary USD Wallet', type: 'checking', category: 'fiat', currency: 'USD' }],
});
export type CreateAccountBody = Static<typeof CreateAccountBody>;

export const UpdateAccountBody = Type.Object({
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  status: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('frozen')])),
}, { additionalProperties: false, minProperties: 1, examples: [{ name: 'Operating USD Wallet', status: 'active' }] });
export type UpdateAccountBody = Static<typeof UpdateAccountBody>;

export const AccountListQuery = {
  status: Type.Optional(AccountStatus),
  type: Type.Optional(AccountType),
  currency: Type.Optional(Currency),
  ownerId: Type.Optional(Type.String({ maxLength: 64 })),
};

export const Account = Type.Object({
  id: Type.String({ examples: ['acc_01jd0000000000000000000000'] }),
  ownerType: OwnerType,
  ownerId: Type.String(),
  name: Type.String(),
  type: AccountType,
  category: Type.String(),
  currency: Type.String(),
  status: AccountStatus,
  balance: Balance,
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
  closedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
}, { $id: 'Account' });
export type Account = Static<typeof Account>;

export const Entry = Type.Object({
  id: Type.String({ description: 'The ledger transfer id.' }),
  direction: Type.Union([Type.Literal('credit'), Type.Literal('debit')]),
  amount: Type.Integer(),
  currency: Type.String(),
  kind: Type.String({ description: 'What caused it: sandbox_deposit, card_funding, book_transfer, …' }),
  status: Type.Union([Type.Literal('posted'), Type.Literal('pending'), Type.Literal('released')]),
  referenceType: Type.Union([Type.String(), Type.Null()]),
  referenceId: Type.Union([Type.String(), Type.Null()]),
  description: Type.Union([Type.String(), Type.Null()]),
  balanceAfter: Type.Integer({ description: 'Available balance of this account after the entry.' }),
  createdAt: Type.String({ format: 'date-time' }),
}, { $id: 'Entry' });

export const TransferBody = Type.Object({
  fromAccountId: Type.String({ maxLength: 64 }),
  toAccountId: Type.String({ maxLength: 64 }),
  amount: Amount,
  currency: Currency,
  description: Type.Optional(Type.String({ maxLength: 255 })),
}, {
  additionalProperties: false,
  examples: [{ fromAccountId: 'acc_01jd0000000000000000000000', toAccountId: 'acc_01jd0000000000000000000001', amount: 2500, currency: 'USD', description: 'Marketing budget for January' }],
});
export type TransferBody = Static<typeof TransferBody>;

export const BookTransfer = Type.Object({
  id: Type.String(),
  fromAccountId: Type.String(),
  toAccountId: Type.String(),
  amount: Type.Integer(),
  currency: Type.String(),
  description: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
});

export const DepositBody = Type.Object({
  amount: Amount,
  description: Type.Optional(Type.String({ maxLength: 255 })),
}, { additionalProperties: false, examples: [{ amount: 500000, description: 'Wire transfer from Acme Corp' }] });
export type DepositBody = Static<typeof DepositBody>;

export const Deposit = Type.Object({
  id: Type.String({ description: 'The ledger transfer id.' }),
  accountId: Type.String(),
  amount: Type.Integer(),
  currency: Type.String(),
  balance: Balance,
  createdAt: Type.String({ format: 'date-time' }),
});

import { Type, type Static } from '@sinclair/typebox';
import { Amount, Currency, MAX_AMOUNT } from '../../platform/money.ts';
import { Brand, CardType, CountryCode, SpendControls } from '../card-programs/card-programs.schemas.ts';
import { Tokenization } from '../tokenizations/tokenizations.schemas.ts';

export const CARD_STATUSES = ['pending', 'issued', 'digital', 'active', 'locked', 'suspended', 'cancelled', 'expired', 'rejected'] as const;
export const CardStatus = Type.Union(CARD_STATUSES.map((s) => Type.Literal(s)));
export type CardStatus = (typeof CARD_STATUSES)[number];
export const MAX_METADATA_KEYS = 50;

const Id = Type.String({ minLength: 1, maxLength: 64 });
const InitialAmount = Type.Integer({
  minimum: 0, maximum: MAX_AMOUNT,
  description: `The card's initial balance in minor units, debited from debitAccountId: required for a card ` +
    `(0 opens it empty, to top up later), left out for a budget card; at most ${MAX_AMOUNT}.`,
});

export const DeliveryAddress = Type.Object({
  address1: Type.String({ minLength: 4, maxLength: 40 }),
  address2: Type.Optional(Type.String({ maxLength: 30 })),
  address3: Type.Optional(Type.String({ maxLength: 30 })),
  city: Type.String({ minLength: 1, maxLength: 30, pattern: '^[\\p{L} .\\-]+$', description: 'Letters, spaces, hyphen and period.' }),
  countryCode: CountryCode,
  state: Type.Optional(Type.String({ minLength: 2, maxLength: 3, description: 'Required for the US.' })),
  postalCode: Type.String({ minLength: 1, maxLength: 16, description: 'US: 4–10 of letters, digits, hyphen, space.' }),
}, { additionalProperties: false, $id: 'DeliveryAddress' });
export type DeliveryAddress = Static<typeof DeliveryAddress>;

export const Metadata = Type.Record(Type.String({ maxLength: 40 }), Type.String({ maxLength: 500 }), { maxProperties: MAX_METADATA_KEYS });

export const CreateCardBody = Type.Object({
  debitAccountId: Type.Optional({ ...Id, description: 'The funding account; for a budget card, the budget\'s account (may be left out).' }),
  cardHolderId: Type.Optional(Id),
  customerId: Type.Optional({ ...Id, description: 'Alias of cardHolderId.' }),
  firstName: Type.Optional(Type.String({ minLength: 1, maxLength: 50, description: 'Name-only issuance, where the program allows it.' })),
  lastName: Type.Optional(Type.String({ minLength: 1, maxLength: 50 })),
  type: CardType,
  brand: Type.Optional(Brand),
  currency: Currency,
  status: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('locked')], { description: 'Initial status of a virtual card.' })),
  amount: Type.Optional(InitialAmount),
  initialBalance: Type.Optional({ ...InitialAmount, description: 'Alias of amount.' }),
  typeId: Type.Optional({ ...Id, description: 'Card program id.' }),
  programName: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  budgetId: Type.Optional(Id),
  label: Type.Optional(Type.String({ maxLength: 100 })),
  externalId: Type.Optional(Type.String({ minLength: 1, maxLength: 40 })),
  mobile: Type.Optional(Type.String({ pattern: '^\\+\\d+\\s?\\d{1,16}$', maxLength: 20 })),
  cardPin: Type.Optional(Type.String({ pattern: '^\\d{4}$', description: '4 digits; weak PINs are refused.' })),
  deliveryAddress: Type.Optional(Type.Ref(DeliveryAddress)),
  termsAndConditionsAccepted: Type.Optional(Type.Boolean()),
  eDisclosureAccepted: Type.Optional(Type.Boolean()),
  userAgent: Type.Optional(Type.String({ maxLength: 512 })),
  spendControls: Type.Optional(Type.Ref(SpendControls)),
  metadata: Type.Optional(Metadata),
}, {
  additionalProperties: false,
  examples: [{
    debitAccountId: 'acc_01jd0000000000000000000000', cardHolderId: 'ch_01jd0000000000000000000000', type: 'virtual', brand: 'Visa',
    currency: 'USD', status: 'active', amount: 5000, typeId: 'prg_01jd0000000000000000000000', label: 'Travel expenses',
    externalId: 'emp-1042-travel', mobile: '+14155550100', cardPin: '4826', termsAndConditionsAccepted: true, eDisclosureAccepted: true,
    userAgent: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
    spendControls: { limits: [{ amount: 100000, interval: 'daily' }], blockedCategories: ['7995'], allowedCountries: ['US', 'CA'] },
    metadata: { costCenter: 'CC-1042', employeeId: 'emp-1042' },
  }],
});
export type CreateCardBody = Static<typeof CreateCardBody>;

/** POST /accounts/:id/cards (seed 004): the body of POST /cards without debitAccountId. */
export const CreateAccountCardBody = Type.Omit(CreateCardBody, ['debitAccountId'], {
  additionalProperties: false,
  examples: [{
    cardHolderId: 'ch_01jd0000000000000000000000', type: 'virtual', brand: 'Visa', currency: 'USD', amount: 5000,
    label: 'Travel expenses', externalId: 'emp-1042-travel',
  }],
});
export type CreateAccountCardBody = Static<typeof CreateAccountCardBody>;

export const CardListQuery = {
  status: Type.Optional(CardStatus),
  type: Type.Optional(CardType),
  currency: Type.Optional(Currency),
  cardHolderId: Type.Optional(Id),
  customerId: Type.Optional({ ...Id, description: 'Alias of cardHolderId.' }),
  externalId: Type.Optional(Type.String({ minLength: 1, maxLength: 40, description: 'Your own reference, exactly.' })),
  accountId: Type.Optional(Id),
  programId: Type.Optional(Id),
};

const DateTime = Type.String({ format: 'date-time' });
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

export const Card = Type.Object({
  id: Type.String({ examples: ['card_01jd0000000000000000000000'] }),
  status: CardStatus,
  type: CardType,
  brand: Type.Union([Type.Literal('Visa'), Type.Literal('Mastercard')]),
  scheme: Type.Union([Type.Literal('VISA'), Type.Literal('MC')]),
  currency: Type.String(),
  programId: Type.String(),
  programName: Type.String(),
  cardHolderId: Nullable(Type.String()),
  debitAccountId: Type.String(),
  budgetId: Nullable(Type.String()),
  firstName: Nullable(Type.String()),
  lastName: Nullable(Type.String()),
  balance: Type.Object({ available: Type.Integer(), pending: Type.Integer() }),
  maskedPan: Type.String({ examples: ['45320100****4242'], description: 'BIN, asterisks and the last four: 16 characters.' }),
  bin: Type.String(),
  lastFour: Type.String(),
  expiry: Type.Object({ month: Type.Integer(), year: Type.Integer() }),
  isPinSet: Type.Boolean(),
  isPinBlocked: Type.Boolean({ description: 'Three wrong PINs in a row at the point of sale block the PIN until a new one is set.' }),
  label: Nullable(Type.String()),
  externalId: Nullable(Type.String()),
  mobile: Nullable(Type.String()),
  deliveryAddress: Nullable(Type.Ref(DeliveryAddress)),
  shipping: Nullable(Type.Object({
    status: Type.String(),
    trackingNumber: Nullable(Type.String()),
    shippedAt: Nullable(DateTime),
    deliveredAt: Nullable(DateTime),
  })),
  spendControls: Nullable(Type.Ref(SpendControls)),
  metadata: Type.Record(Type.String(), Type.String()),
  tokenizations: Type.Array(Type.Ref(Tokenization)),
  replacesCardId: Nullable(Type.String()),
  replacedByCardId: Nullable(Type.String()),
  createdAt: DateTime,
  updatedAt: DateTime,
  activatedAt: Nullable(DateTime),
  cancelledAt: Nullable(DateTime),
}, { $id: 'Card', description: 'Never carries the PAN, CVV or PIN.' });
export type Card = Static<typeof Card>;

export const UpdateCardBody = Type.Object({
  label: Type.Optional(Type.Union([Type.String({ maxLength: 100 }), Type.Null()])),
  spendControls: Type.Optional(Type.Union([Type.Ref(SpendControls), Type.Null()])),
  metadata: Type.Optional(Metadata),
  status: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('locked'), Type.Literal('cancelled')], {
    description: 'locked = freeze, active = unfreeze (or activate an issued/digital card), cancelled = cancel.',
  })),
}, {
  additionalProperties: false,
  minProperties: 1,
  examples: [{
    label: 'Conference travel', metadata: { costCenter: 'CC-2001' },
    spendControls: { limits: [{ amount: 50000, interval: 'daily' }], allowedCountries: ['US', 'CA', 'MX'] },
  }],
});
export type UpdateCardBody = Static<typeof UpdateCardBody>;

export const ReasonBody = Type.Object({ reason: Type.Optional(Type.String({ maxLength: 255 })) }, {
  additionalProperties: false,
  description: 'Optional: an empty body, or none at all, records no reason.',
  examples: [{ reason: 'Requested by the card holder' }],
});
export const FundsBody = Type.Object({
  amount: Amount,
  description: Type.Optional(Type.String({ maxLength: 255 })),
}, { additionalProperties: false, examples: [{ amount: 2500, description: 'Monthly travel allowance' }] });
export type FundsBody = Static<typeof FundsBody>;
export const ReplaceBody = Type.Object({
  reason: Type.Union(['lost', 'stolen', 'damaged', 'expired'].map((r) => Type.Literal(r))),
  deliveryAddress: Type.Optional(Type.Ref(DeliveryAddress)),
}, { additionalProperties: false, examples: [{ reason: 'lost' }] });
export type ReplaceBody = Static<typeof ReplaceBody>;

export const StatusChange = Type.Object({
  id: Type.String(),
  action: Type.String(),
  fromStatus: CardStatus,
  toStatus: CardStatus,
  actor: Type.Union([Type.Literal('client'), Type.Literal('simulator'), Type.Literal('system')]),
  reason: Nullable(Type.String()),
  createdAt: DateTime,
});

import { Type, type Static } from '@sinclair/typebox';
import { Amount, Currency } from '../../platform/money.ts';

export const MAX_CARD_VALIDITY_YEARS = 10;
export const DEFAULT_CARD_VALIDITY_YEARS = 3;
export const DEFAULT_HOLD_TTL_HOURS = 168;
export const MAX_HOLD_TTL_HOURS = 720;
export const MAX_DECISION_TIMEOUT_MS = 5000;
export const DEFAULT_DECISION_TIMEOUT_MS = 2000;
/** The card holder document kinds (card-holders.schemas.ts DOCUMENT_KINDS) a program may demand. */
export const REQUIRED_DOCUMENT_KINDS = ['idDocumentFront', 'idDocumentBack', 'proofOfAddress', 'selfie'] as const;

export const Brand = Type.String({
  pattern: '^([Vv][Ii][Ss][Aa]|[Mm][Aa][Ss][Tt][Ee][Rr][Cc][Aa][Rr][Dd])$',
  description: 'Visa or Mastercard (case-insensitive).',
  examples: ['Visa'],
});
export const CountryCode = Type.String({ pattern: '^[A-Z]{2}$', description: 'ISO 3166-1 alpha-2', examples: ['US'] });
export const CardType = Type.Union([Type.Literal('virtual'), Type.Literal('physical')]);
export const Interval = Type.Union(['per_transaction', 'daily', 'weekly', 'monthly', 'yearly', 'all_time'].map((i) => Type.Literal(i)));
const Mcc = Type.String({ pattern: '^\\d{4}$', description: 'Merchant category code', examples: ['5812'] });

/** Spend controls, shared by programs, card holders and cards. */
export const SpendControls = Type.Object({
  limits: Type.Optional(Type.Array(Type.Object({ amount: Amount, interval: Interval }, { additionalProperties: false }), { maxItems: 10 })),
  allowedCategories: Type.Optional(Type.Array(Mcc, { maxItems: 200, uniqueItems: true })),
  blockedCategories: Type.Optional(Type.Array(Mcc, { maxItems: 200, uniqueItems: true })),
  allowedCountries: Type.Optional(Type.Array(CountryCode, { maxItems: 250, uniqueItems: true })),
  blockedCountries: Type.Optional(Type.Array(CountryCode, { maxItems: 250, uniqueItems: true })),
}, { additionalProperties: false, $id: 'SpendControls' });
export type SpendControls = Static<typeof SpendControls>;

const AuthorizationWebhook = Type.Object({
  url: Type.String({ format: 'uri', maxLength: 2048 }),
  timeoutMs: Type.Optional(Type.Integer({ minimum: 100, maximum: MAX_DECISION_TIMEOUT_MS, description: 'Default 2000.' })),
  fallback: Type.Optional(Type.Union([Type.Literal('approve'), Type.Literal('decline')], { description: 'Default decline.' })),
}, { additionalProperties: false });

/**
 * The webhook as a program shows it. Paygen signs every authorization.request with `secret`
 * (Standard Webhooks); the secret appears only in the answer to the request that made it (the
 * create or update that set the webhook, or rotate-webhook-secret), never in reads or events.
 */
const ProgramAuthorizationWebhook = Type.Object({
  url: Type.String(),
  timeoutMs: Type.Integer(),
  fallback: Type.Union([Type.Literal('approve'), Type.Literal('decline')]),
  secret: Type.Optional(Type.String({
    description: 'whsec_… signing secret; shown only once, in the answer to the request that generated it.',
    examples: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'],
  })),
});

const editable = {
  name: Type.String({ minLength: 1, maxLength: 100 }),
  cardTypes: Type.Array(CardType, { minItems: 1, maxItems: 2, uniqueItems: true }),
  status: Type.Union([Type.Literal('active'), Type.Literal('inactive')]),
  requiresVerifiedCardHolder: Type.Boolean(),
  allowNameOnlyIssuance: Type.Boolean(),
  blockedNationalities: Type.Array(CountryCode, { maxItems: 250, uniqueItems: true }),
  cardValidityYears: Type.Integer({ minimum: 1, maximum: MAX_CARD_VALIDITY_YEARS }),
  holdTtlHours: Type.Integer({ minimum: 1, maximum: MAX_HOLD_TTL_HOURS }),
  issuanceReview: Type.Boolean({ description: 'New cards start pending until the simulator issues or fails them.' }),
  digitalInTransit: Type.Boolean({ description: 'A shipped physical card may be used online (status digital) before activation.' }),
  defaultSpendControls: Type.Union([Type.Ref(SpendControls), Type.Null()]),
  authorizationWebhook: Type.Union([AuthorizationWebhook, Type.Null()]),
  requiredDocuments: Type.Array(Type.Union(REQUIRED_DOCUMENT_KINDS.map((k) => Type.Literal(k))), {
    maxItems: REQUIRED_DOCUMENT_KINDS.length, uniqueItems: true,
    description: 'KYC documents the program demands: a card holder applying for it (programId) stays pending until ' +
      'they are uploaded, then in_review until the KYC review verifies it; its cards go only to verified holders ' +
      'with these documents. Empty (the default): holders with every identity field are verified at once.',
  }),
};

export const CreateProgramBody = Type.Object({
  name: editable.name,
  brand: Brand,
  bin: Type.String({ pattern: '^\\d{6,8}$', description: '6–8 digits matching the brand (Visa 4…, Mastercard 51–55 or 2221–2720).' }),
  currency: Currency,
  cardTypes: Type.Optional(editable.cardTypes),
  status: Type.Optional(editable.status),
  requiresVerifiedCardHolder: Type.Optional(editable.requiresVerifiedCardHolder),
  allowNameOnlyIssuance: Type.Optional(editable.allowNameOnlyIssuance),
  blockedNationalities: Type.Optional(editable.blockedNationalities),
  cardValidityYears: Type.Optional(editable.cardValidityYears),
  holdTtlHours: Type.Optional(editable.holdTtlHours),
  issuanceReview: Type.Optional(editable.issuanceReview),
  digitalInTransit: Type.Optional(editable.digitalInTransit),
  defaultSpendControls: Type.Optional(editable.defaultSpendControls),
  authorizationWebhook: Type.Optional(editable.authorizationWebhook),
  requiredDocuments: Type.Optional(editable.requiredDocuments),
}, {
  additionalProperties: false,
  examples: [{
    name: 'Visa USD Consumer', brand: 'Visa', bin: '45320100', currency: 'USD', cardTypes: ['virtual', 'physical'], status: 'active',
    requiresVerifiedCardHolder: true, allowNameOnlyIssuance: false, blockedNationalities: ['KP'], cardValidityYears: 3, holdTtlHours: 168,
    issuanceReview: false, digitalInTransit: true,
    defaultSpendControls: { limits: [{ amount: 500000, interval: 'monthly' }], blockedCategories: ['7995'] },
    authorizationWebhook: { url: 'https://example.com/paygen/authorizations', timeoutMs: 2000, fallback: 'decline' },
  }],
});
export type CreateProgramBody = Static<typeof CreateProgramBody>;

export const UpdateProgramBody = Type.Partial(Type.Object(editable), {
  additionalProperties: false,
  minProperties: 1,
  examples: [{
    name: 'Visa USD Consumer 2026', holdTtlHours: 72, blockedNationalities: ['KP', 'IR'],
    defaultSpendControls: { limits: [{ amount: 250000, interval: 'monthly' }], blockedCategories: ['7995'] },
  }],
});
export type UpdateProgramBody = Static<typeof UpdateProgramBody>;

export const ProgramListQuery = {
  status: Type.Optional(editable.status),
  brand: Type.Optional(Type.Union([Type.Literal('Visa'), Type.Literal('Mastercard')])),
  currency: Type.Optional(Currency),
};

export const Program = Type.Object({
  id: Type.String({ examples: ['prg_01jd0000000000000000000000'] }),
  name: Type.String(),
  brand: Type.Union([Type.Literal('Visa'), Type.Literal('Mastercard')]),
  bin: Type.String(),
  currency: Type.String(),
  cardTypes: Type.Array(CardType),
  status: editable.status,
  requiresVerifiedCardHolder: Type.Boolean(),
  allowNameOnlyIssuance: Type.Boolean(),
  blockedNationalities: Type.Array(Type.String()),
  cardValidityYears: Type.Integer(),
  holdTtlHours: Type.Integer(),
  issuanceReview: Type.Boolean(),
  digitalInTransit: Type.Boolean(),
  defaultSpendControls: Type.Union([Type.Ref(SpendControls), Type.Null()]),
  authorizationWebhook: Type.Union([ProgramAuthorizationWebhook, Type.Null()]),
  requiredDocuments: Type.Array(Type.String()),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
}, { $id: 'CardProgram' });
export type Program = Static<typeof Program>;

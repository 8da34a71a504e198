// Mobile wallet tokenizations (seed 003's mobile wallet list): a card enrolled in Apple Pay,
// Google Pay or Samsung Pay. Lower-case enum values, like every enum of the API.
import { Type, type Static } from '@sinclair/typebox';

export const WALLET_TYPES = ['apple_pay', 'google_pay', 'samsung_pay'] as const;
export const TOKENIZATION_STATUSES = ['initiated', 'completed', 'suspended', 'terminated'] as const;
export type WalletType = (typeof WALLET_TYPES)[number];
export type TokenizationStatus = (typeof TOKENIZATION_STATUSES)[number];

export const WalletTypeSchema = Type.Union(WALLET_TYPES.map((w) => Type.Literal(w)));
export const TokenizationStatusSchema = Type.Union(TOKENIZATION_STATUSES.map((s) => Type.Literal(s)));

export const Tokenization = Type.Object({
  id: Type.String({ examples: ['wtok_01jd0000000000000000000000'] }),
  cardId: Type.String(),
  dpanRef: Type.String({ description: 'Reference of the device PAN the wallet holds (never the card PAN).' }),
  walletId: Type.Union([Type.String(), Type.Null()], { description: 'Google Pay only; null for the other wallets.' }),
  walletType: WalletTypeSchema,
  status: TokenizationStatusSchema,
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
}, { $id: 'Tokenization', description: 'A card enrolled in a mobile wallet. Tokens follow their card: locked or suspended card → suspended, back → resumed, cancelled/expired/rejected → terminated.' });
export type Tokenization = Static<typeof Tokenization>;

export const CreateTokenizationBody = Type.Object({
  walletType: WalletTypeSchema,
  status: Type.Optional(Type.Union([Type.Literal('initiated'), Type.Literal('completed')], { default: 'completed', description: 'Where the wallet\'s provisioning stands (default completed).' })),
}, { additionalProperties: false, examples: [{ walletType: 'apple_pay', status: 'completed' }] });
export type CreateTokenizationBody = Static<typeof CreateTokenizationBody>;

export const TokenizationListQuery = {
  status: Type.Optional(TokenizationStatusSchema),
  walletType: Type.Optional(WalletTypeSchema),
};

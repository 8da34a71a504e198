// PIN requests and answers. A PIN goes in; it never comes out: answers say only that one is set.
import { Type, type Static } from '@sinclair/typebox';

/** A PIN session token is 32 base64url characters; the bound keeps junk out of the lookup. */
export const MAX_TOKEN_LENGTH = 64;
/** Longest value the hosted form accepts per field (a PIN is 4 digits; the rest is refused). */
export const MAX_PIN_FIELD_LENGTH = 16;

export const SetPinBody = Type.Object({
  pin: Type.String({ pattern: '^\\d{4}$', description: '4 digits; weak PINs are refused with 422 weak_pin.' }),
}, { additionalProperties: false, examples: [{ pin: '4826' }] });
export type SetPinBody = Static<typeof SetPinBody>;

export const PinStatus = Type.Object({
  cardId: Type.String(),
  isPinSet: Type.Literal(true),
  updatedAt: Type.String({ format: 'date-time' }),
}, { description: 'Never carries the PIN.' });
export type PinStatus = Static<typeof PinStatus>;

export const PinBlocked = Type.Object({
  cardId: Type.String(),
  isPinBlocked: Type.Literal(true),
  failedAttempts: Type.Integer({ description: 'Wrong PINs in a row that blocked it.' }),
  blockedAt: Type.String({ format: 'date-time' }),
  authorizationId: Type.String({ description: 'The declined authorization that carried the last wrong PIN.' }),
}, { description: 'Never carries the PIN.' });

export const PinSession = Type.Object({
  id: Type.String({ examples: ['pinses_01jd0000000000000000000000'] }),
  cardId: Type.String(),
  token: Type.String({ description: 'Single-use; shown once. Only its keyed hash is stored.' }),
  url: Type.String({ description: 'The hosted page to send the card holder to.' }),
  expiresAt: Type.String({ format: 'date-time' }),
});
export type PinSession = Static<typeof PinSession>;

export const TokenParams = Type.Object({ token: Type.String({ maxLength: MAX_TOKEN_LENGTH }) });

/**
 * What the hosted form posts (application/x-www-form-urlencoded, or JSON). The 4-digit rule is
 * checked by the service after the token, so that a bad link is reported before a bad PIN.
 */
export const PinPageBody = Type.Object({
  pin: Type.String({ maxLength: MAX_PIN_FIELD_LENGTH }),
  pinConfirmation: Type.Optional(Type.String({ maxLength: MAX_PIN_FIELD_LENGTH, description: 'Must equal pin when sent (the form always sends it).' })),
}, { additionalProperties: false, examples: [{ pin: '4826', pinConfirmation: '4826' }] });
export type PinPageBody = Static<typeof PinPageBody>;

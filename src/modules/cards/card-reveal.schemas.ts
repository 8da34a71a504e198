// Card reveal requests and answers. The session answer carries the single-use token once; the
// reveal answer is the only one in the API that carries a full PAN and CVV.
import { Type, type Static } from '@sinclair/typebox';

/** The longest a reveal token lives: the card data is on screen for minutes, not hours. */
export const MAX_REVEAL_TTL_SECONDS = 300;
/** Long enough to open an iframe and read the number; short enough to leak little. */
export const DEFAULT_REVEAL_TTL_SECONDS = 60;
/** A reveal token is 32 base64url characters; the bound keeps junk out of the lookup. */
export const MAX_REVEAL_TOKEN_LENGTH = 64;
/** An origin is scheme, host and port: anything longer is not one. */
export const MAX_ORIGIN_LENGTH = 255;

export const CreateRevealSessionBody = Type.Object({
  allowedOrigin: Type.Optional(Type.String({
    maxLength: MAX_ORIGIN_LENGTH,
    description: 'The one origin that may frame the hosted page and read its JSON: https://host[:port] ' +
      '(or http://localhost / http://127.0.0.1 for local development), no path. Without it the page ' +
      'cannot be framed and the JSON answers no cross-origin request.',
  })),
  ttlSeconds: Type.Optional(Type.Integer({
    minimum: 1, maximum: MAX_REVEAL_TTL_SECONDS,
    description: `How long the token works, at most ${MAX_REVEAL_TTL_SECONDS} seconds (default ${DEFAULT_REVEAL_TTL_SECONDS}).`,
  })),
}, { additionalProperties: false, examples: [{ allowedOrigin: 'https://app.example.com', ttlSeconds: 60 }] });
export type CreateRevealSessionBody = Static<typeof CreateRevealSessionBody>;

export const RevealSession = Type.Object({
  id: Type.String({ examples: ['revses_01jd0000000000000000000000'] }),
  cardId: Type.String(),
  token: Type.String({ description: 'Single-use; shown once. Only its keyed hash is stored.' }),
  url: Type.String({ description: 'The hosted reveal page (put it in an iframe on allowedOrigin).' }),
  dataUrl: Type.String({ description: 'The same data as JSON (GET, CORS for allowedOrigin only).' }),
  allowedOrigin: Type.Union([Type.String(), Type.Null()]),
  expiresAt: Type.String({ format: 'date-time' }),
});
export type RevealSession = Static<typeof RevealSession>;

export const RevealedCard = Type.Object({
  cardId: Type.String(),
  pan: Type.String({ description: 'The full card number.' }),
  cvv: Type.String({ description: 'Derived on each reveal, never stored.' }),
  expiryMonth: Type.Integer(),
  expiryYear: Type.Integer(),
}, { description: 'Shown once per reveal session.' });
export type RevealedCard = Static<typeof RevealedCard>;

export const RevealTokenParams = Type.Object({ token: Type.String({ maxLength: MAX_REVEAL_TOKEN_LENGTH }) });

/** The `card.revealed` event: who, when and how; never the card data. */
export const CardRevealed = Type.Object({
  cardId: Type.String(),
  sessionId: Type.String(),
  revealedAt: Type.String({ format: 'date-time' }),
  via: Type.Union([Type.Literal('page'), Type.Literal('json')], { description: 'The hosted page or its JSON.' }),
  requestedBy: Type.Object({
    type: Type.String({ description: 'The credential type that created the session: api_key, session or ephemeral.' }),
    id: Type.String({ description: 'Its id.' }),
  }),
  ip: Type.String({ description: 'The address the reveal came from.' }),
  userAgent: Type.Union([Type.String(), Type.Null()]),
}, { description: 'Never carries the PAN or the CVV.' });

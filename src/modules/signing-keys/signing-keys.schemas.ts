import { Type, type Static } from '@sinclair/typebox';
import { SIGNATURE_ALGORITHMS } from '../../platform/signatures.ts';

const DateTime = Type.String({ format: 'date-time' });

export const MAX_KEY_ID_LENGTH = 128;
/** A PEM RSA-4096 public key is about 800 characters; a JWK of one is about as long. */
export const MAX_PUBLIC_KEY_LENGTH = 4096;

const EXAMPLE_ED25519_PEM = '-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAJrQLj5P/89iXES9+vFgrIy29clF9CC/oPPsw3c5D0bs=\n-----END PUBLIC KEY-----\n';

const Algorithm = Type.Union(SIGNATURE_ALGORITHMS.map((a) => Type.Literal(a)), {
  description: 'The RFC 9421 algorithm; the key must be of its type (Ed25519, P-256, RSA).',
});

const Jwk = Type.Object({ kty: Type.String({ maxLength: 16 }) }, {
  additionalProperties: Type.Unknown(), maxProperties: 16, description: 'A public JWK.',
});

export const CreateSigningKeyBody = Type.Object({
  keyId: Type.String({
    minLength: 1, maxLength: MAX_KEY_ID_LENGTH, pattern: '^[\\x21-\\x7e]+$',
    description: 'Your name for the key, sent as the keyid signature parameter; unique in the organization.',
  }),
  algorithm: Algorithm,
  publicKey: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: MAX_PUBLIC_KEY_LENGTH }), Jwk], {
    description: 'SPKI PEM or a public JWK; required for every algorithm but hmac-sha256.',
  })),
  required: Type.Optional(Type.Boolean({
    default: false,
    description: 'When any live key of the organization says true, unsigned mutations are refused (401 signature_required); reads stay allowed unsigned.',
  })),
}, {
  additionalProperties: false,
  examples: [
    { keyId: 'backend-2026', algorithm: 'ed25519', publicKey: EXAMPLE_ED25519_PEM, required: true },
    { keyId: 'shared-2026', algorithm: 'hmac-sha256' },
  ],
});
export type CreateSigningKeyBody = Static<typeof CreateSigningKeyBody>;

export const SigningKey = Type.Object({
  id: Type.String({ examples: ['sgk_01jd0000000000000000000000'] }),
  keyId: Type.String({ examples: ['backend-2026'] }),
  algorithm: Type.String({ examples: ['ed25519'] }),
  publicKeyPem: Type.Union([Type.String(), Type.Null()], { description: 'The public key as SPKI PEM (a JWK sent at creation is converted); null for hmac-sha256.' }),
  required: Type.Boolean(),
  createdAt: DateTime,
}, { $id: 'SigningKey', description: 'A key that verifies RFC 9421 signatures of the organization\'s requests.' });
export type SigningKey = Static<typeof SigningKey>;

export const SigningKeyWithSecret = Type.Object({
  ...SigningKey.properties,
  secret: Type.Union([Type.String(), Type.Null()], {
    examples: ['q4N2bM0nJ0h2c8c5x7QbJ0Zp4e1mN9lX2p3tq5r6s7U='],
    description: 'hmac-sha256 only: the shared secret (base64 of 32 bytes; the HMAC key is the decoded bytes), shown only here.',
  }),
});

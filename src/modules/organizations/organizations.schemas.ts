import { Type, type Static } from '@sinclair/typebox';

export const MAX_EPHEMERAL_TOKEN_TTL_SECONDS = 3600;
export const SESSION_TTL_SECONDS = 12 * 3600;
export const MAX_SCOPES = 50;

const Email = Type.String({ format: 'email', maxLength: 254, examples: ['dev@example.com'] });
const Password = Type.String({ minLength: 8, maxLength: 200 });
const Scope = Type.String({ pattern: '^(\\*|[a-z-]+:(read|write|\\*))$', maxLength: 64, examples: ['cards:read'] });

export const SignupBody = Type.Object({
  email: Email,
  password: Password,
  organizationName: Type.String({ minLength: 1, maxLength: 100 }),
}, { additionalProperties: false, examples: [{ email: 'dev@example.com', password: 'correct horse battery staple', organizationName: 'Acme Corp' }] });
export type SignupBody = Static<typeof SignupBody>;

export const LoginBody = Type.Object({ email: Email, password: Type.String({ minLength: 1, maxLength: 200 }) }, {
  additionalProperties: false,
  examples: [{ email: 'dev@example.com', password: 'correct horse battery staple' }],
});
export type LoginBody = Static<typeof LoginBody>;

export const TokenBody = Type.Object({
  ttlSeconds: Type.Integer({ minimum: 1, maximum: MAX_EPHEMERAL_TOKEN_TTL_SECONDS, default: 900 }),
  scopes: Type.Optional(Type.Array(Scope, { maxItems: MAX_SCOPES })),
}, { additionalProperties: false, examples: [{ ttlSeconds: 900, scopes: ['cards:read'] }] });
export type TokenBody = Static<typeof TokenBody>;

export const ApiKeyBody = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 100 }),
  scopes: Type.Optional(Type.Array(Scope, {
    minItems: 1, maxItems: MAX_SCOPES,
    description: 'What the key may do, as for tokens (`cards:read`, `cards:*`, `*`). Left out: every scope, '
      + 'which only an unrestricted credential may grant.',
  })),
}, { additionalProperties: false, examples: [{ name: 'Production server', scopes: ['cards:read', 'cards:write'] }] });
export type ApiKeyBody = Static<typeof ApiKeyBody>;


export const Organization = Type.Object({ id: Type.String(), name: Type.String(), createdAt: Type.String({ format: 'date-time' }) }, { $id: 'Organization' });
export const User = Type.Object({ id: Type.String(), email: Type.String(), organizationId: Type.String(), createdAt: Type.String({ format: 'date-time' }) }, { $id: 'User' });

export const Session = Type.Object({
  user: Type.Ref(User),
  organization: Type.Ref(Organization),
  token: Type.String({ description: 'Bearer token; send as Authorization: Bearer <token>.' }),
  expiresAt: Type.String({ format: 'date-time' }),
});

export const Token = Type.Object({ token: Type.String(), expiresAt: Type.String({ format: 'date-time' }), scopes: Type.Array(Type.String()) });

export const Me = Type.Object({
  organization: Type.Ref(Organization),
  user: Type.Union([Type.Ref(User), Type.Null()]),
  credential: Type.Object({ type: Type.String(), id: Type.String(), scopes: Type.Array(Type.String()) }),
});

const apiKeyProperties = {
  id: Type.String(),
  name: Type.String(),
  prefix: Type.String({ description: 'The first characters of the key, to recognise it.' }),
  lastFour: Type.String(),
  scopes: Type.Array(Type.String(), { description: 'What the key may do; empty means every scope.' }),
  createdAt: Type.String({ format: 'date-time' }),
  revokedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
};
export const ApiKey = Type.Object(apiKeyProperties, { $id: 'ApiKey' });
export const ApiKeyCreated = Type.Object({
  ...apiKeyProperties,
  key: Type.String({ description: 'The key in clear. Shown once: store it now.' }),
});

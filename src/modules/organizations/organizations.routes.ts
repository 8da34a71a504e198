import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { principalOf } from '../../platform/auth.ts';
import { ApiError } from '../../platform/errors.ts';
import type { Ctx } from '../../platform/context.ts';
import { envelope, IdParams, listEnvelope, responses, send, sendPage } from '../../platform/envelope.ts';
import { listQuery } from '../../platform/pagination.ts';
import * as service from './organizations.service.ts';
import { ApiKey, ApiKeyBody, ApiKeyCreated, LoginBody, Me, Session, SignupBody, Token, TokenBody } from './organizations.schemas.ts';

export async function organizationsRoutes(app: FastifyInstance, { ctx }: { ctx: Ctx }) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const auth = { tags: ['Authentication'] };
  const keys = { tags: ['API keys'] };

  r.post('/auth/signup', {
    config: { public: true, secretResponse: true },
    schema: {
      ...auth, summary: 'Create a user and an organization',
      operationId: 'signUp',
      description: 'Creates an organization with its first user and returns a session bearer token (12 ' +
        'hours). Create API keys with it for servers.',
      errorCodes: { 409: ['email_taken'] },
      body: SignupBody, response: responses(201, envelope(Session), 'Signed up'), security: [],
    },
  }, async (req, reply) => send(reply, 201, 'Signed up successfully.', await service.signup(ctx, req.body)));

  r.post('/auth/login', {
    config: { public: true, secretResponse: true },
    schema: {
      ...auth, summary: 'Log in and get a bearer token',
      operationId: 'logIn',
      description: 'Exchanges an email and password for a session bearer token (12 hours).',
      errorCodes: { 401: ['invalid_credentials'] },
      body: LoginBody, response: responses(200, envelope(Session), 'Logged in'), security: [],
    },
    // Past its failures, a client or an account gets a 429 before any password is verified.
    preHandler: async (req) => app.failedAuth.assertAllowed(app.failedAuth.loginAttempt(req.ip, req.body.email)),
  }, async (req, reply) => {
    try {
      return send(reply, 200, 'Logged in successfully.', await service.login(ctx, req.body));
    } catch (error) {
      const failed = error instanceof ApiError && error.code === 'invalid_credentials';
      if (failed) await app.failedAuth.recordFailure(app.failedAuth.loginAttempt(req.ip, req.body.email));
      throw error;
    }
  });

  r.post('/auth/logout', {
    schema: {
      ...auth, summary: 'End the current bearer token',
      operationId: 'logOut',
      description: 'Revokes the bearer token that authenticates this request. An API key cannot log out: ' +
        'revoke it with DELETE /api-keys/{id}.',
      errorCodes: { 422: ['not_a_session'] },
      response: responses(200, envelope(Type.Object({ loggedOut: Type.Boolean() })), 'Logged out'),
    },
  }, async (req, reply) => send(reply, 200, 'Logged out successfully.', await service.logout(ctx, principalOf(req))));

  r.get('/auth/me', {
    schema: {
      ...auth, summary: 'Who is calling',
      operationId: 'getCurrentCaller',
      description: 'The organization, the user (for a session) and the credential that authenticate this ' +
        'request, with its scopes.',
      response: responses(200, envelope(Me), 'The caller'),
    },
  }, async (req, reply) => send(reply, 200, 'Data fetched successfully.', await service.me(ctx, principalOf(req))));

  r.post('/auth/tokens', {
    config: { secretResponse: true },
    // Every field has a default: no body at all is a request for the defaults.
    preValidation: async (req) => { req.body ??= {} as typeof req.body; },
    schema: {
      ...auth, summary: 'Create a short-lived bearer token (optionally scoped)',
      operationId: 'createEphemeralToken',
      description: 'A bearer token for a browser or a mobile app, valid ttlSeconds (at most an hour, and ' +
        'never longer than the caller\'s own credential). Its scopes can only narrow the caller\'s.',
      body: TokenBody, response: responses(201, envelope(Token), 'Token created'),
    },
  }, async (req, reply) => send(reply, 201, 'Token created successfully.', await service.createEphemeralToken(ctx, principalOf(req), req.body)));

  r.post('/api-keys', {
    config: { secretResponse: true },
    schema: {
      ...keys, summary: 'Create an API key (shown once)',
      description: 'Returns the new key in `key`, once: only a keyed hash is stored. Later reads show its ' +
        'prefix and last four characters. A scoped credential may only create keys within its own scopes.',
      errorCodes: { 403: ['forbidden'] },
      body: ApiKeyBody, response: responses(201, envelope(ApiKeyCreated), 'API key created'),
    },
  }, async (req, reply) => send(reply, 201, 'API key created successfully.', await service.createApiKey(ctx, principalOf(req), req.body)));

  r.get('/api-keys', {
    schema: {
      ...keys, summary: 'List API keys (prefix and last four only)',
      description: 'The organization\'s API keys, revoked ones included, newest first.',
      querystring: listQuery({}), response: responses(200, listEnvelope(Type.Ref(ApiKey)), 'API keys'),
    },
  }, async (req, reply) => sendPage(reply, await service.listApiKeys(ctx, principalOf(req).organizationId, req.query)));

  r.delete('/api-keys/:id', {
    schema: {
      ...keys, summary: 'Revoke an API key at once',
      operationId: 'revokeApiKey',
      description: 'The key stops authenticating immediately, and so does every token minted from it. ' +
        'Revoking is final. A scoped credential may only revoke keys within its own scopes.',
      params: IdParams, response: responses(200, envelope(Type.Ref(ApiKey)), 'API key revoked'),
    },
  }, async (req, reply) => send(reply, 200, 'API key revoked successfully.', await service.revokeApiKey(ctx, principalOf(req), req.params.id)));
}

import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { principalOf } from '../../platform/auth.ts';
import type { Ctx } from '../../platform/context.ts';
import { envelope, IdParams, listEnvelope, responses, send, sendPage } from '../../platform/envelope.ts';
import { listQuery } from '../../platform/pagination.ts';
import * as service from './authorizations.service.ts';
import { Authorization, AuthorizationListQuery } from './authorizations.schemas.ts';


export async function authorizationsRoutes(app: FastifyInstance, { ctx }: { ctx: Ctx }) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['Authorizations'];
  const AuthorizationRef = Type.Ref(Authorization);

  r.get('/authorizations', {
    schema: {
      tags, summary: 'List authorizations (filters cardId, status, createdFrom, createdTo)',
      description: 'The organization\'s authorizations, approved and declined, newest first.',
      querystring: listQuery(AuthorizationListQuery), response: responses(200, listEnvelope(AuthorizationRef), 'Authorizations'),
    },
  }, async (req, reply) => sendPage(reply, await service.listAuthorizations(ctx, principalOf(req).organizationId, req.query)));

  r.get('/authorizations/:id', {
    schema: {
      tags, summary: 'Get an authorization with its history',
      description: 'The authorization with its amounts and every step: authorization, increments, capture, ' +
        'reversals, expiry.',
      params: IdParams, response: responses(200, envelope(AuthorizationRef), 'The authorization'),
    },
  }, async (req, reply) => send(reply, 200, 'Data fetched successfully.', await service.getAuthorization(ctx, principalOf(req).organizationId, req.params.id)));
}

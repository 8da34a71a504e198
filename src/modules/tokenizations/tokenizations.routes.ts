import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { principalOf } from '../../platform/auth.ts';
import type { Ctx } from '../../platform/context.ts';
import { IdParams, listEnvelope, responses, sendPage } from '../../platform/envelope.ts';
import { listQuery } from '../../platform/pagination.ts';
import * as service from './tokenizations.service.ts';
import { Tokenization, TokenizationListQuery } from './tokenizations.schemas.ts';


export async function tokenizationsRoutes(app: FastifyInstance, { ctx }: { ctx: Ctx }) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  r.get('/cards/:id/tokenizations', {
    schema: {
      tags: ['Cards'], summary: 'List the card\'s mobile wallet tokenizations',
      operationId: 'listCardTokenizations',
      description: 'The card\'s wallet tokens (Apple Pay, Google Pay, Samsung Pay) with their status, ' +
        'newest first.',
      params: IdParams,
      querystring: listQuery(TokenizationListQuery), response: responses(200, listEnvelope(Type.Ref(Tokenization)), 'Tokenizations'),
    },
  }, async (req, reply) => sendPage(reply, await service.listTokenizations(ctx, principalOf(req).organizationId, req.params.id, req.query)));
}

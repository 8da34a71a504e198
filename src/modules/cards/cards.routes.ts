import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { principalOf } from '../../platform/auth.ts';
import type { Ctx } from '../../platform/context.ts';
import { envelope, listEnvelope, responses, send } from '../../platform/envelope.ts';
import { listQuery } from '../../platform/pagination.ts';
import * as service from './cards.service.ts';
import { Card, CardListQuery, CreateCardBody } from './cards.schemas.ts';

const IdParams = Type.Object({ id: Type.String({ maxLength: 64 }) });

export async function cardsRoutes(app: FastifyInstance, { ctx }: { ctx: Ctx }) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['Cards'];
  const CardRef = Type.Ref(Card);

  r.post('/cards', {
    schema: { tags, summary: 'Issue a virtual or physical card', body: CreateCardBody, response: responses(201, envelope(CardRef), 'Card created') },
  }, async (req, reply) => send(reply, 201, 'Card created successfully.', await service.createCard(ctx, principalOf(req).organizationId, req.body)));

  r.get('/cards', {
    schema: { tags, summary: 'List cards (masked)', querystring: listQuery(CardListQuery), response: responses(200, listEnvelope(CardRef), 'Cards') },
  }, async (req, reply) => {
    const page = await service.listCards(ctx, principalOf(req).organizationId, req.query);
    return send(reply, 200, 'Data fetched successfully.', page.data, page.meta);
  });

  r.get('/cards/:id', {
    schema: { tags, summary: 'Get a card (masked)', params: IdParams, response: responses(200, envelope(CardRef), 'The card') },
  }, async (req, reply) => send(reply, 200, 'Data fetched successfully.', await service.getCard(ctx, principalOf(req).organizationId, req.params.id)));
}

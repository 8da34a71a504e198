import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { principalOf } from '../../platform/auth.ts';
import type { Ctx } from '../../platform/context.ts';
import { envelope, listEnvelope, responses, send, sendPage } from '../../platform/envelope.ts';
import { listQuery } from '../../platform/pagination.ts';
import * as service from './events.service.ts';

export const Event = Type.Object({
  id: Type.String(),
  type: Type.String({ examples: ['card.created'] }),
  createdAt: Type.String({ format: 'date-time' }),
  resource: Type.String(),
  resourceId: Type.String(),
  sequence: Type.Integer({ description: 'Per-resource, increasing: drop an update whose sequence is not newer.' }),
  data: Type.Record(Type.String(), Type.Unknown()),
  previousAttributes: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
}, { $id: 'Event' });

const CatalogEntry = Type.Object({
  type: Type.String(),
  resource: Type.String(),
  description: Type.String(),
  sample: Type.Record(Type.String(), Type.Unknown()),
});

export async function eventsRoutes(app: FastifyInstance, { ctx }: { ctx: Ctx }) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['Events'];

  r.get('/events/catalog', {
    schema: {
      tags, summary: 'Every event type with a sample payload',
      operationId: 'getEventCatalog',
      description: 'Every event type Paygen emits, with the resource it describes and a sample of its data. ' +
        'The webhooks section of this document has each payload\'s schema.',
      response: responses(200, envelope(Type.Array(CatalogEntry)), 'The catalog'),
    },
  }, async (_req, reply) => send(reply, 200, 'Data fetched successfully.', service.catalog()));

  r.get('/events', {
    schema: {
      tags, summary: 'List events',
      description: 'The organization\'s events, newest first; filter by type or resourceId.',
      querystring: listQuery({ type: Type.Optional(Type.String({ maxLength: 64 })), resourceId: Type.Optional(Type.String({ maxLength: 64 })) }),
      response: responses(200, listEnvelope(Type.Ref(Event)), 'Events'),
    },
  }, async (req, reply) => sendPage(reply, await service.listEvents(ctx, principalOf(req).organizationId, req.query)));

  r.get('/events/:id', {
    schema: {
      tags, summary: 'Get an event',
      description: 'One event, as it is delivered to webhook endpoints.',
      params: Type.Object({ id: Type.String({ maxLength: 64 }) }), response: responses(200, envelope(Type.Ref(Event)), 'The event'),
    },
  }, async (req, reply) => send(reply, 200, 'Data fetched successfully.', await service.getEvent(ctx, principalOf(req).organizationId, req.params.id)));
}

// The event side of the delivery log: GET /events/:id/deliveries and POST /events/:id/resend.
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { principalOf } from '../../platform/auth.ts';
import type { Ctx } from '../../platform/context.ts';
import { envelope, IdParams, listEnvelope, responses, send, sendPage } from '../../platform/envelope.ts';
import { listQuery } from '../../platform/pagination.ts';
import * as deliveries from './deliveries.service.ts';
import { Delivery, DeliveryListQuery, ResendBody } from './webhooks.schemas.ts';


export async function eventDeliveriesRoutes(app: FastifyInstance, { ctx }: { ctx: Ctx }) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['Events'];
  const DeliveryRef = Type.Ref(Delivery);

  r.get('/events/:id/deliveries', {
    schema: {
      tags, summary: 'Deliveries of an event to every endpoint, with their attempts',
      operationId: 'listEventDeliveries',
      description: 'Every delivery of the event, to each endpoint, with every attempt: status code, ' +
        'latency, response excerpt, error and next attempt.',
      params: IdParams,
      querystring: listQuery(DeliveryListQuery), response: responses(200, listEnvelope(DeliveryRef), 'Deliveries'),
    },
  }, async (req, reply) => sendPage(reply, await deliveries.listForEvent(ctx, principalOf(req).organizationId, req.params.id, req.query)));

  r.post('/events/:id/resend', {
    schema: {
      tags, summary: 'Deliver an event again',
      operationId: 'resendEvent',
      errorCodes: { 422: ['webhook_not_found', 'webhook_disabled'] },
      params: IdParams, body: ResendBody,
      description: 'Queues a new delivery of the event to every enabled endpoint that takes its type, or to the one named by webhookId. The webhook-id header stays the event id, so receivers that already processed it can drop it.',
      response: responses(202, envelope(Type.Array(DeliveryRef)), 'Deliveries queued'),
    },
    // The body is optional: no body means "every matching endpoint".
    preValidation: async (req) => { req.body ??= {}; },
  }, async (req, reply) => send(reply, 202, 'Deliveries queued.', await deliveries.resend(ctx, principalOf(req).organizationId, req.params.id, req.body.webhookId)));
}

import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { principalOf } from '../../platform/auth.ts';
import type { Ctx } from '../../platform/context.ts';
import { envelope, IdParams, listEnvelope, responses, send, sendPage } from '../../platform/envelope.ts';
import { listQuery } from '../../platform/pagination.ts';
import * as deliveries from './deliveries.service.ts';
import { describeSchedule } from './retry-schedule.ts';
import * as service from './webhooks.service.ts';
import {
  CreateWebhookBody, Delivery, DeliveryListQuery, ReplayBody, ReplayResult, UpdateWebhookBody, Webhook, WebhookWithSecret,
} from './webhooks.schemas.ts';


export async function webhooksRoutes(app: FastifyInstance, { ctx }: { ctx: Ctx }) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['Webhooks'];
  const WebhookRef = Type.Ref(Webhook);
  const DeliveryRef = Type.Ref(Delivery);
  const org = (req: Parameters<typeof principalOf>[0]) => principalOf(req).organizationId;

  r.post('/webhooks', {
    config: { secretResponse: true },
    schema: {
      tags, summary: 'Create a webhook endpoint (its secret is shown once)',
      errorCodes: {
        422: ['unknown_event_type', 'invalid_webhook_url', 'webhook_url_not_allowed', 'too_many_webhooks'],
      },
      body: CreateWebhookBody,
      description: `Every event of the listed types is POSTed to the url, signed per Standard Webhooks. Retries: ${describeSchedule()}`,
      response: responses(201, envelope(WebhookWithSecret), 'Webhook created'),
    },
  }, async (req, reply) => send(reply, 201, 'Webhook created successfully.', await service.createWebhook(ctx, org(req), req.body)));

  r.get('/webhooks', {
    schema: {
      tags, summary: 'List webhook endpoints',
      description: 'The organization\'s webhook endpoints, newest first. Secrets are never shown again.',
      querystring: listQuery({}), response: responses(200, listEnvelope(WebhookRef), 'Webhooks'),
    },
  }, async (req, reply) => sendPage(reply, await service.listWebhooks(ctx, org(req), req.query)));

  r.get('/webhooks/:id', {
    schema: {
      tags, summary: 'Get a webhook endpoint',
      description: 'The endpoint with its event types and whether it is enabled.',
      params: IdParams, response: responses(200, envelope(WebhookRef), 'The webhook'),
    },
  }, async (req, reply) => send(reply, 200, 'Data fetched successfully.', await service.getWebhook(ctx, org(req), req.params.id)));

  r.patch('/webhooks/:id', {
    schema: {
      tags, summary: 'Change the url, event types, description, or enable or disable',
      description: 'Changes the given fields. Disabling cancels the endpoint\'s pending deliveries; ' +
        'enabling it again does not bring them back (use replay).',
      errorCodes: { 422: ['unknown_event_type', 'invalid_webhook_url', 'webhook_url_not_allowed'] },
      params: IdParams, body: UpdateWebhookBody, response: responses(200, envelope(WebhookRef), 'Webhook updated'),
    },
  }, async (req, reply) => send(reply, 200, 'Webhook updated successfully.', await service.updateWebhook(ctx, org(req), req.params.id, req.body)));

  r.delete('/webhooks/:id', {
    schema: {
      tags, summary: 'Delete a webhook endpoint (its pending deliveries are cancelled)',
      description: 'Deletes the endpoint; its pending deliveries are cancelled and its delivery log stays ' +
        'readable through the events.',
      params: IdParams, response: responses(200, envelope(WebhookRef), 'Webhook deleted'),
    },
  }, async (req, reply) => send(reply, 200, 'Webhook deleted successfully.', await service.deleteWebhook(ctx, org(req), req.params.id)));

  r.post('/webhooks/:id/rotate-secret', {
    config: { secretResponse: true },
    schema: {
      tags, summary: 'Rotate the signing secret (the old one keeps signing for 24 h)',
      operationId: 'rotateWebhookSecret',
      params: IdParams,
      description: 'Returns the new secret, once. For 24 hours every delivery carries two signatures in webhook-signature (new and old secret, space-separated), so receivers can switch at their pace.',
      response: responses(200, envelope(WebhookWithSecret), 'Secret rotated'),
    },
  }, async (req, reply) => send(reply, 200, 'Webhook secret rotated successfully.', await service.rotateSecret(ctx, org(req), req.params.id)));

  r.post('/webhooks/:id/test', {
    schema: {
      tags, summary: 'Send a webhook.test event to this endpoint only',
      operationId: 'testWebhook',
      description: 'Queues a webhook.test event to this endpoint only, to check that it receives and ' +
        'verifies deliveries.',
      errorCodes: { 422: ['webhook_disabled'] },
      params: IdParams, response: responses(202, envelope(DeliveryRef), 'Test delivery queued'),
    },
  }, async (req, reply) => send(reply, 202, 'Test delivery queued.', await deliveries.sendTest(ctx, org(req), req.params.id)));

  r.get('/webhooks/:id/deliveries', {
    schema: {
      tags, summary: 'Delivery log of an endpoint: every delivery with its attempts',
      operationId: 'listWebhookDeliveries',
      description: 'Every delivery to the endpoint with every attempt: status code, latency, response ' +
        'excerpt, error and next attempt; filter by status.',
      params: IdParams,
      querystring: listQuery(DeliveryListQuery), response: responses(200, listEnvelope(DeliveryRef), 'Deliveries'),
    },
  }, async (req, reply) => sendPage(reply, await deliveries.listForWebhook(ctx, org(req), req.params.id, req.query)));

  r.post('/webhooks/:id/replay', {
    schema: {
      tags, summary: 'Deliver again every matching event since a time',
      operationId: 'replayWebhook',
      errorCodes: { 422: ['webhook_disabled', 'invalid_replay_window', 'replay_too_large'] },
      params: IdParams, body: ReplayBody,
      description: `Queues one new delivery per event of the endpoint's types created at or after \`since\` (${deliveries.MAX_REPLAY_EVENTS} at most).`,
      response: responses(202, envelope(ReplayResult), 'Replay queued'),
    },
  }, async (req, reply) => send(reply, 202, 'Replay queued.', await deliveries.replay(ctx, org(req), req.params.id, req.body.since)));
}

// The card network's side of payments: authorizations and their steps, refunds and force
// captures. Routes here drive the authorizations and transactions services.
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { principalOf } from '../platform/auth.ts';
import type { Ctx } from '../platform/context.ts';
import { envelope, ErrorBody, IdParams, responses, send } from '../platform/envelope.ts';
import { Authorization, CaptureBody, CreateAuthorizationBody, IncrementBody, ReverseBody } from '../modules/authorizations/authorizations.schemas.ts';
import * as authorizations from '../modules/authorizations/authorizations.service.ts';
import * as clearing from '../modules/authorizations/clearing.service.ts';
import { ForceCaptureBody, RefundBody, Transaction } from '../modules/transactions/transactions.schemas.ts';
import * as transactions from '../modules/transactions/transactions.service.ts';
import { optionalBody } from '../modules/cards/cards.routes.ts';


export async function networkRoutes(app: FastifyInstance, { ctx }: { ctx: Ctx }) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['Simulator'];
  const AuthorizationRef = Type.Ref(Authorization);
  const org = (req: Parameters<typeof principalOf>[0]) => principalOf(req).organizationId;
  // The authorization path waits a bounded time for row locks: 503 retry_later when it loses twice.
  const busy = { 503: { ...Type.Ref(ErrorBody), description: 'retry_later: the card stayed busy; nothing changed (see Retry-After)' } };

  r.post('/simulator/authorizations', {
    schema: { tags, summary: 'Simulate a card authorization (a decline is a 201 with approved false)', body: CreateAuthorizationBody, response: { ...responses(201, envelope(AuthorizationRef), 'The decision'), ...busy } },
  }, async (req, reply) => send(reply, 201, 'Authorization processed successfully.', await authorizations.authorize(ctx, org(req), req.body)));

  r.post('/simulator/authorizations/:id/increment', {
    schema: { tags, summary: 'Increment an authorization (all or nothing; a decline shows in its history)', params: IdParams, body: IncrementBody, response: { ...responses(200, envelope(AuthorizationRef), 'The authorization'), ...busy } },
  }, async (req, reply) => send(reply, 200, 'Authorization incremented.', await clearing.increment(ctx, org(req), req.params.id, req.body)));

  r.post('/simulator/authorizations/:id/capture', {
    preValidation: optionalBody,
    schema: { tags, summary: 'Capture an authorization: less, equal or more than held, even after expiry', params: IdParams, body: CaptureBody, response: { ...responses(200, envelope(AuthorizationRef), 'The closed authorization'), ...busy } },
  }, async (req, reply) => send(reply, 200, 'Authorization captured successfully.', await clearing.capture(ctx, org(req), req.params.id, req.body)));

  r.post('/simulator/authorizations/:id/reverse', {
    preValidation: optionalBody,
    schema: { tags, summary: 'Reverse all or part of an authorization\'s hold', params: IdParams, body: ReverseBody, response: { ...responses(200, envelope(AuthorizationRef), 'The authorization'), ...busy } },
  }, async (req, reply) => send(reply, 200, 'Authorization reversed successfully.', await clearing.reverse(ctx, org(req), req.params.id, req.body)));

  r.post('/simulator/authorizations/:id/expire', {
    schema: { tags, summary: 'Expire an authorization now (releases its hold)', params: IdParams, response: { ...responses(200, envelope(AuthorizationRef), 'The expired authorization'), ...busy } },
  }, async (req, reply) => send(reply, 200, 'Authorization expired successfully.', await clearing.expire(ctx, org(req), req.params.id)));

  r.post('/simulator/refunds', {
    schema: { tags, summary: 'Simulate a merchant refund to a card', body: RefundBody, response: responses(201, envelope(Type.Ref(Transaction)), 'The refund') },
  }, async (req, reply) => send(reply, 201, 'Refund processed successfully.', await transactions.refund(ctx, org(req), req.body)));

  r.post('/simulator/force-captures', {
    schema: { tags, summary: 'Simulate clearing with no authorization (always booked)', body: ForceCaptureBody, response: responses(201, envelope(Type.Ref(Transaction)), 'The force capture') },
  }, async (req, reply) => send(reply, 201, 'Force capture processed successfully.', await transactions.forceCapture(ctx, org(req), req.body)));
}

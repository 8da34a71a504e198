// The card network's side of payments: authorizations and their steps, refunds and force
// captures. Routes here drive the authorizations and transactions services.
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { principalOf } from '../platform/auth.ts';
import type { Ctx } from '../platform/context.ts';
import { envelope, IdParams, responses, send } from '../platform/envelope.ts';
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

  r.post('/simulator/authorizations', {
    schema: {
      tags, summary: 'Simulate a card authorization (a decline is a 201 with approved false)',
      operationId: 'simulatorAuthorize',
      description: 'The network asks to authorize a card payment. Paygen checks the card, the spend ' +
        'controls of the program, holder and card, the budget and the funds, then asks the program\'s ' +
        'decision webhook if it has one. An approval holds the amount on the card; a decline is data (201 ' +
        'with approved false and a declineReason), not an error. A repeated networkId returns the stored ' +
        'decision.',
      errorCodes: { 503: ['retry_later'], 404: ['not_found'] },
      body: CreateAuthorizationBody, response: responses(201, envelope(AuthorizationRef), 'The decision'),
    },
  }, async (req, reply) => send(reply, 201, 'Authorization processed successfully.', await authorizations.authorize(ctx, org(req), req.body)));

  r.post('/simulator/authorizations/:id/increment', {
    schema: {
      tags, summary: 'Increment an authorization (all or nothing; a decline shows in its history)',
      operationId: 'simulatorIncrementAuthorization',
      description: 'Asks to hold more on a pending authorization (a hotel or a fuel pump). The whole ' +
        'increment is approved or declined; a decline is recorded in the history and the hold is unchanged.',
      errorCodes: {
        503: ['retry_later'],
        409: ['authorization_not_pending', 'too_many_steps'],
        422: ['invalid_amount', 'amount_limit_exceeded'],
      },
      params: IdParams, body: IncrementBody, response: responses(200, envelope(AuthorizationRef), 'The authorization'),
    },
  }, async (req, reply) => send(reply, 200, 'Authorization incremented.', await clearing.increment(ctx, org(req), req.params.id, req.body)));

  r.post('/simulator/authorizations/:id/capture', {
    preValidation: optionalBody,
    schema: {
      tags, summary: 'Capture an authorization: less, equal or more than held, even after expiry',
      operationId: 'simulatorCaptureAuthorization',
      description: 'Clears the authorization: the amount (the held amount when left out) moves to ' +
        'settlement and a capture transaction is created. Less than held releases the rest; more is ' +
        'captured all the same, as networks force it.',
      errorCodes: {
        503: ['retry_later'],
        409: ['authorization_not_capturable', 'too_many_steps'],
        422: ['invalid_amount', 'amount_limit_exceeded'],
      },
      params: IdParams, body: CaptureBody, response: responses(200, envelope(AuthorizationRef), 'The closed authorization'),
    },
  }, async (req, reply) => send(reply, 200, 'Authorization captured successfully.', await clearing.capture(ctx, org(req), req.params.id, req.body)));

  r.post('/simulator/authorizations/:id/reverse', {
    preValidation: optionalBody,
    schema: {
      tags, summary: 'Reverse all or part of an authorization\'s hold',
      operationId: 'simulatorReverseAuthorization',
      description: 'Releases `amount` of the hold (all of it when left out); a full reversal ends the ' +
        'authorization.',
      errorCodes: {
        503: ['retry_later'],
        409: ['authorization_not_pending', 'too_many_steps'],
        422: ['invalid_amount', 'amount_exceeds_hold'],
      },
      params: IdParams, body: ReverseBody, response: responses(200, envelope(AuthorizationRef), 'The authorization'),
    },
  }, async (req, reply) => send(reply, 200, 'Authorization reversed successfully.', await clearing.reverse(ctx, org(req), req.params.id, req.body)));

  r.post('/simulator/authorizations/:id/expire', {
    schema: {
      tags, summary: 'Expire an authorization now (releases its hold)',
      operationId: 'simulatorExpireAuthorization',
      description: 'Expires a pending authorization now instead of after the program\'s holdTtlHours, ' +
        'releasing its hold. It can still be captured later.',
      errorCodes: { 503: ['retry_later'], 409: ['authorization_not_pending', 'too_many_steps'] },
      params: IdParams, response: responses(200, envelope(AuthorizationRef), 'The expired authorization'),
    },
  }, async (req, reply) => send(reply, 200, 'Authorization expired successfully.', await clearing.expire(ctx, org(req), req.params.id)));

  r.post('/simulator/refunds', {
    schema: {
      tags, summary: 'Simulate a merchant refund to a card',
      operationId: 'simulatorRefund',
      description: 'Credits the card with a merchant refund, optionally tied to the refunded capture ' +
        '(transactionId). A cancelled or expired card passes it on to its debit account.',
      errorCodes: {
        404: ['not_found'],
        422: ['invalid_amount', 'amount_limit_exceeded', 'transaction_not_refundable', 'refund_exceeds_transaction'],
      },
      body: RefundBody, response: responses(201, envelope(Type.Ref(Transaction)), 'The refund'),
    },
  }, async (req, reply) => send(reply, 201, 'Refund processed successfully.', await transactions.refund(ctx, org(req), req.body)));

  r.post('/simulator/force-captures', {
    schema: {
      tags, summary: 'Simulate clearing with no authorization (always booked)',
      operationId: 'simulatorForceCapture',
      description: 'Books a capture that had no authorization, as offline and late transactions do: it is ' +
        'never declined and may take the card below zero.',
      errorCodes: { 404: ['not_found'], 422: ['invalid_amount', 'amount_limit_exceeded'] },
      body: ForceCaptureBody, response: responses(201, envelope(Type.Ref(Transaction)), 'The force capture'),
    },
  }, async (req, reply) => send(reply, 201, 'Force capture processed successfully.', await transactions.forceCapture(ctx, org(req), req.body)));
}

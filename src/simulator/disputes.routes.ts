// The network's side of disputes: its decision on a submitted dispute. Drives the disputes service.
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { principalOf } from '../platform/auth.ts';
import type { Ctx } from '../platform/context.ts';
import { envelope, IdParams, responses, send } from '../platform/envelope.ts';
import { REFUND_RULE } from '../modules/disputes/disputes.routes.ts';
import { Dispute, ResolveDisputeBody } from '../modules/disputes/disputes.schemas.ts';
import * as disputes from '../modules/disputes/disputes.service.ts';

export async function disputeSimulatorRoutes(app: FastifyInstance, { ctx }: { ctx: Ctx }) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  r.post('/simulator/disputes/:id/resolve', {
    schema: {
      tags: ['Simulator'], summary: 'Resolve a submitted dispute as the network would: won or lost',
      operationId: 'simulatorResolveDispute',
      description: 'won credits the card with the disputed amount from the dispute suspense account (a cancelled or expired ' +
        'card passes it on to its debit account); lost returns the amount to network settlement and leaves the charge. ' +
        REFUND_RULE,
      errorCodes: { 409: ['dispute_not_submitted'] },
      params: IdParams, body: ResolveDisputeBody, response: responses(200, envelope(Type.Ref(Dispute)), 'The resolved dispute'),
    },
  }, async (req, reply) => send(reply, 200, `Dispute ${req.body.outcome}.`,
    await disputes.resolveDispute(ctx, principalOf(req).organizationId, req.params.id, req.body)));
}

// The card-network side of the sandbox. Routes here drive module services; they never touch repos.
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { principalOf } from '../platform/auth.ts';
import type { Ctx } from '../platform/context.ts';
import { envelope, responses, send } from '../platform/envelope.ts';
import { Deposit, DepositBody } from '../modules/accounts/accounts.schemas.ts';
import * as accounts from '../modules/accounts/accounts.service.ts';
import { CardHolder, KycBody } from '../modules/card-holders/card-holders.schemas.ts';
import * as cardHolders from '../modules/card-holders/card-holders.service.ts';

const IdParams = Type.Object({ id: Type.String({ maxLength: 64 }) });

export async function simulatorRoutes(app: FastifyInstance, { ctx }: { ctx: Ctx }) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['Simulator'];

  r.post('/simulator/accounts/:id/deposits', {
    schema: { tags, summary: 'Simulate an incoming bank transfer into an account', params: IdParams, body: DepositBody, response: responses(201, envelope(Deposit), 'Deposit received') },
  }, async (req, reply) => send(reply, 201, 'Deposit received successfully.', await accounts.simulateDeposit(ctx, principalOf(req).organizationId, req.params.id, req.body)));

  r.post('/simulator/card-holders/:id/kyc', {
    schema: { tags, summary: 'Set a card holder\'s KYC status (the sandbox\'s KYC review)', params: IdParams, body: KycBody, response: responses(200, envelope(Type.Ref(CardHolder)), 'KYC status set') },
  }, async (req, reply) => send(reply, 200, 'KYC status updated successfully.', await cardHolders.setKycStatus(ctx, principalOf(req).organizationId, req.params.id, req.body)));
}

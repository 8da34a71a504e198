// The card-network side of the sandbox. Routes here drive module services; they never touch repos.
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { principalOf } from '../platform/auth.ts';
import type { Ctx } from '../platform/context.ts';
import { envelope, IdParams, responses, send } from '../platform/envelope.ts';
import type { RouteErrorCodes } from '../platform/openapi.ts';
import { Deposit, DepositBody } from '../modules/accounts/accounts.schemas.ts';
import * as accounts from '../modules/accounts/accounts.service.ts';
import { CardHolder, KycBody } from '../modules/card-holders/card-holders.schemas.ts';
import * as cardHolders from '../modules/card-holders/card-holders.service.ts';
import { CreateTokenizationBody, Tokenization } from '../modules/tokenizations/tokenizations.schemas.ts';
import * as tokenizations from '../modules/tokenizations/tokenizations.service.ts';
import { Card, ReasonBody } from '../modules/cards/cards.schemas.ts';
import * as cardLifecycle from '../modules/cards/card-lifecycle.service.ts';
import type { CardAction } from '../modules/cards/card-status.ts';
import { optionalBody } from '../modules/cards/cards.routes.ts';

/** The network and issuer side of a card's life: [action, method, status code, summary, description]. */
const CARD_ACTIONS: Array<[CardAction, 'PATCH' | 'POST', number, string, string]> = [
  ['issue', 'PATCH', 202, 'Pass issuance review: pending → active (virtual) or issued (physical)',
    'Ends the issuance review of a program with issuanceReview: a virtual card becomes active, a physical one issued.'],
  ['fail', 'PATCH', 200, 'Fail issuance review: pending → rejected',
    'Rejects a pending card: it can never be used.'],
  ['ship', 'POST', 200, 'Ship a physical card (tracking number; digital while in transit if the program allows)',
    'Ships an issued physical card with a tracking number; with the program\'s digitalInTransit it may be used online (status digital) until it is activated.'],
  ['deliver', 'POST', 200, 'Deliver a shipped physical card',
    'Marks a shipped physical card delivered; the holder then activates it.'],
  ['expire', 'POST', 200, 'Expire a card; its available balance returns to the debit account',
    'Expires the card now instead of at its expiry date: it is declined from then on.'],
  ['suspend', 'POST', 200, 'Suspend a card (issuer or risk decision)',
    'Suspends the card as the issuer would (fraud review, compliance): declined until reinstated; wallet tokens are suspended with it.'],
  ['reinstate', 'POST', 200, 'Lift a suspension: back to the status before it',
    'Lifts a suspension: the card returns to the status it had before.'],
];
/** Codes of the card actions beyond the common ones; shipping has its own. */
const ACTION_ERRORS: Partial<Record<CardAction, RouteErrorCodes>> = {
  ship: { 409: ['invalid_status_transition', 'invalid_shipping_transition'], 422: ['not_physical'] },
  deliver: { 409: ['invalid_status_transition', 'invalid_shipping_transition'], 422: ['not_physical'] },
};


export async function simulatorRoutes(app: FastifyInstance, { ctx }: { ctx: Ctx }) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['Simulator'];

  r.post('/simulator/accounts/:id/deposits', {
    schema: {
      tags, summary: 'Simulate an incoming bank transfer into an account',
      operationId: 'simulatorDeposit',
      description: 'Credits the account as an incoming bank transfer would: the sandbox\'s way to fund ' +
        'accounts.',
      errorCodes: { 409: ['account_closed'], 422: ['invalid_amount', 'amount_limit_exceeded'] },
      params: IdParams, body: DepositBody, response: responses(201, envelope(Deposit), 'Deposit received'),
    },
  }, async (req, reply) => send(reply, 201, 'Deposit received successfully.', await accounts.simulateDeposit(ctx, principalOf(req).organizationId, req.params.id, req.body)));

  for (const [action, method, status, summary, description] of CARD_ACTIONS) {
    r.route({
      method, url: `/simulator/cards/:id/${action}`, preValidation: optionalBody,
      schema: {
        tags, summary, description, errorCodes: ACTION_ERRORS[action] ?? { 409: ['invalid_status_transition'] },
        params: IdParams, body: ReasonBody, response: responses(status, envelope(Type.Ref(Card)), summary),
      },
      handler: async (req, reply) => send(reply, status, `Card ${action} simulated successfully.`,
        await cardLifecycle.act(ctx, principalOf(req).organizationId, req.params.id, action, { actor: 'simulator', reason: req.body.reason ?? null })),
    });
  }

  r.post('/simulator/card-holders/:id/kyc', {
    schema: {
      tags, summary: 'Set a card holder\'s KYC status (the sandbox\'s KYC review)',
      operationId: 'simulatorSetCardHolderKyc',
      description: 'Sets the KYC status and reason, as a KYC provider\'s review would, and emits ' +
        'card_holder.kyc_updated.',
      params: IdParams, body: KycBody, response: responses(200, envelope(Type.Ref(CardHolder)), 'KYC status set'),
    },
  }, async (req, reply) => send(reply, 200, 'KYC status updated successfully.', await cardHolders.setKycStatus(ctx, principalOf(req).organizationId, req.params.id, req.body)));

  r.post('/simulator/cards/:id/tokenizations', {
    schema: {
      tags, summary: 'Enrol a card in a mobile wallet (the wallet provider\'s tokenization)',
      operationId: 'simulatorTokenizeCard',
      description: 'Adds the card to a mobile wallet, as the wallet provider would. Tokens follow their ' +
        'card\'s status.',
      errorCodes: { 409: ['card_not_usable', 'too_many_tokenizations'] },
      params: IdParams, body: CreateTokenizationBody, response: responses(201, envelope(Type.Ref(Tokenization)), 'Tokenization created'),
    },
  }, async (req, reply) => send(reply, 201, 'Tokenization created successfully.', await tokenizations.createTokenization(ctx, principalOf(req).organizationId, req.params.id, req.body)));
}

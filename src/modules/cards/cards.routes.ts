import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { principalOf } from '../../platform/auth.ts';
import type { Ctx } from '../../platform/context.ts';
import { envelope, IdParams, listEnvelope, responses, send, sendPage } from '../../platform/envelope.ts';
import { listQuery } from '../../platform/pagination.ts';
import * as service from './cards.service.ts';
import { Entry } from '../accounts/accounts.schemas.ts';
import * as lifecycle from './card-lifecycle.service.ts';
import * as funds from './card-funds.service.ts';
import type { CardAction } from './card-status.ts';
import { Card, CardListQuery, CreateCardBody, FundsBody, ReasonBody, ReplaceBody, StatusChange, UpdateCardBody } from './cards.schemas.ts';


/** Action routes take an optional body: no body at all means no reason. */
export const optionalBody = async (req: { body: unknown }) => { req.body ??= {}; };

const CLIENT_ACTIONS: Array<[CardAction, string, string]> = [
  ['freeze', 'Freeze a card (→ locked)', 'Card frozen successfully.'],
  ['unfreeze', 'Unfreeze a card (→ the status before the freeze)', 'Card unfrozen successfully.'],
  ['activate', 'Activate a physical card (issued or digital → active)', 'Card activated successfully.'],
  ['cancel', 'Cancel a card; its available balance returns to the debit account', 'Card cancelled successfully.'],
];

export async function cardsRoutes(app: FastifyInstance, { ctx }: { ctx: Ctx }) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['Cards'];
  const CardRef = Type.Ref(Card);

  r.post('/cards', {
    schema: { tags, summary: 'Issue a virtual or physical card', body: CreateCardBody, response: responses(201, envelope(CardRef), 'Card created') },
  }, async (req, reply) => send(reply, 201, 'Card created successfully.', await service.createCard(ctx, principalOf(req).organizationId, req.body)));

  r.get('/cards', {
    schema: { tags, summary: 'List cards (masked)', querystring: listQuery(CardListQuery), response: responses(200, listEnvelope(CardRef), 'Cards') },
  }, async (req, reply) => sendPage(reply, await service.listCards(ctx, principalOf(req).organizationId, req.query)));

  r.get('/cards/:id', {
    schema: { tags, summary: 'Get a card (masked)', params: IdParams, response: responses(200, envelope(CardRef), 'The card') },
  }, async (req, reply) => send(reply, 200, 'Data fetched successfully.', await service.getCard(ctx, principalOf(req).organizationId, req.params.id)));

  r.patch('/cards/:id', {
    schema: { tags, summary: 'Update label, spend controls, metadata or status', params: IdParams, body: UpdateCardBody, response: responses(200, envelope(CardRef), 'Card updated') },
  }, async (req, reply) => send(reply, 200, 'Card updated successfully.', await lifecycle.updateCard(ctx, principalOf(req).organizationId, req.params.id, req.body)));

  r.delete('/cards/:id', {
    schema: { tags, summary: 'Cancel a card (same as POST /cards/:id/cancel)', params: IdParams, response: responses(200, envelope(CardRef), 'Card cancelled') },
  }, async (req, reply) => send(reply, 200, 'Card cancelled successfully.', await lifecycle.act(ctx, principalOf(req).organizationId, req.params.id, 'cancel')));

  for (const [action, summary, message] of CLIENT_ACTIONS) {
    r.post(`/cards/:id/${action}`, {
      preValidation: optionalBody,
      schema: { tags, summary, params: IdParams, body: ReasonBody, response: responses(200, envelope(CardRef), summary) },
    }, async (req, reply) => send(reply, 200, message, await lifecycle.act(ctx, principalOf(req).organizationId, req.params.id, action, { actor: 'client', reason: req.body.reason ?? null })));
  }

  r.post('/cards/:id/top-up', {
    schema: { tags, summary: 'Move money from the debit account to the card', params: IdParams, body: FundsBody, response: responses(200, envelope(CardRef), 'Card topped up') },
  }, async (req, reply) => send(reply, 200, 'Card topped up successfully.', await funds.topUp(ctx, principalOf(req).organizationId, req.params.id, req.body)));

  r.post('/cards/:id/withdraw', {
    schema: { tags, summary: 'Move money from the card back to the debit account', params: IdParams, body: FundsBody, response: responses(200, envelope(CardRef), 'Funds withdrawn') },
  }, async (req, reply) => send(reply, 200, 'Funds withdrawn successfully.', await funds.withdraw(ctx, principalOf(req).organizationId, req.params.id, req.body)));

  r.post('/cards/:id/replace', {
    schema: { tags, summary: 'Replace a lost, stolen, damaged or expired card', params: IdParams, body: ReplaceBody, response: responses(201, envelope(CardRef), 'Replacement card created') },
  }, async (req, reply) => send(reply, 201, 'Card replaced successfully.', await lifecycle.replaceCard(ctx, principalOf(req).organizationId, req.params.id, req.body)));

  r.get('/cards/:id/entries', {
    schema: { tags, summary: 'The card\'s ledger entries (funding, holds, captures, refunds)', params: IdParams, querystring: listQuery({}), response: responses(200, listEnvelope(Type.Ref(Entry)), 'Entries') },
  }, async (req, reply) => sendPage(reply, await service.listCardEntries(ctx, principalOf(req).organizationId, req.params.id, req.query)));

  r.get('/cards/:id/status-history', {
    schema: { tags, summary: 'Every status change of a card: who, why, when', params: IdParams, querystring: listQuery({}), response: responses(200, listEnvelope(StatusChange), 'Status changes') },
  }, async (req, reply) => sendPage(reply, await lifecycle.statusHistory(ctx, principalOf(req).organizationId, req.params.id, req.query)));
}

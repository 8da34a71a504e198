import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { principalOf } from '../../platform/auth.ts';
import type { Ctx } from '../../platform/context.ts';
import { envelope, IdParams, listEnvelope, responses, send, sendPage } from '../../platform/envelope.ts';
import { listQuery } from '../../platform/pagination.ts';
import * as service from './transactions.service.ts';
import { Transaction, TransactionListQuery } from './transactions.schemas.ts';


export async function transactionsRoutes(app: FastifyInstance, { ctx }: { ctx: Ctx }) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['Transactions'];
  const TransactionRef = Type.Ref(Transaction);

  r.get('/transactions', {
    schema: {
      tags, summary: 'List transactions (filters cardId, type, authorizationId, createdFrom, createdTo)',
      description: 'The organization\'s cleared transactions, newest first.',
      querystring: listQuery(TransactionListQuery), response: responses(200, listEnvelope(TransactionRef), 'Transactions'),
    },
  }, async (req, reply) => sendPage(reply, await service.listTransactions(ctx, principalOf(req).organizationId, req.query)));

  r.get('/transactions/:id', {
    schema: {
      tags, summary: 'Get a transaction (capture, refund or force capture)',
      description: 'The transaction with its merchant and, for a capture, its authorization.',
      params: IdParams, response: responses(200, envelope(TransactionRef), 'The transaction'),
    },
  }, async (req, reply) => send(reply, 200, 'Data fetched successfully.', await service.getTransaction(ctx, principalOf(req).organizationId, req.params.id)));
}

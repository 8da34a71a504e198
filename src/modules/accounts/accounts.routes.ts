import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { principalOf } from '../../platform/auth.ts';
import type { Ctx } from '../../platform/context.ts';
import { envelope, IdParams, listEnvelope, responses, send, sendPage } from '../../platform/envelope.ts';
import { listQuery } from '../../platform/pagination.ts';
import * as service from './accounts.service.ts';
import { Account, AccountListQuery, BookTransfer, CreateAccountBody, Entry, TransferBody, UpdateAccountBody } from './accounts.schemas.ts';


export async function accountsRoutes(app: FastifyInstance, { ctx }: { ctx: Ctx }) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['Accounts'];
  const AccountRef = Type.Ref(Account);

  r.post('/accounts', {
    schema: { tags, summary: 'Open a funding account', body: CreateAccountBody, response: responses(201, envelope(AccountRef), 'Account created') },
  }, async (req, reply) => send(reply, 201, 'Account created successfully.', await service.createAccount(ctx, principalOf(req).organizationId, req.body)));

  r.get('/accounts', {
    schema: { tags, summary: 'List accounts', querystring: listQuery(AccountListQuery), response: responses(200, listEnvelope(AccountRef), 'Accounts') },
  }, async (req, reply) => sendPage(reply, await service.listAccounts(ctx, principalOf(req).organizationId, req.query)));

  r.get('/accounts/:id', {
    schema: { tags, summary: 'Get an account with its balance', params: IdParams, response: responses(200, envelope(AccountRef), 'The account') },
  }, async (req, reply) => send(reply, 200, 'Data fetched successfully.', await service.getAccount(ctx, principalOf(req).organizationId, req.params.id)));

  r.patch('/accounts/:id', {
    schema: { tags, summary: 'Rename, freeze or unfreeze an account', params: IdParams, body: UpdateAccountBody, response: responses(200, envelope(AccountRef), 'Account updated') },
  }, async (req, reply) => send(reply, 200, 'Account updated successfully.', await service.updateAccount(ctx, principalOf(req).organizationId, req.params.id, req.body)));

  r.post('/accounts/:id/close', {
    schema: { tags, summary: 'Close an account (zero balance, no holds, no open cards)', params: IdParams, response: responses(200, envelope(AccountRef), 'Account closed') },
  }, async (req, reply) => send(reply, 200, 'Account closed successfully.', await service.closeAccount(ctx, principalOf(req).organizationId, req.params.id)));

  r.get('/accounts/:id/entries', {
    schema: { tags, summary: 'The account\'s ledger entries', params: IdParams, querystring: listQuery({}), response: responses(200, listEnvelope(Type.Ref(Entry)), 'Entries') },
  }, async (req, reply) => sendPage(reply, await service.listEntries(ctx, principalOf(req).organizationId, req.params.id, req.query)));

  r.post('/transfers', {
    schema: { tags, summary: 'Book transfer between two accounts', body: TransferBody, response: responses(201, envelope(BookTransfer), 'Transfer booked') },
  }, async (req, reply) => send(reply, 201, 'Transfer created successfully.', await service.bookTransfer(ctx, principalOf(req).organizationId, req.body)));
}

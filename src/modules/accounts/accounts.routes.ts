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
    schema: {
      tags, summary: 'Open a funding account',
      description: 'Opens a funding account in one currency. Cards and budgets spend from it; in the ' +
        'sandbox fund it with POST /simulator/accounts/{id}/deposits.',
      errorCodes: { 422: ['invalid_currency'] },
      body: CreateAccountBody, response: responses(201, envelope(AccountRef), 'Account created'),
    },
  }, async (req, reply) => send(reply, 201, 'Account created successfully.', await service.createAccount(ctx, principalOf(req).organizationId, req.body)));

  r.get('/accounts', {
    schema: {
      tags, summary: 'List accounts',
      description: 'The organization\'s funding accounts with their balances, newest first; filter by ' +
        'status, type, currency or ownerId.',
      querystring: listQuery(AccountListQuery), response: responses(200, listEnvelope(AccountRef), 'Accounts'),
    },
  }, async (req, reply) => sendPage(reply, await service.listAccounts(ctx, principalOf(req).organizationId, req.query)));

  r.get('/accounts/:id', {
    schema: {
      tags, summary: 'Get an account with its balance',
      description: 'The account with its available, pending (held) and posted balance.',
      params: IdParams, response: responses(200, envelope(AccountRef), 'The account'),
    },
  }, async (req, reply) => send(reply, 200, 'Data fetched successfully.', await service.getAccount(ctx, principalOf(req).organizationId, req.params.id)));

  r.patch('/accounts/:id', {
    schema: {
      tags, summary: 'Rename, freeze or unfreeze an account',
      description: 'Renames the account, or freezes it (no card can be issued or topped up from it) and ' +
        'unfreezes it.',
      errorCodes: { 409: ['account_closed'] },
      params: IdParams, body: UpdateAccountBody, response: responses(200, envelope(AccountRef), 'Account updated'),
    },
  }, async (req, reply) => send(reply, 200, 'Account updated successfully.', await service.updateAccount(ctx, principalOf(req).organizationId, req.params.id, req.body)));

  r.post('/accounts/:id/close', {
    schema: {
      tags, summary: 'Close an account (zero balance, no holds, no open cards)',
      description: 'Closing is final. The account must hold nothing (no balance, no holds) and fund no card ' +
        'that is still open.',
      errorCodes: { 409: ['account_closed'], 422: ['account_not_empty', 'account_has_open_cards'] },
      params: IdParams, response: responses(200, envelope(AccountRef), 'Account closed'),
    },
  }, async (req, reply) => send(reply, 200, 'Account closed successfully.', await service.closeAccount(ctx, principalOf(req).organizationId, req.params.id)));

  r.get('/accounts/:id/entries', {
    schema: {
      tags, summary: 'The account\'s ledger entries',
      operationId: 'listAccountEntries',
      description: 'Every ledger entry of the account (deposits, card funding, transfers, holds), with the ' +
        'available balance after each, newest first.',
      params: IdParams, querystring: listQuery({}), response: responses(200, listEnvelope(Type.Ref(Entry)), 'Entries'),
    },
  }, async (req, reply) => sendPage(reply, await service.listEntries(ctx, principalOf(req).organizationId, req.params.id, req.query)));

  r.post('/transfers', {
    schema: {
      tags, summary: 'Book transfer between two accounts',
      operationId: 'createTransfer',
      description: 'Moves money between two accounts of the organization in the same currency, at once and ' +
        'atomically.',
      errorCodes: {
        422: ['invalid_amount', 'amount_limit_exceeded', 'invalid_currency', 'same_account', 'account_not_found',
          'account_not_active', 'currency_mismatch', 'insufficient_funds'],
      },
      body: TransferBody, response: responses(201, envelope(BookTransfer), 'Transfer booked'),
    },
  }, async (req, reply) => send(reply, 201, 'Transfer created successfully.', await service.bookTransfer(ctx, principalOf(req).organizationId, req.body)));
}

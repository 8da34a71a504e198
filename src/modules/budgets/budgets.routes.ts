import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { principalOf } from '../../platform/auth.ts';
import type { Ctx } from '../../platform/context.ts';
import { envelope, IdParams, listEnvelope, responses, send, sendPage } from '../../platform/envelope.ts';
import { listQuery } from '../../platform/pagination.ts';
import * as service from './budgets.service.ts';
import { Budget, BudgetListQuery, CreateBudgetBody, UpdateBudgetBody } from './budgets.schemas.ts';


export async function budgetsRoutes(app: FastifyInstance, { ctx }: { ctx: Ctx }) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['Budgets'];
  const BudgetRef = Type.Ref(Budget);

  r.post('/budgets', {
    schema: {
      tags, summary: 'Create a budget over a funding account',
      description: 'A budget caps what its cards spend per period (or per transaction) from one funding ' +
        'account. Issue budget cards with POST /cards and budgetId.',
      errorCodes: {
        422: ['invalid_amount', 'invalid_currency', 'account_not_found', 'account_not_active',
          'currency_mismatch'],
      },
      body: CreateBudgetBody, response: responses(201, envelope(BudgetRef), 'Budget created'),
    },
  }, async (req, reply) => send(reply, 201, 'Budget created successfully.', await service.createBudget(ctx, principalOf(req).organizationId, req.body)));

  r.get('/budgets', {
    schema: {
      tags, summary: 'List budgets with their current figures',
      description: 'The organization\'s budgets with spent and remaining for the current period, newest ' +
        'first.',
      querystring: listQuery(BudgetListQuery), response: responses(200, listEnvelope(BudgetRef), 'Budgets'),
    },
  }, async (req, reply) => sendPage(reply, await service.listBudgets(ctx, principalOf(req).organizationId, req.query)));

  r.get('/budgets/:id', {
    schema: {
      tags, summary: 'Get a budget with spent and remaining for the current period',
      description: 'The budget with its limit, the current period and what was spent and remains in it.',
      params: IdParams, response: responses(200, envelope(BudgetRef), 'The budget'),
    },
  }, async (req, reply) => send(reply, 200, 'Data fetched successfully.', await service.getBudget(ctx, principalOf(req).organizationId, req.params.id)));

  r.patch('/budgets/:id', {
    schema: {
      tags, summary: 'Rename a budget or change its limit',
      description: 'Changes the name or the limit; a new limit applies to the current period at once.',
      errorCodes: { 409: ['budget_closed'], 422: ['invalid_amount'] },
      params: IdParams, body: UpdateBudgetBody, response: responses(200, envelope(BudgetRef), 'Budget updated'),
    },
  }, async (req, reply) => send(reply, 200, 'Budget updated successfully.', await service.updateBudget(ctx, principalOf(req).organizationId, req.params.id, req.body)));

  r.post('/budgets/:id/close', {
    schema: {
      tags, summary: 'Close a budget (its cards can no longer spend)',
      description: 'Closing is final: the budget\'s cards are declined from then on.',
      errorCodes: { 409: ['budget_closed'] },
      params: IdParams, response: responses(200, envelope(BudgetRef), 'Budget closed'),
    },
  }, async (req, reply) => send(reply, 200, 'Budget closed successfully.', await service.closeBudget(ctx, principalOf(req).organizationId, req.params.id)));
}

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
import { Card, CardListQuery, CreateAccountCardBody, CreateCardBody, FundsBody, ReasonBody, ReplaceBody, StatusChange, UpdateCardBody } from './cards.schemas.ts';


/** Action routes take an optional body: no body at all means no reason. */
export const optionalBody = async (req: { body: unknown }) => { req.body ??= {}; };

/** The card holder's side of a card's life: [action, summary, message, description]. */
const CLIENT_ACTIONS: Array<[CardAction, string, string, string]> = [
  ['freeze', 'Freeze a card (→ locked)', 'Card frozen successfully.',
    'Locks an active or digital card: its authorizations are declined until it is unfrozen. Wallet tokens are suspended with it.'],
  ['unfreeze', 'Unfreeze a card (→ the status before the freeze)', 'Card unfrozen successfully.',
    'Unlocks a locked card: it returns to the status it had before the freeze.'],
  ['activate', 'Activate a physical card (issued or digital → active)', 'Card activated successfully.',
    'Activates a physical card once the holder has it (issued, or digital while in transit).'],
  ['cancel', 'Cancel a card; its available balance returns to the debit account', 'Card cancelled successfully.',
    'Cancelling is final: the card is declined from then on and its available balance returns to its debit account.'],
];
/** Why an issuance is refused (POST /cards and POST /accounts/:id/cards). */
const ISSUANCE_ERRORS = ['invalid_amount', 'amount_limit_exceeded', 'invalid_currency', 'program_not_found',
  'program_inactive', 'brand_mismatch', 'card_type_not_supported', 'currency_mismatch', 'name_only_issuance_not_allowed',
  'card_holder_not_found', 'card_holder_not_verified', 'card_holder_rejected', 'nationality_blocked',
  'terms_not_accepted', 'account_not_found', 'account_not_active', 'insufficient_funds',
  'budget_not_found', 'budget_closed', 'budget_account_mismatch', 'budget_card', 'weak_pin',
  'program_exhausted', 'kyc_documents_required'];
/** A card action answers 409 when the card's status does not allow it (see the status machine). */
const ACTION_ERRORS = { 409: ['invalid_status_transition'] };

export async function cardsRoutes(app: FastifyInstance, { ctx }: { ctx: Ctx }) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['Cards'];
  const CardRef = Type.Ref(Card);

  r.post('/cards', {
    schema: {
      tags, summary: 'Issue a virtual or physical card',
      description: 'Issues a card under a program (typeId, programName, or brand and currency), to a card ' +
        'holder (cardHolderId) or by name only where the program allows it, and funds it with `amount` from ' +
        'debitAccountId in the same transaction: `amount` (or initialBalance) is required, 0 opens an empty ' +
        'card to top up later. A budget card (budgetId) spends from its budget instead ' +
        'and has no balance of its own. Physical cards need a deliveryAddress; US card holders must accept ' +
        'the terms and the e-disclosure.',
      errorCodes: { 422: ISSUANCE_ERRORS },
      body: CreateCardBody, response: responses(201, envelope(CardRef), 'Card created'),
    },
  }, async (req, reply) => send(reply, 201, 'Card created successfully.', await service.createCard(ctx, principalOf(req).organizationId, req.body)));

  r.post('/accounts/:id/cards', {
    schema: {
      tags, summary: 'Issue a card funded by this account (same as POST /cards)',
      operationId: 'createAccountCard',
      description: 'Seed 004\'s path: POST /cards with the account in the path as debitAccountId. The body ' +
        'and the rules are those of POST /cards; `amount` is the initial balance debited from this account.',
      errorCodes: { 404: ['not_found'], 422: ISSUANCE_ERRORS },
      params: IdParams, body: CreateAccountCardBody, response: responses(201, envelope(CardRef), 'Card created'),
    },
  }, async (req, reply) => send(reply, 201, 'Card created successfully.',
    await service.createCardForAccount(ctx, principalOf(req).organizationId, req.params.id, req.body)));

  r.get('/cards', {
    schema: {
      tags, summary: 'List cards (masked)',
      description: 'The organization\'s cards, newest first; filter by status, type, currency, ' +
        'cardHolderId (or customerId), accountId, programId or externalId (exact). Numbers are masked.',
      querystring: listQuery(CardListQuery), response: responses(200, listEnvelope(CardRef), 'Cards'),
    },
  }, async (req, reply) => sendPage(reply, await service.listCards(ctx, principalOf(req).organizationId, req.query)));

  r.get('/cards/:id', {
    schema: {
      tags, summary: 'Get a card (masked)',
      description: 'The card with its status, balance, spend controls and wallet tokens. Never carries the ' +
        'PAN, CVV or PIN.',
      params: IdParams, response: responses(200, envelope(CardRef), 'The card'),
    },
  }, async (req, reply) => send(reply, 200, 'Data fetched successfully.', await service.getCard(ctx, principalOf(req).organizationId, req.params.id)));

  r.patch('/cards/:id', {
    schema: {
      tags, summary: 'Update label, spend controls, metadata or status',
      description: 'Changes the label, spend controls or metadata; `status` locks (freeze), unlocks or ' +
        'activates, or cancels the card, as the action routes do.',
      errorCodes: { 409: ['card_closed', 'invalid_status_transition'] },
      params: IdParams, body: UpdateCardBody, response: responses(200, envelope(CardRef), 'Card updated'),
    },
  }, async (req, reply) => send(reply, 200, 'Card updated successfully.', await lifecycle.updateCard(ctx, principalOf(req).organizationId, req.params.id, req.body)));

  r.delete('/cards/:id', {
    schema: {
      tags, summary: 'Cancel a card (same as POST /cards/:id/cancel)',
      operationId: 'deleteCard',
      description: 'Cancels the card, like POST /cards/{id}/cancel: cancelling is final, and the card\'s ' +
        'available balance returns to its debit account.',
      errorCodes: { 409: ['invalid_status_transition'] },
      params: IdParams, response: responses(200, envelope(CardRef), 'Card cancelled'),
    },
  }, async (req, reply) => send(reply, 200, 'Card cancelled successfully.', await lifecycle.act(ctx, principalOf(req).organizationId, req.params.id, 'cancel')));

  for (const [action, summary, message, description] of CLIENT_ACTIONS) {
    r.post(`/cards/:id/${action}`, {
      preValidation: optionalBody,
      schema: {
        tags, summary, description, errorCodes: ACTION_ERRORS,
        params: IdParams, body: ReasonBody, response: responses(200, envelope(CardRef), summary),
      },
    }, async (req, reply) => send(reply, 200, message, await lifecycle.act(ctx, principalOf(req).organizationId, req.params.id, action, { actor: 'client', reason: req.body.reason ?? null })));
  }

  r.post('/cards/:id/top-up', {
    schema: {
      tags, summary: 'Move money from the debit account to the card',
      operationId: 'topUpCard',
      description: 'Moves `amount` from the card\'s debit account to the card, at once.',
      errorCodes: {
        409: ['card_closed'],
        422: ['invalid_amount', 'amount_limit_exceeded', 'budget_card', 'account_not_active', 'insufficient_funds'],
      },
      params: IdParams, body: FundsBody, response: responses(200, envelope(CardRef), 'Card topped up'),
    },
  }, async (req, reply) => send(reply, 200, 'Card topped up successfully.', await funds.topUp(ctx, principalOf(req).organizationId, req.params.id, req.body)));

  r.post('/cards/:id/withdraw', {
    schema: {
      tags, summary: 'Move money from the card back to the debit account',
      operationId: 'withdrawFromCard',
      description: 'Moves `amount` of the card\'s available balance back to its debit account, at once.',
      errorCodes: {
        409: ['card_closed'],
        422: ['invalid_amount', 'amount_limit_exceeded', 'budget_card', 'insufficient_funds'],
      },
      params: IdParams, body: FundsBody, response: responses(200, envelope(CardRef), 'Funds withdrawn'),
    },
  }, async (req, reply) => send(reply, 200, 'Funds withdrawn successfully.', await funds.withdraw(ctx, principalOf(req).organizationId, req.params.id, req.body)));

  r.post('/cards/:id/replace', {
    schema: {
      tags, summary: 'Replace a lost, stolen or damaged card, or renew an expiring or expired one',
      description: 'Issues a new card (new number, new expiry) with the same holder, program, controls and ' +
        'debit account, and cancels the old one: at once when lost or stolen (its wallet tokens end), when ' +
        'the new card is active for damaged or expired (its wallet tokens move to the new card). The old ' +
        'card\'s balance moves to the new card. Reason `expired` also renews a card that already expired; ' +
        'its balance went back to the debit account at expiry, so the renewal starts empty. A physical ' +
        'replacement ships to deliveryAddress, or to the old card\'s address when left out.',
      errorCodes: { 409: ['invalid_status_transition', 'card_already_replaced'], 422: ['program_exhausted'] },
      params: IdParams, body: ReplaceBody, response: responses(201, envelope(CardRef), 'Replacement card created'),
    },
  }, async (req, reply) => send(reply, 201, 'Card replaced successfully.', await lifecycle.replaceCard(ctx, principalOf(req).organizationId, req.params.id, req.body)));

  r.get('/cards/:id/entries', {
    schema: {
      tags, summary: 'The card\'s ledger entries (funding, holds, captures, refunds)',
      operationId: 'listCardEntries',
      description: 'Every ledger entry of the card with the available balance after each, newest first.',
      params: IdParams, querystring: listQuery({}), response: responses(200, listEnvelope(Type.Ref(Entry)), 'Entries'),
    },
  }, async (req, reply) => sendPage(reply, await service.listCardEntries(ctx, principalOf(req).organizationId, req.params.id, req.query)));

  r.get('/cards/:id/status-history', {
    schema: {
      tags, summary: 'Every status change of a card: who, why, when',
      operationId: 'listCardStatusHistory',
      description: 'Each status change with the action, the actor (client, simulator or system) and the ' +
        'reason, newest first.',
      params: IdParams, querystring: listQuery({}), response: responses(200, listEnvelope(StatusChange), 'Status changes'),
    },
  }, async (req, reply) => sendPage(reply, await lifecycle.statusHistory(ctx, principalOf(req).organizationId, req.params.id, req.query)));
}

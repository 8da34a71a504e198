import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { principalOf } from '../../platform/auth.ts';
import type { Ctx } from '../../platform/context.ts';
import { envelope, IdParams, listEnvelope, responses, send, sendPage } from '../../platform/envelope.ts';
import { listQuery } from '../../platform/pagination.ts';
import * as service from './card-programs.service.ts';
import { CreateProgramBody, Program, ProgramListQuery, UpdateProgramBody } from './card-programs.schemas.ts';


export async function cardProgramsRoutes(app: FastifyInstance, { ctx }: { ctx: Ctx }) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['Card programs'];
  const ProgramRef = Type.Ref(Program);

  r.get('/card-programs', {
    schema: {
      tags, summary: 'List card programs',
      description: 'The organization\'s card programs, newest first; filter by status, brand or currency.',
      querystring: listQuery(ProgramListQuery), response: responses(200, listEnvelope(ProgramRef), 'Programs'),
    },
  }, async (req, reply) => sendPage(reply, await service.listPrograms(ctx, principalOf(req).organizationId, req.query)));

  r.get('/card-programs/:id', {
    schema: {
      tags, summary: 'Get a card program',
      description: 'The program with its issuing rules and default spend controls. Never carries the ' +
        'webhook secret.',
      params: IdParams, response: responses(200, envelope(ProgramRef), 'The program'),
    },
  }, async (req, reply) => send(reply, 200, 'Data fetched successfully.', await service.getProgram(ctx, principalOf(req).organizationId, req.params.id)));

  r.post('/card-programs', {
    config: { secretResponse: true },
    schema: {
      tags, summary: 'Create a card program',
      description: 'A program fixes the brand, BIN range, currency and card types of its cards and the ' +
        'rules they are issued under (KYC, name-only issuance, blocked nationalities, validity, hold ' +
        'lifetime, default spend controls). With an authorizationWebhook, every authorization also asks ' +
        'your server (see the authorization.request webhook); its signing secret is shown once in the ' +
        'answer.',
      errorCodes: {
        409: ['program_name_taken'],
        422: ['invalid_currency', 'bin_brand_mismatch', 'invalid_webhook_url', 'webhook_url_not_allowed'],
      },
      body: CreateProgramBody, response: responses(201, envelope(ProgramRef), 'Program created'),
    },
  }, async (req, reply) => send(reply, 201, 'Card program created successfully.', await service.createProgram(ctx, principalOf(req).organizationId, req.body)));

  r.patch('/card-programs/:id', {
    config: { secretResponse: true },
    schema: {
      tags, summary: 'Update a card program',
      description: 'Changes the given rules. Cards already issued keep their number and expiry; new rules ' +
        'apply to later issuance and authorizations.',
      errorCodes: { 409: ['program_name_taken'], 422: ['invalid_webhook_url', 'webhook_url_not_allowed'] },
      params: IdParams, body: UpdateProgramBody, response: responses(200, envelope(ProgramRef), 'Program updated'),
    },
  }, async (req, reply) => send(reply, 200, 'Card program updated successfully.', await service.updateProgram(ctx, principalOf(req).organizationId, req.params.id, req.body)));

  r.post('/card-programs/:id/rotate-webhook-secret', {
    config: { secretResponse: true },
    schema: {
      tags, summary: 'Rotate the decision webhook signing secret',
      operationId: 'rotateCardProgramWebhookSecret',
      description: 'Generates a new whsec_… secret for the program\'s authorization webhook and shows it once; the old secret stops working at once. 404 when the program has no webhook.',
      params: IdParams, response: responses(200, envelope(ProgramRef), 'The program, with the new secret in authorizationWebhook.secret'),
    },
  }, async (req, reply) => send(reply, 200, 'Webhook secret rotated successfully.', await service.rotateWebhookSecret(ctx, principalOf(req).organizationId, req.params.id)));
}

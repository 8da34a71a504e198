import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { principalOf } from '../../platform/auth.ts';
import type { Ctx } from '../../platform/context.ts';
import { envelope, IdParams, listEnvelope, responses, send, sendPage } from '../../platform/envelope.ts';
import { listQuery } from '../../platform/pagination.ts';
import { attachmentHeader, downloadFileName } from '../card-holders/uploads.ts';
import * as service from './disputes.service.ts';
import { CreateDisputeBody, Dispute, DisputeListQuery, EvidenceBody } from './disputes.schemas.ts';

const FileParams = Type.Object({ id: Type.String({ maxLength: 64 }), fileId: Type.String({ maxLength: 64 }) });
const FILE_TYPES = ['image/jpeg', 'image/png', 'application/pdf'];
const org = (req: FastifyRequest) => principalOf(req).organizationId;

/** What the API says about refunds and disputes, in the create and resolve descriptions. */
export const REFUND_RULE = 'A refund and a dispute never pay the same money twice: refunds of the transaction and won dispute ' +
  'credits together never exceed its amount. A refund that arrives while the dispute is open is credited at once, and a won ' +
  'dispute then credits only what is left (creditedAmount).';

export async function disputesRoutes(app: FastifyInstance, { ctx }: { ctx: Ctx }) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['Disputes'];
  const DisputeRef = Type.Ref(Dispute);

  r.post('/disputes', {
    schema: {
      tags, summary: 'Dispute a capture or force capture (→ unsubmitted)',
      description: `Opens a dispute on a capture or force capture of one of the organization's cards, up to ` +
        `${service.DISPUTE_WINDOW_DAYS} days after it cleared. amount defaults to the transaction amount less its refunds; a ` +
        `partial amount is allowed. One open dispute per transaction. ${REFUND_RULE}`,
      errorCodes: {
        404: ['not_found'],
        409: ['dispute_already_open'],
        422: ['invalid_amount', 'transaction_not_disputable', 'dispute_window_closed', 'dispute_exceeds_transaction', 'too_many_disputes'],
      },
      body: CreateDisputeBody, response: responses(201, envelope(DisputeRef), 'Dispute created'),
    },
  }, async (req, reply) => send(reply, 201, 'Dispute created successfully.', await service.createDispute(ctx, org(req), req.body)));

  r.get('/disputes', {
    schema: {
      tags, summary: 'List disputes (filters status, reason, transactionId, cardId, createdFrom, createdTo)',
      description: 'The organization\'s disputes, newest first, with their evidence.',
      querystring: listQuery(DisputeListQuery), response: responses(200, listEnvelope(DisputeRef), 'Disputes'),
    },
  }, async (req, reply) => sendPage(reply, await service.listDisputes(ctx, org(req), req.query)));

  r.get('/disputes/:id', {
    schema: {
      tags, summary: 'Get a dispute with its evidence',
      description: 'The dispute with its status, evidence text and the metadata of its evidence files.',
      params: IdParams, response: responses(200, envelope(DisputeRef), 'The dispute'),
    },
  }, async (req, reply) => send(reply, 200, 'Data fetched successfully.', await service.getDispute(ctx, org(req), req.params.id)));

  r.post('/disputes/:id/evidence', {
    config: { multipart: true },
    schema: {
      tags, summary: 'Add evidence (JSON text fields, or multipart/form-data with files)',
      operationId: 'addDisputeEvidence',
      description: 'Sets evidence text fields (a field sent again replaces its value) and adds files from multipart/form-data ' +
        'file fields (receipt, merchantCommunication, shippingDocumentation, additionalDocumentation): JPEG, PNG or PDF by ' +
        `content, at most 10 MiB each, ${service.MAX_EVIDENCE_FILES} per dispute. Only while the dispute is unsubmitted.`,
      errorCodes: {
        400: ['invalid_multipart'],
        409: ['dispute_already_submitted'],
        415: ['unsupported_file_type'],
        422: ['invalid_file', 'too_many_evidence_files'],
      },
      consumes: ['application/json', 'multipart/form-data'],
      params: IdParams, body: EvidenceBody, response: responses(200, envelope(DisputeRef), 'The dispute with its evidence'),
    },
  }, async (req, reply) => send(reply, 200, 'Evidence added successfully.',
    await service.addEvidence(ctx, org(req), req.params.id, req.body, req.uploads)));

  r.get('/disputes/:id/evidence/:fileId/content', {
    schema: {
      tags, summary: 'Download an evidence file (as an attachment, with the type decided from its content)',
      operationId: 'downloadDisputeEvidenceFile',
      description: 'The file\'s bytes, always as an attachment and with the content type detected at upload, never rendered inline.',
      params: FileParams,
      response: {
        ...responses(200, Type.String({ format: 'binary' }), 'The file'),
        200: Type.Unsafe<Buffer>({
          description: 'The file',
          content: Object.fromEntries(FILE_TYPES.map((t) => [t, { schema: { type: 'string', format: 'binary' } }])),
        }),
      },
    },
  }, async (req, reply) => {
    const file = await service.getFileContent(ctx, org(req), req.params.id, req.params.fileId);
    // The bytes are customer-supplied: never render them inline, never sniff them as another type.
    return reply.code(200)
      .header('content-type', file.contentType)
      .header('content-disposition', attachmentHeader(downloadFileName(file.fileName, file.contentType)))
      .header('x-content-type-options', 'nosniff')
      .header('content-security-policy', 'default-src \'none\'; sandbox')
      .header('cache-control', 'private, no-store')
      .send(file.content);
  });

  r.post('/disputes/:id/submit', {
    schema: {
      tags, summary: 'Submit a dispute to the network (unsubmitted → submitted)',
      description: 'Sends the dispute with its evidence to the network; the evidence can no longer change. The disputed ' +
        'amount moves from network settlement to the organization\'s dispute suspense account until the network decides.',
      errorCodes: { 409: ['dispute_already_submitted'] },
      params: IdParams, response: responses(200, envelope(DisputeRef), 'The submitted dispute'),
    },
  }, async (req, reply) => send(reply, 200, 'Dispute submitted successfully.', await service.submitDispute(ctx, org(req), req.params.id)));
}

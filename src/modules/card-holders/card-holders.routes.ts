import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { principalOf } from '../../platform/auth.ts';
import type { Ctx } from '../../platform/context.ts';
import { envelope, IdParams, listEnvelope, responses, send, sendPage } from '../../platform/envelope.ts';
import { ApiError } from '../../platform/errors.ts';
import { listQuery } from '../../platform/pagination.ts';
import * as service from './card-holders.service.ts';
import { AddDocumentsBody, CardHolder, CardHolderListQuery, CreateCardHolderBody, Document, UpdateCardHolderBody } from './card-holders.schemas.ts';
import { attachmentHeader } from './uploads.ts';

const DocumentParams = Type.Object({ id: Type.String({ maxLength: 64 }), docId: Type.String({ maxLength: 64 }) });
const JSON_OR_MULTIPART = ['application/json', 'multipart/form-data'];
const FILE_TYPES = ['image/jpeg', 'image/png', 'application/pdf'];

async function multipartOnly(request: FastifyRequest) {
  if (!request.isMultipart()) throw new ApiError(415, 'unsupported_media_type', 'This route accepts multipart/form-data only.');
}

export async function cardHoldersRoutes(app: FastifyInstance, { ctx }: { ctx: Ctx }) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['Card holders'];
  const CardHolderRef = Type.Ref(CardHolder);

  r.post('/card-holders', {
    config: { multipart: true },
    schema: {
      tags, summary: 'Create a card holder (JSON, or multipart/form-data with KYC documents)',
      description: 'Onboards a card holder. Send JSON, or multipart/form-data with the same fields as text ' +
        'plus up to four document files. KYC is evaluated from the fields and documents; in the sandbox a ' +
        'holder with every identity field is verified at once, and POST /simulator/card-holders/{id}/kyc ' +
        'sets any status.',
      errorCodes: {
        400: ['invalid_multipart'],
        415: ['unsupported_file_type'],
        422: ['card_holder_underage', 'invalid_file', 'too_many_documents', 'program_not_found'],
      },
      consumes: JSON_OR_MULTIPART,
      body: CreateCardHolderBody, response: responses(201, envelope(CardHolderRef), 'Card holder created'),
    },
  }, async (req, reply) => send(reply, 201, 'Card holder created successfully.',
    await service.createCardHolder(ctx, principalOf(req).organizationId, req.body, req.uploads)));

  r.get('/card-holders', {
    schema: {
      tags, summary: 'List card holders',
      description: 'The organization\'s card holders, newest first; filter by kycStatus or email.',
      querystring: listQuery(CardHolderListQuery), response: responses(200, listEnvelope(CardHolderRef), 'Card holders'),
    },
  }, async (req, reply) => sendPage(reply, await service.listCardHolders(ctx, principalOf(req).organizationId, req.query)));

  r.get('/card-holders/:id', {
    schema: {
      tags, summary: 'Get a card holder with its KYC status and documents',
      description: 'The card holder with its KYC status and the metadata of its documents.',
      params: IdParams, response: responses(200, envelope(CardHolderRef), 'The card holder'),
    },
  }, async (req, reply) => send(reply, 200, 'Data fetched successfully.', await service.getCardHolder(ctx, principalOf(req).organizationId, req.params.id)));

  r.patch('/card-holders/:id', {
    config: { multipart: true },
    schema: {
      tags, summary: 'Update a card holder (identity changes evaluate KYC again); multipart may add documents',
      description: 'Changes the given fields (JSON null clears an optional one). A change to an identity ' +
        'field evaluates KYC again. A multipart body may also add documents.',
      errorCodes: {
        400: ['invalid_multipart'],
        415: ['unsupported_file_type'],
        422: ['card_holder_underage', 'invalid_file', 'too_many_documents', 'program_not_found'],
      },
      consumes: JSON_OR_MULTIPART,
      params: IdParams, body: UpdateCardHolderBody, response: responses(200, envelope(CardHolderRef), 'Card holder updated'),
    },
  }, async (req, reply) => send(reply, 200, 'Card holder updated successfully.',
    await service.updateCardHolder(ctx, principalOf(req).organizationId, req.params.id, req.body, req.uploads)));

  r.post('/card-holders/:id/documents', {
    config: { multipart: true },
    preValidation: multipartOnly,
    schema: {
      tags, summary: 'Upload KYC documents (one or more of the four file fields)',
      operationId: 'uploadCardHolderDocuments',
      description: 'Adds documents from multipart/form-data file fields (idDocumentFront, idDocumentBack, ' +
        'proofOfAddress, selfie): JPEG, PNG or PDF by content, at most 10 MiB each, 20 per card holder.',
      errorCodes: {
        400: ['invalid_multipart'],
        415: ['unsupported_file_type'],
        422: ['invalid_file', 'too_many_documents'],
      },
      consumes: ['multipart/form-data'],
      params: IdParams, body: AddDocumentsBody, response: responses(201, envelope(CardHolderRef), 'Documents added; the card holder with all its documents'),
    },
  }, async (req, reply) => send(reply, 201, 'Documents uploaded successfully.',
    await service.addDocuments(ctx, principalOf(req).organizationId, req.params.id, req.body, req.uploads)));

  r.get('/card-holders/:id/documents/:docId', {
    schema: {
      tags, summary: 'Get a document\'s metadata',
      description: 'The document\'s kind, file name, detected content type, size and SHA-256.',
      params: DocumentParams, response: responses(200, envelope(Type.Ref(Document)), 'The document'),
    },
  }, async (req, reply) => send(reply, 200, 'Data fetched successfully.',
    await service.getDocument(ctx, principalOf(req).organizationId, req.params.id, req.params.docId)));

  r.get('/card-holders/:id/documents/:docId/content', {
    schema: {
      tags, summary: 'Download a document (as an attachment, with the type decided from its content)',
      operationId: 'downloadCardHolderDocument',
      description: 'The file\'s bytes, always as an attachment and with the content type detected at ' +
        'upload, never rendered inline.',
      params: DocumentParams,
      response: {
        ...responses(200, Type.String({ format: 'binary' }), 'The file'),
        200: Type.Unsafe<Buffer>({ description: 'The file', content: Object.fromEntries(FILE_TYPES.map((t) => [t, { schema: { type: 'string', format: 'binary' } }])) }),
      },
    },
  }, async (req, reply) => {
    const file = await service.getDocumentContent(ctx, principalOf(req).organizationId, req.params.id, req.params.docId);
    // The bytes are customer-supplied: never render them inline, never sniff them as another type.
    return reply.code(200)
      .header('content-type', file.contentType)
      .header('content-disposition', attachmentHeader(file.fileName))
      .header('x-content-type-options', 'nosniff')
      .header('content-security-policy', 'default-src \'none\'; sandbox')
      .header('cache-control', 'private, no-store')
      .send(file.content);
  });
}

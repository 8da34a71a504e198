import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { principalOf } from '../../platform/auth.ts';
import type { Ctx } from '../../platform/context.ts';
import { envelope, IdParams, listEnvelope, responses, send, sendPage } from '../../platform/envelope.ts';
import { listQuery } from '../../platform/pagination.ts';
import * as service from './signing-keys.service.ts';
import { CreateSigningKeyBody, SigningKey, SigningKeyWithSecret } from './signing-keys.schemas.ts';

export async function signingKeysRoutes(app: FastifyInstance, { ctx }: { ctx: Ctx }) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['Signing keys'];
  const KeyRef = Type.Ref(SigningKey);
  const org = (req: Parameters<typeof principalOf>[0]) => principalOf(req).organizationId;

  r.post('/signing-keys', {
    config: { secretResponse: true },
    schema: {
      tags, summary: 'Register a request-signing key (an hmac-sha256 secret is shown once)',
      description: 'Registers a public key (SPKI PEM or JWK) for ed25519, ecdsa-p256-sha256 or rsa-pss-sha512, ' +
        'or generates an hmac-sha256 shared secret, returned only in this answer. Requests signed per RFC 9421 ' +
        'with keyid = keyId are then verified; required: true refuses unsigned mutations of the organization.',
      errorCodes: { 409: ['signing_key_id_taken'], 422: ['invalid_public_key', 'key_algorithm_mismatch'] },
      body: CreateSigningKeyBody,
      response: responses(201, envelope(SigningKeyWithSecret), 'Signing key registered'),
    },
  }, async (req, reply) => send(reply, 201, 'Signing key created successfully.', await service.createKey(ctx, org(req), req.body)));

  r.get('/signing-keys', {
    schema: {
      tags, summary: 'List signing keys',
      description: 'The organization\'s live signing keys, newest first. Shared secrets are never shown again.',
      querystring: listQuery({}), response: responses(200, listEnvelope(KeyRef), 'Signing keys'),
    },
  }, async (req, reply) => sendPage(reply, await service.listKeys(ctx, org(req), req.query)));

  r.get('/signing-keys/:id', {
    schema: {
      tags, summary: 'Get a signing key',
      description: 'The key\'s keyId, algorithm, public key and whether it makes signatures required.',
      params: IdParams, response: responses(200, envelope(KeyRef), 'The signing key'),
    },
  }, async (req, reply) => send(reply, 200, 'Data fetched successfully.', await service.getKey(ctx, org(req), req.params.id)));

  r.delete('/signing-keys/:id', {
    schema: {
      tags, summary: 'Delete a signing key (its signatures stop verifying)',
      description: 'From now on a signature with this keyid is 401 unknown_key; its keyId may be registered again.',
      params: IdParams, response: responses(200, envelope(KeyRef), 'Signing key deleted'),
    },
  }, async (req, reply) => send(reply, 200, 'Signing key deleted successfully.', await service.deleteKey(ctx, org(req), req.params.id)));
}

// Operational routes: health (process up), ready (database reachable), the OpenAPI document.
// They are public, so that load balancers and API clients reach them without a credential.
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { Db } from './db.ts';
import { ApiError } from './errors.ts';
import { envelope, ErrorBody, send } from './envelope.ts';

const Status = envelope(Type.Object({ status: Type.String() }));
/** Public routes are rate-limited per client address like any other. */
const rateLimited = { 429: Type.Ref(ErrorBody) };

const OpenApiDocument = Type.Object(
  { openapi: Type.String({ examples: ['3.1.0'] }), info: Type.Object({}, { additionalProperties: true }), paths: Type.Object({}, { additionalProperties: true }) },
  { additionalProperties: true, description: 'This document.' },
);

export async function operationsRoutes(app: FastifyInstance, { db }: { db: Db }) {
  const ops = { tags: ['Operations'], security: [] };
  app.get('/health', {
    config: { public: true },
    schema: {
      ...ops, summary: 'The process is up',
      description: 'Answers 200 while the process runs, without touching the database: for liveness probes.',
      response: { 200: { ...Status, description: 'Up' }, ...rateLimited },
    },
  }, async (_req, reply) => send(reply, 200, 'OK', { status: 'ok' }));

  app.get('/ready', {
    config: { public: true },
    schema: {
      ...ops, summary: 'The database is reachable',
      operationId: 'getReadiness',
      description: 'Answers 200 when the database answers a query, 503 not_ready otherwise: for readiness ' +
        'probes and load balancers.',
      errorCodes: { 503: ['not_ready'] },
      response: { 200: { ...Status, description: 'Ready' }, ...rateLimited, 503: Type.Ref(ErrorBody) },
    },
  }, async (_req, reply) => {
    try {
      await db.query('SELECT 1');
    } catch {
      throw new ApiError(503, 'not_ready', 'The database is not reachable.');
    }
    return send(reply, 200, 'Ready', { status: 'ready' });
  });

  app.get('/openapi.json', {
    config: { public: true },
    schema: {
      ...ops, summary: 'The OpenAPI 3.1 document of this API',
      operationId: 'getOpenApiDocument',
      description: 'This document: every operation with its schemas, examples and error codes, and the ' +
        'webhook payloads. /docs renders it.',
      response: { 200: OpenApiDocument, ...rateLimited },
    },
  }, async () => app.swagger());
}

// Operational routes: health (process up), ready (database reachable), the OpenAPI document.
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { Db } from './db.ts';
import { ApiError } from './errors.ts';
import { envelope, send } from './envelope.ts';

const Status = envelope(Type.Object({ status: Type.String() }));

export async function operationsRoutes(app: FastifyInstance, { db }: { db: Db }) {
  const ops = { tags: ['Operations'], security: [] };
  app.get('/health', { config: { public: true }, schema: { ...ops, summary: 'The process is up', response: { 200: Status } } },
    async (_req, reply) => send(reply, 200, 'OK', { status: 'ok' }));

  app.get('/ready', { config: { public: true }, schema: { ...ops, summary: 'The database is reachable', response: { 200: Status } } },
    async (_req, reply) => {
      try {
        await db.query('SELECT 1');
      } catch {
        throw new ApiError(503, 'not_ready', 'The database is not reachable.');
      }
      return send(reply, 200, 'Ready', { status: 'ready' });
    });

  app.get('/openapi.json', { config: { public: true }, schema: { hide: true } }, async () => app.swagger());
}

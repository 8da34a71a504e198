import type { FastifyInstance } from 'fastify';
import type { Ctx } from '../../platform/context.ts';

export async function cardHoldersRoutes(_app: FastifyInstance, _options: { ctx: Ctx }) {
  // Routes come next.
}

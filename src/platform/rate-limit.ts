// Per-credential rate limits (@fastify/rate-limit), with X-RateLimit-* headers and 429 +
// Retry-After in the envelope. Counters live in Redis when REDIS_URL is set, so several API
// processes share them; otherwise in process memory.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import { Redis } from 'ioredis';
import { ApiError } from './errors.ts';

export const RATE_LIMIT_WINDOW_MS = 60_000;
const REDIS_CONNECT_TIMEOUT_MS = 2_000;

/** One Redis connection per app for every limit (REDIS_URL), closed with the app; none without it. */
export function connectRedis(app: FastifyInstance, redisUrl: string | undefined): Redis | undefined {
  if (!redisUrl) return undefined;
  const redis = new Redis(redisUrl, { connectTimeout: REDIS_CONNECT_TIMEOUT_MS, maxRetriesPerRequest: 1, enableOfflineQueue: false });
  app.addHook('onClose', async () => { redis.disconnect(); });
  return redis;
}

export async function registerRateLimit(app: FastifyInstance, options: { perMinute: number; redis?: Redis; redisKeyPrefix?: string }) {
  const { redis } = options;
  await app.register(rateLimit, {
    global: true,
    // After authentication (onRequest), before the body is parsed.
    hook: 'preParsing',
    max: options.perMinute,
    timeWindow: RATE_LIMIT_WINDOW_MS,
    redis,
    nameSpace: `${options.redisKeyPrefix ?? ''}paygen-rate-limit:`,
    skipOnError: true,
    keyGenerator: (request: FastifyRequest) => request.principal?.credentialId ?? `ip:${request.ip}`,
    errorResponseBuilder: (_request, context) => {
      const seconds = Math.max(1, Math.ceil(context.ttl / 1000));
      return new ApiError(429, 'rate_limited', `Rate limit of ${context.max} requests per minute exceeded; retry in ${seconds} s.`, [], { 'retry-after': String(seconds) });
    },
  });
}

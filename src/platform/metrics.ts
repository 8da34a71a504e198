// GET /metrics (issue 11): Prometheus text format from prom-client, one Registry per app (tests
// build several apps in one process; the global registry would mix them and refuse a second
// registration). Labels never carry tenant data: routes are their patterns (/cards/:id, never a
// card id), and no label names an organization, a card or a key.
//
// Protection: with PAYGEN_METRICS_TOKEN set, the route needs `Authorization: Bearer <token>`
// (compared in constant time) and answers 401 otherwise; without it, it answers only requests
// from the loopback address (the sandbox, a sidecar scraper), 403 to anyone else. API keys are
// not accepted: metrics describe the whole deployment, not one organization.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { Type } from '@sinclair/typebox';
import type { Ctx } from './context.ts';
import { transactionRetries } from './db.ts';
import type { Job } from './jobs.ts';
import { ApiError } from './errors.ts';
import { ErrorBody } from './envelope.ts';

/** What services report (through ctx.metrics); a no-op when an app runs without metrics. */
export interface MetricsSink {
  /**
   * An authorization was decided: `approved`, or `declined` with its decline reason, by `path`
   * (one_statement, under_lock, in_steps, or replayed: its network id was already stored).
   */
  authorization(approved: boolean, declineReason: string | null, path: string): void;
  /** A webhook delivery attempt finished; `lagSeconds` is from the event's creation to the attempt. */
  webhookDelivery(outcome: 'succeeded' | 'retrying' | 'failed', lagSeconds: number): void;
}

export interface Metrics extends MetricsSink {
  registry: Registry;
  /** An HTTP request was answered (the onResponse hook of registerMetrics). */
  observeRequest(route: string, method: string, status: number, seconds: number): void;
}

/** The Content-Type of the Prometheus text exposition format, version 0.0.4. */
export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const LAG_BUCKETS = [0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 21_600, 86_400];

export interface MetricsSources {
  ctx: Ctx;
  /** Jobs whose queue depth is reported (each with a `depth`). */
  jobs: Job[];
}

export function createMetrics(sources: MetricsSources): Metrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service: 'paygen' });
  collectDefaultMetrics({ register: registry, prefix: 'paygen_process_' });
  const requests = new Counter({
    name: 'paygen_http_requests_total', help: 'HTTP requests answered, by route pattern, method and status.',
    labelNames: ['route', 'method', 'status'], registers: [registry],
  });
  const duration = new Histogram({
    name: 'paygen_http_request_duration_seconds', help: 'Time to answer an HTTP request, by route pattern, method and status.',
    labelNames: ['route', 'method', 'status'], buckets: DURATION_BUCKETS, registers: [registry],
  });
  const authorizations = new Counter({
    name: 'paygen_authorizations_total', help: 'Authorizations decided, by decision and decline reason ("none" when approved).',
    labelNames: ['decision', 'reason'], registers: [registry],
  });
  const paths = new Counter({
    name: 'paygen_authorization_paths_total',
    help: 'Authorizations by the path that answered them: one_statement (a plain card), under_lock (the rules in one '
      + 'transaction), in_steps (decision webhook, PIN or first in a currency), replayed.',
    labelNames: ['path'], registers: [registry],
  });
  new Counter({
    name: 'paygen_db_transaction_retries_total',
    help: 'Transactions run again by this process, by reason (deadlock, serialization_failure, unique_race, '
      + 'stale_statement): retried, not answered as errors.',
    labelNames: ['reason'], registers: [registry],
    collect() {
      this.reset();
      for (const [reason, count] of Object.entries(transactionRetries())) this.inc({ reason }, count);
    },
  });
  const deliveries = new Counter({
    name: 'paygen_webhook_deliveries_total', help: 'Webhook delivery attempts, by outcome (succeeded, retrying, failed).',
    labelNames: ['outcome'], registers: [registry],
  });
  const lag = new Histogram({
    name: 'paygen_webhook_delivery_lag_seconds', help: 'Seconds from an event to each delivery attempt of it.',
    labelNames: ['outcome'], buckets: LAG_BUCKETS, registers: [registry],
  });
  const { ctx, jobs } = sources;
  new Gauge({
    name: 'paygen_job_queue_depth', help: 'Work items due now and not yet done, per background job (read at scrape).',
    labelNames: ['job'], registers: [registry],
    async collect() {
      for (const job of jobs) if (job.depth) this.set({ job: job.name }, await job.depth(ctx));
    },
  });
  new Gauge({
    name: 'paygen_db_pool_connections', help: 'Database connections by state: total, idle, and requests waiting for one (PGlite: one, in process).',
    labelNames: ['state'], registers: [registry],
    collect() {
      if (ctx.db.kind === 'pglite') {
        this.set({ state: 'total' }, 1);
        return;
      }
      const p = ctx.db.poolStats?.() ?? { total: 0, idle: 0, waiting: 0 };
      this.set({ state: 'total' }, p.total);
      this.set({ state: 'idle' }, p.idle);
      this.set({ state: 'waiting' }, p.waiting);
    },
  });
  new Gauge({
    name: 'paygen_credential_cache_listening',
    help: '1 while this process hears credential changes and keeps API keys in memory; 0 while every request reads its key.',
    registers: [registry],
    collect() {
      this.set(ctx.credentials?.active ? 1 : 0);
    },
  });
  new Counter({
    name: 'paygen_credential_lookups_total', help: 'API keys resolved, by where the answer came from (memory: hit; database: miss).',
    labelNames: ['outcome'], registers: [registry],
    collect() {
      const stats = ctx.credentials?.stats ?? { hits: 0, misses: 0 };
      this.reset();
      this.inc({ outcome: 'hit' }, stats.hits);
      this.inc({ outcome: 'miss' }, stats.misses);
    },
  });
  new Gauge({
    name: 'paygen_db_pool_max_connections', help: 'The configured size of the database pool.', registers: [registry],
    collect() {
      this.set(ctx.db.kind === 'pglite' ? 1 : ctx.config.databasePoolSize);
    },
  });
  return {
    registry,
    authorization(approved, declineReason, path) {
      authorizations.inc({ decision: approved ? 'approved' : 'declined', reason: approved ? 'none' : declineReason ?? 'unknown' });
      paths.inc({ path });
    },
    webhookDelivery(outcome, lagSeconds) {
      deliveries.inc({ outcome });
      lag.observe({ outcome }, Math.max(0, lagSeconds));
    },
    observeRequest(route, method, status, seconds) {
      const labels = { route, method, status: String(status) };
      requests.inc(labels);
      duration.observe(labels, seconds);
    },
  };
}

/** The route pattern of a request; an unknown path is one label, not its URL. */
function routeLabel(request: FastifyRequest): string {
  if (request.is404) return 'unmatched';
  return request.routeOptions.url ?? 'unmatched';
}

const sameToken = (given: string, expected: string) => {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
};

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

/** Who may scrape: the bearer token when one is configured, else the loopback address only. */
function assertScraper(request: FastifyRequest, token: string | undefined) {
  if (token) {
    const match = /^Bearer (.+)$/i.exec(request.headers.authorization ?? '');
    if (!match || !sameToken(match[1], token)) {
      throw new ApiError(401, 'unauthorized', 'GET /metrics needs Authorization: Bearer with PAYGEN_METRICS_TOKEN.');
    }
    return;
  }
  if (!LOOPBACK.has(request.socket.remoteAddress ?? '')) {
    throw new ApiError(403, 'forbidden', 'GET /metrics answers the loopback address only unless PAYGEN_METRICS_TOKEN is set.');
  }
}

/** Records every answered request: registered before any route, so that it times them all. */
export function registerMetrics(app: FastifyInstance, metrics: Metrics) {
  app.addHook('onResponse', async (request, reply) => {
    metrics.observeRequest(routeLabel(request), request.method, reply.statusCode, reply.elapsedTime / 1000);
  });
}

/** GET /metrics: registered with the routes (after the OpenAPI plugin, which documents it). */
export async function metricsRoutes(app: FastifyInstance, options: { metrics: Metrics; token: string | undefined }) {
  const { metrics } = options;
  app.get('/metrics', {
    config: { public: true },
    schema: {
      tags: ['Operations'], security: [], operationId: 'getMetrics',
      summary: 'Prometheus metrics of this process',
      description: 'The Prometheus text format (version 0.0.4): HTTP requests and their duration by route pattern, ' +
        'method and status; authorizations by decision; webhook delivery attempts by outcome and their lag; the ' +
        'queue depth of each background job; database pool usage; whether API keys are cached, and lookups by ' +
        'hit or miss; process metrics. No label carries tenant data. ' +
        'With PAYGEN_METRICS_TOKEN set it needs `Authorization: Bearer <token>` (401 otherwise); without it, it ' +
        'answers requests from the loopback address only (403 otherwise).',
      errorCodes: { 401: ['unauthorized'], 403: ['forbidden'] },
      response: {
        200: {
          description: 'The metrics, in the Prometheus text exposition format.',
          content: { 'text/plain': { schema: Type.String({ examples: ['paygen_http_requests_total{route="/cards/:id",method="GET",status="200",service="paygen"} 3'] }) } },
        },
        401: Type.Ref(ErrorBody), 403: Type.Ref(ErrorBody), 429: Type.Ref(ErrorBody),
      },
    },
  }, async (request, reply) => {
    assertScraper(request, options.token);
    const text = await metrics.registry.metrics();
    return reply.type(METRICS_CONTENT_TYPE).send(text);
  });
}

// buildApp: the platform plugins, then the modules. Tests call it; server.ts listens with it.
import Fastify, { type FastifyInstance } from 'fastify';
import secureJson from 'secure-json-parse';
import { AjvCompiler } from '@fastify/ajv-compiler';
// Fastify's own serializer compiler (a dependency of fastify), wrapped below to compile lazily.
import { SerializerSelector } from '@fastify/fast-json-stringify-compiler';
import { loadConfig, type Config } from './config.ts';
import { registerAuth } from './platform/auth.ts';
import { systemClock, type Clock } from './platform/clock.ts';
import type { Ctx } from './platform/context.ts';
import { createVault, loadMasterKey, parseMasterKeys } from './platform/crypto.ts';
import { openDb } from './platform/db.ts';
import { registerErrorHandling, ApiError } from './platform/errors.ts';
import { registerIdempotency } from './platform/idempotency.ts';
import { clientErrorHandler, frameworkErrors, indexRoutes, registerInputChecks } from './platform/input.ts';
import { addBoundedDateFormats } from './platform/validation-messages.ts';
import { migrate } from './platform/migrations.ts';
import { chooseLogFormat, prettyStream, type LogFormat } from './platform/logging.ts';
import { registerMultipart } from './platform/multipart.ts';
import { registerShutdownGate } from './platform/shutdown.ts';
import { createMetrics, metricsRoutes, registerMetrics } from './platform/metrics.ts';
import { registerContentDigest } from './platform/content-digest.ts';
import { registerOpenApi } from './platform/openapi.ts';
import { forSerializer } from './platform/serialization.ts';
import { registerSignatureVerification } from './platform/signatures.ts';
import { operationsRoutes } from './platform/operations.ts';
import { dashboardRoutes } from './platform/dashboard.ts';
import { connectRedis, registerRateLimit } from './platform/rate-limit.ts';
import { createFailedAuthLimiter } from './platform/failed-auth.ts';
import { randomChars } from './platform/ids.ts';
import { startJobs, type JobRunner } from './platform/jobs.ts';
import { JOBS } from './jobs.ts';
import { accountsRoutes } from './modules/accounts/accounts.routes.ts';
import { budgetsRoutes } from './modules/budgets/budgets.routes.ts';
import { cardHoldersRoutes } from './modules/card-holders/card-holders.routes.ts';
import { cardProgramsRoutes } from './modules/card-programs/card-programs.routes.ts';
import { cardsRoutes } from './modules/cards/cards.routes.ts';
import { cardPinsRoutes } from './modules/cards/card-pins.routes.ts';
import { cardRevealRoutes } from './modules/cards/card-reveal.routes.ts';
import { tokenizationsRoutes } from './modules/tokenizations/tokenizations.routes.ts';
import { Tokenization } from './modules/tokenizations/tokenizations.schemas.ts';
import { eventsRoutes } from './modules/events/events.routes.ts';
import { eventDeliveriesRoutes } from './modules/webhooks/event-deliveries.routes.ts';
import { webhooksRoutes } from './modules/webhooks/webhooks.routes.ts';
import { Delivery as WebhookDelivery, Webhook } from './modules/webhooks/webhooks.schemas.ts';
import { signingKeysRoutes } from './modules/signing-keys/signing-keys.routes.ts';
import { signatureStore } from './modules/signing-keys/signing-keys.service.ts';
import { SigningKey } from './modules/signing-keys/signing-keys.schemas.ts';
import { organizationsRoutes } from './modules/organizations/organizations.routes.ts';
import { bootstrap, cacheCredentials, resolveCredential } from './modules/organizations/organizations.service.ts';
import { simulatorRoutes } from './simulator/simulator.routes.ts';
import { networkRoutes } from './simulator/network.routes.ts';
import { authorizationsRoutes } from './modules/authorizations/authorizations.routes.ts';
import { transactionsRoutes } from './modules/transactions/transactions.routes.ts';
import { disputesRoutes } from './modules/disputes/disputes.routes.ts';
import { Dispute, EvidenceFile as DisputeEvidenceFile } from './modules/disputes/disputes.schemas.ts';
import { disputeSimulatorRoutes } from './simulator/disputes.routes.ts';
import { Authorization, Merchant } from './modules/authorizations/authorizations.schemas.ts';
import { Transaction } from './modules/transactions/transactions.schemas.ts';
import { Account, Entry } from './modules/accounts/accounts.schemas.ts';
import { Budget } from './modules/budgets/budgets.schemas.ts';
import { Program, SpendControls } from './modules/card-programs/card-programs.schemas.ts';
import { Card, DeliveryAddress } from './modules/cards/cards.schemas.ts';
import { CardHolder, Document } from './modules/card-holders/card-holders.schemas.ts';
import { Event } from './modules/events/events.routes.ts';
import { ApiKey, Organization, User } from './modules/organizations/organizations.schemas.ts';

/** Named shapes, shared by routes and listed under components.schemas of the OpenAPI document. */
const SHARED_SCHEMAS = [Organization, User, ApiKey, Account, Entry, SpendControls, Program, DeliveryAddress, Card, Event, Document, CardHolder, Budget, Tokenization, Merchant, Authorization, Transaction, DisputeEvidenceFile, Dispute, Webhook, WebhookDelivery, SigningKey];

declare module 'fastify' {
  interface FastifyInstance {
    ctx: Ctx;
  }
}

export const MAX_JSON_BODY_BYTES = 1024 * 1024;
/** Longest path parameter the router accepts (ids are about 30 characters); longer is a 414. */
export const MAX_PATH_PARAMETER_LENGTH = 100;

/**
 * How long a client may take to send a request. Without these a client that promises a body and
 * stalls holds a connection (and, for an upload, memory) forever: Fastify's default request
 * timeout is 0, which turns Node's own off.
 */
export interface Timeouts {
  /** Headers and body, complete (a 40 MiB upload included): else 408 and the connection closes. */
  requestMs: number;
  /** The request line and headers alone. Must not exceed requestMs. */
  headersMs: number;
  /** How often Node checks the two limits above: the real bound is the limit plus this. */
  checkIntervalMs: number;
  /** A socket silent this long is destroyed: the backstop behind the limits above. */
  idleSocketMs: number;
}

export const DEFAULT_TIMEOUTS: Timeouts = {
  requestMs: 60_000,
  headersMs: 20_000,
  checkIntervalMs: 2_000,
  idleSocketMs: 120_000,
};

/** Validator options (the OpenAPI test checks the documented examples with the same ones). */
export const AJV_OPTIONS = {
  removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: true, strictNumbers: true,
} as const;

/** Never logged: credentials, card data, PINs, passwords, tokens. */
export const REDACTED_PATHS = [
  'req.headers["x-api-key"]', 'req.headers.authorization', 'req.headers.cookie',
  '*.pan', '*.cvv', '*.cvc', '*.pin', '*.cardPin', '*.password', '*.token', '*.key', '*.secret',
  '*.*.pan', '*.*.cvv', '*.*.cvc', '*.*.pin', '*.*.cardPin', '*.*.password', '*.*.token', '*.*.key', '*.*.secret',
  '*.*.*.pan', '*.*.*.cvv', '*.*.*.cvc', '*.*.*.pin', '*.*.*.cardPin', '*.*.*.password', '*.*.*.token', '*.*.*.secret',
];

/** Hosted pages carry a single-use token in the path: the logged URL hides it. */
const TOKEN_IN_PATH = /^(\/card-reveal\/|\/card-pin\/)[^/?]+/;
export const logUrl = (url: string) => url.replace(TOKEN_IN_PATH, '$1[redacted]');

type Validate = ((data: unknown, context?: { parentData?: { isMultipart?: () => boolean } }) => boolean) & { errors?: unknown; schemaEnv?: unknown };

/**
 * Query strings, path parameters and multipart fields arrive as text, so they are coerced to the
 * schema's types; a JSON body is not: `"100"`, `"1e3"` or `true` is not an amount.
 */
function buildValidator(externalSchemas: unknown, options: { customOptions: Record<string, unknown> }) {
  const onCreate = addBoundedDateFormats;
  const coercing = AjvCompiler()(externalSchemas as never, { ...options, onCreate } as never);
  const strict = AjvCompiler()(externalSchemas as never, { ...options, onCreate, customOptions: { ...options.customOptions, coerceTypes: false } } as never);
  return (definition: { httpPart?: string }) => {
    if (definition.httpPart !== 'body') return lazyValidator(() => coercing(definition as never) as Validate);
    let json: Validate | undefined;
    let text: Validate | undefined;
    // Fastify passes the request as parentData: a multipart body is text fields.
    const validate: Validate = (data, context) => {
      const chosen = context?.parentData?.isMultipart?.()
        ? (text ??= coercing(definition as never) as Validate)
        : (json ??= strict(definition as never) as Validate);
      const ok = chosen(data, context);
      validate.errors = chosen.errors;
      return ok;
    };
    // Every Ajv validator has one; Fastify then passes the parent (the request), which coercion needs.
    validate.schemaEnv = true;
    return validate;
  };
}

/*
 * Validators and serializers are compiled on first use, not at start-up: compiling every route's
 * schemas up front (about 200 routes, each with several response codes) took most of a start-up
 * of several seconds; a production start must take under 2 s (issue 10). A schema that cannot
 * compile now fails at the first request of its route; the test suites reach every route.
 */
function lazyValidator(compile: () => Validate): Validate {
  let compiled: Validate | undefined;
  const validate: Validate = (data, context) => {
    compiled ??= compile();
    const ok = compiled(data, context);
    validate.errors = compiled.errors;
    return ok;
  };
  validate.schemaEnv = true;
  return validate;
}

/** Serializers see nullable primitives as type lists (platform/serialization.ts: issue 10). */
function buildSerializer(externalSchemas: unknown, options: unknown) {
  const compile = SerializerSelector()(forSerializer(externalSchemas), options as never);
  return (definition: Parameters<typeof compile>[0]) => {
    let serialize: ((doc: unknown) => string) | undefined;
    return (doc: unknown) => (serialize ??= compile({ ...definition, schema: forSerializer(definition.schema) }))(doc);
  };
}

export interface BuildOptions {
  config?: Partial<Config>;
  env?: NodeJS.ProcessEnv;
  clock?: Clock;
  /**
   * Log to stdout (server, default; pretty on a terminal, JSON lines otherwise), stay quiet
   * (false), or write to a stream, as JSON lines unless `format` says pretty (log tests).
   */
  logger?: boolean | { stream: NodeJS.WritableStream; format?: LogFormat };
  /** Request time limits (tests shorten them); DEFAULT_TIMEOUTS otherwise. */
  timeouts?: Partial<Timeouts>;
  /** Prints the bootstrap API key (server start-up). */
  onBootstrap?: (result: { apiKey: string; organizationId: string; created: boolean }) => void;
}

/** Where the log goes: the given stream or stdout, through pino-pretty when the format is pretty. */
function logStream(logger: BuildOptions['logger'], config: Config): NodeJS.WritableStream | undefined {
  if (typeof logger === 'object') return logger.format === 'pretty' ? prettyStream(logger.stream) : logger.stream;
  const format = chooseLogFormat(config.logFormat, process.stdout.isTTY === true);
  return format === 'pretty' ? prettyStream(process.stdout) : undefined;
}

export async function buildApp(options: BuildOptions = {}): Promise<FastifyInstance> {
  const config = loadConfig(options.env ?? process.env, options.config);
  const stream = options.logger === false ? undefined : logStream(options.logger, config);
  const timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
  const app = Fastify({
    logger: options.logger === false ? false : {
      level: config.logLevel,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      serializers: {
        req: (request: { method: string; url?: string; hostname?: string; ip?: string; socket?: { remotePort?: number } }) => ({
          method: request.method, url: typeof request.url === 'string' ? logUrl(request.url) : undefined,
          hostname: request.hostname, remoteAddress: request.ip, remotePort: request.socket?.remotePort,
        }),
      },
      ...(stream ? { stream } : {}),
    },
    bodyLimit: MAX_JSON_BODY_BYTES,
    routerOptions: { maxParamLength: MAX_PATH_PARAMETER_LENGTH },
    requestTimeout: timeouts.requestMs,
    connectionTimeout: timeouts.idleSocketMs,
    http: { requestTimeout: timeouts.requestMs, headersTimeout: timeouts.headersMs, connectionsCheckingInterval: timeouts.checkIntervalMs },
    frameworkErrors,
    // A request arriving while the app closes is answered in the envelope (platform/shutdown.ts).
    return503OnClosing: false,
    clientErrorHandler,
    genReqId: () => `req_${randomChars(20)}`,
    requestIdHeader: false,
    schemaController: { compilersFactory: { buildValidator: buildValidator as never, buildSerializer: buildSerializer as never } },
    // strictNumbers: JSON `1e400` parses to Infinity, which is otherwise a number to Ajv. Query
    // values coerced to Infinity slip past it; input.ts refuses those after validation.
    ajv: { customOptions: AJV_OPTIONS },
  });
  const db = await openDb({
    databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: config.databasePoolSize,
    connectTimeoutMs: config.databaseConnectTimeoutMs,
    onIdleError: (error) => app.log.warn({ err: error }, 'an idle database connection failed'),
  });
  let runner: JobRunner | undefined;
  // Background jobs stop before the database closes under them.
  app.addHook('onClose', async () => {
    await runner?.stop();
    await db.close();
  });
  try {
    await migrate(db);
  } catch (error) {
    await db.close();
    throw error;
  }
  const masterKey = loadMasterKey(
    { masterKey: config.masterKey, dataDir: config.dataDir, persistent: config.databaseUrl !== 'memory://' },
    (message) => app.log.warn(message),
  );
  const ctx: Ctx = { db, vault: createVault(masterKey, parseMasterKeys(config.previousMasterKeys)), clock: options.clock ?? systemClock, config };
  app.decorate('ctx', ctx);
  // First, so that its onResponse hook times every route and every 404.
  const metrics = createMetrics({ ctx, jobs: JOBS });
  ctx.metrics = metrics;
  registerMetrics(app, metrics);

  // Fastify parses text/plain by default; this API takes JSON (and multipart where a route says so).
  app.removeContentTypeParser('text/plain');
  // An empty body with a JSON content type is "no body", as clients send on action routes.
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    if (body === '') return done(null, undefined);
    try {
      done(null, secureJson.parse(body as string));
    } catch {
      done(new ApiError(400, 'invalid_json', 'The body is not valid JSON.'), undefined);
    }
  });
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });

  registerErrorHandling(app, indexRoutes(app, { maxParamLength: MAX_PATH_PARAMETER_LENGTH }));
  registerShutdownGate(app);
  const redis = connectRedis(app, config.redisUrl);
  const failedAuth = createFailedAuthLimiter({
    perIp: config.failedAuthPerIpPerMinute, perAccount: config.failedLoginsPerAccountPerMinute, redis,
    redisKeyPrefix: config.redisKeyPrefix,
    onStoreError: (error) => app.log.warn({ err: error }, 'the failed-authentication counters are unavailable'),
  });
  await cacheCredentials(ctx, ({ lost }) => (lost
    ? app.log.warn({ err: lost }, 'credential changes are not heard: every request reads its API key until they are again')
    : app.log.info('credential changes are heard again: API keys are cached')));
  registerAuth(app, (credential) => resolveCredential(ctx, credential), failedAuth);
  await registerRateLimit(app, { perMinute: config.rateLimitPerMinute, redis, redisKeyPrefix: config.redisKeyPrefix });
  // After authentication, whose organization owns the keys, and after the rate limit, so that a
  // flood of signed requests is counted before each costs a key lookup and a verification.
  registerSignatureVerification(app, signatureStore(ctx), () => ctx.clock.now());
  await registerMultipart(app);
  registerContentDigest(app);
  registerInputChecks(app);
  registerIdempotency(app, db);
  await registerOpenApi(app);
  for (const schema of SHARED_SCHEMAS) app.addSchema(schema);

  await app.register(operationsRoutes, { db });
  await app.register(metricsRoutes, { metrics, token: config.metricsToken });
  await app.register(organizationsRoutes, { ctx });
  await app.register(accountsRoutes, { ctx });
  await app.register(cardHoldersRoutes, { ctx });
  await app.register(cardProgramsRoutes, { ctx });
  await app.register(cardsRoutes, { ctx });
  await app.register(cardPinsRoutes, { ctx });
  await app.register(cardRevealRoutes, { ctx });
  await app.register(tokenizationsRoutes, { ctx });
  await app.register(budgetsRoutes, { ctx });
  await app.register(eventsRoutes, { ctx });
  await app.register(eventDeliveriesRoutes, { ctx });
  await app.register(webhooksRoutes, { ctx });
  await app.register(signingKeysRoutes, { ctx });
  await app.register(simulatorRoutes, { ctx });
  await app.register(networkRoutes, { ctx });
  await app.register(authorizationsRoutes, { ctx });
  await app.register(transactionsRoutes, { ctx });
  await app.register(disputesRoutes, { ctx });
  await app.register(disputeSimulatorRoutes, { ctx });
  await app.register(dashboardRoutes);

  if (config.workers) runner = startJobs(ctx, JOBS, app.log);

  const boot = await bootstrap(ctx);
  options.onBootstrap?.(boot);
  await app.ready();
  return app;
}

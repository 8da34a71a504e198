// The one place that reads process.env. Everything else receives a typed Config.
import { ApiError } from './platform/errors.ts';
import { LOG_FORMATS, type LogFormat } from './platform/logging.ts';
import { MAX_AMOUNT } from './platform/money.ts';

export interface Config {
  port: number;
  host: string;
  /** `postgres://…` for PostgreSQL, `memory://` for in-memory PGlite, undefined for PGlite on disk. */
  databaseUrl: string | undefined;
  dataDir: string;
  sandboxApiKey: string | undefined;
  sandboxOpeningBalance: number;
  /** base64 of 32 bytes; undefined means "generate one into the data dir". */
  masterKey: string | undefined;
  /** Earlier master keys, base64, comma-separated, oldest first (PAYGEN_PREVIOUS_MASTER_KEYS). */
  previousMasterKeys: string | undefined;
  workers: boolean;
  /**
   * Keep resolved API keys in memory while credential changes are heard (LISTEN: one connection
   * more per process). Off: every request reads its key. Worker processes never cache.
   */
  credentialCache: boolean;
  webhookAllowPrivate: boolean;
  redisUrl: string | undefined;
  logLevel: string;
  /** `json` or `pretty`; undefined chooses by whether stdout is a terminal. */
  logFormat: LogFormat | undefined;
  /** Requests per credential per minute. */
  rateLimitPerMinute: number;
  /** Failed authentications (bad key, bad token, bad login) per client IP per minute. */
  failedAuthPerIpPerMinute: number;
  /** Failed logins per account (email) per minute. */
  failedLoginsPerAccountPerMinute: number;
  /** Size of the PostgreSQL connection pool. */
  databasePoolSize: number;
  /**
   * Longest wait for a PostgreSQL connection (a new one, or a free one of the pool): past it the
   * request answers 503 service_unavailable instead of hanging while the database is unreachable.
   */
  databaseConnectTimeoutMs: number;
  /** SIGTERM/SIGINT: time to finish in-flight requests and webhook deliveries before exiting 1. */
  shutdownTimeoutMs: number;
  /** Prefix of every Redis key Paygen writes (several deployments on one Redis, or tests). */
  redisKeyPrefix: string;
  /** Bearer token GET /metrics requires; unset, it answers the loopback address only. */
  metricsToken: string | undefined;
}

export const DEFAULT_OPENING_BALANCE = 10_000_000;
export const DEFAULT_RATE_LIMIT_PER_MINUTE = 6_000;
// Above the shared security suite, which sends two bad credentials to each of ~80 routes from one
// address within a minute; production behind few clients per address may lower it (README).
export const DEFAULT_FAILED_AUTH_PER_IP_PER_MINUTE = 300;
export const DEFAULT_FAILED_LOGINS_PER_ACCOUNT_PER_MINUTE = 10;
export const DEFAULT_DATABASE_POOL_SIZE = 10;
export const DEFAULT_DATABASE_CONNECT_TIMEOUT_MS = 10_000;
/** Above the webhook delivery timeout (10 s), so that a delivery in flight can finish. */
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 15_000;

function integer(name: string, raw: string | undefined, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new ApiError(500, 'invalid_configuration', `${name} must be an integer from ${min} to ${max}, got "${raw}".`);
  }
  return value;
}

function boolean(name: string, raw: string | undefined, fallback: boolean): boolean {
  if (raw === undefined || raw === '') return fallback;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new ApiError(500, 'invalid_configuration', `${name} must be true or false, got "${raw}".`);
}

function logFormat(raw: string | undefined): LogFormat | undefined {
  if (raw === undefined || raw === '') return undefined;
  if ((LOG_FORMATS as readonly string[]).includes(raw)) return raw as LogFormat;
  throw new ApiError(500, 'invalid_configuration', `LOG_FORMAT must be ${LOG_FORMATS.join(' or ')}, got "${raw}".`);
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}): Config {
  const config: Config = {
    port: integer('PORT', env.PORT, 3000, 0),
    host: env.HOST || '127.0.0.1',
    databaseUrl: env.DATABASE_URL || undefined,
    dataDir: env.PAYGEN_DATA_DIR || './.paygen',
    sandboxApiKey: env.PAYGEN_SANDBOX_API_KEY || undefined,
    // The opening deposit is an amount like any other: bounded by MAX_AMOUNT.
    sandboxOpeningBalance: integer('PAYGEN_SANDBOX_OPENING_BALANCE', env.PAYGEN_SANDBOX_OPENING_BALANCE, DEFAULT_OPENING_BALANCE, 0, MAX_AMOUNT),
    masterKey: env.PAYGEN_MASTER_KEY || undefined,
    previousMasterKeys: env.PAYGEN_PREVIOUS_MASTER_KEYS || undefined,
    workers: boolean('PAYGEN_WORKERS', env.PAYGEN_WORKERS, true),
    credentialCache: boolean('PAYGEN_CREDENTIAL_CACHE', env.PAYGEN_CREDENTIAL_CACHE, true),
    webhookAllowPrivate: boolean('PAYGEN_WEBHOOK_ALLOW_PRIVATE', env.PAYGEN_WEBHOOK_ALLOW_PRIVATE, true),
    redisUrl: env.REDIS_URL || undefined,
    logLevel: env.LOG_LEVEL || 'info',
    logFormat: logFormat(env.LOG_FORMAT),
    rateLimitPerMinute: integer('PAYGEN_RATE_LIMIT_PER_MINUTE', env.PAYGEN_RATE_LIMIT_PER_MINUTE, DEFAULT_RATE_LIMIT_PER_MINUTE, 1),
    failedAuthPerIpPerMinute: integer('PAYGEN_FAILED_AUTH_PER_IP_PER_MINUTE',
      env.PAYGEN_FAILED_AUTH_PER_IP_PER_MINUTE, DEFAULT_FAILED_AUTH_PER_IP_PER_MINUTE, 1),
    failedLoginsPerAccountPerMinute: integer('PAYGEN_FAILED_LOGINS_PER_ACCOUNT_PER_MINUTE',
      env.PAYGEN_FAILED_LOGINS_PER_ACCOUNT_PER_MINUTE, DEFAULT_FAILED_LOGINS_PER_ACCOUNT_PER_MINUTE, 1),
    databasePoolSize: integer('PAYGEN_DATABASE_POOL_SIZE', env.PAYGEN_DATABASE_POOL_SIZE, DEFAULT_DATABASE_POOL_SIZE, 1),
    databaseConnectTimeoutMs: integer('PAYGEN_DATABASE_CONNECT_TIMEOUT_MS',
      env.PAYGEN_DATABASE_CONNECT_TIMEOUT_MS, DEFAULT_DATABASE_CONNECT_TIMEOUT_MS, 100, 600_000),
    shutdownTimeoutMs: integer('PAYGEN_SHUTDOWN_TIMEOUT_MS', env.PAYGEN_SHUTDOWN_TIMEOUT_MS, DEFAULT_SHUTDOWN_TIMEOUT_MS, 100, 600_000),
    redisKeyPrefix: env.PAYGEN_REDIS_KEY_PREFIX ?? '',
    metricsToken: env.PAYGEN_METRICS_TOKEN || undefined,
  };
  return { ...config, ...overrides };
}

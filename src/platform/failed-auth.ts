// Failed authentication is rate limited per client before any work. Bad API keys, bad bearer
// tokens and bad logins count per client IP, and bad logins also per account (email). Past a
// threshold within the window, the next attempt answers 429 rate_limited with Retry-After before
// the credential is hashed, looked up or a password verified: guessing costs the guesser, not the
// server. A success does not count. The counters live in Redis when REDIS_URL is set, so every API
// process sees one budget; otherwise in process memory.
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { ApiError } from './errors.ts';

export const FAILED_AUTH_WINDOW_MS = 60_000;
/** In-process counters kept at most; beyond it the oldest windows are forgotten first. */
export const MAX_TRACKED_FAILURE_KEYS = 100_000;
const REDIS_NAMESPACE = 'paygen-failed-auth:';

export interface FailedAuthLimits {
  /** Failed authentications (keys, tokens, logins) per client IP per window. */
  perIp: number;
  /** Failed logins per account (email) per window. */
  perAccount: number;
}

interface Window { count: number; resetAtMs: number }

/** Counters of failures per key, each living one window from its first failure. */
interface FailureStore {
  read(key: string): Promise<Window | null>;
  add(key: string): Promise<void>;
}

class MemoryStore implements FailureStore {
  private readonly windows = new Map<string, Window>();

  async read(key: string) {
    const window = this.windows.get(key);
    if (window && window.resetAtMs <= Date.now()) this.windows.delete(key);
    return this.windows.get(key) ?? null;
  }

  async add(key: string) {
    const window = await this.read(key);
    if (window) return void window.count++;
    if (this.windows.size >= MAX_TRACKED_FAILURE_KEYS) this.evict();
    this.windows.set(key, { count: 1, resetAtMs: Date.now() + FAILED_AUTH_WINDOW_MS });
  }

  /** Drops ended windows, then (Map order is insertion order) the oldest ones if still full. */
  private evict() {
    const now = Date.now();
    for (const [key, window] of this.windows) if (window.resetAtMs <= now) this.windows.delete(key);
    for (const key of this.windows.keys()) {
      if (this.windows.size < MAX_TRACKED_FAILURE_KEYS) break;
      this.windows.delete(key);
    }
  }
}

class RedisStore implements FailureStore {
  constructor(private readonly redis: Redis, private readonly prefix = '') {}

  async read(key: string) {
    const name = this.prefix + REDIS_NAMESPACE + key;
    const replies = await this.redis.multi().get(name).pttl(name).exec();
    const [[, count], [, ttlMs]] = replies as [[Error | null, string | null], [Error | null, number]];
    if (count === null || ttlMs < 0) return null;
    return { count: Number(count), resetAtMs: Date.now() + ttlMs };
  }

  /** The window starts with the first failure: SET NX with the expiry, then INCR, atomically. */
  async add(key: string) {
    const name = this.prefix + REDIS_NAMESPACE + key;
    await this.redis.multi().set(name, '0', 'PX', FAILED_AUTH_WINDOW_MS, 'NX').incr(name).exec();
  }
}

interface Subject { key: string; max: number; who: string }

export class FailedAuthLimiter {
  constructor(
    private readonly store: FailureStore,
    private readonly limits: FailedAuthLimits,
    private readonly onStoreError: (error: unknown) => void,
  ) {}

  /** The counters an API key or bearer token attempt from `ip` is held to. */
  credentialAttempt(ip: string): Subject[] {
    return [{ key: `ip:${ip}`, max: this.limits.perIp, who: 'from this client' }];
  }

  /** A login counts for the client and for the account; the email is kept only as a hash. */
  loginAttempt(ip: string, email: string): Subject[] {
    const account = createHash('sha256').update(email.trim().toLowerCase()).digest('base64url');
    const perAccount = { key: `account:${account}`, max: this.limits.perAccount, who: 'for this account' };
    return [...this.credentialAttempt(ip), perAccount];
  }

  /** Throws 429 rate_limited when any subject has used up its failures for the window. */
  async assertAllowed(subjects: Subject[]): Promise<void> {
    for (const subject of subjects) {
      const window = await this.guarded(() => this.store.read(subject.key));
      if (!window || window.count < subject.max) continue;
      const seconds = Math.max(1, Math.ceil((window.resetAtMs - Date.now()) / 1000));
      throw new ApiError(429, 'rate_limited',
        `Too many failed authentication attempts ${subject.who} (${subject.max} a minute); retry in ${seconds} s.`,
        [], { 'retry-after': String(seconds) });
    }
  }

  async recordFailure(subjects: Subject[]): Promise<void> {
    for (const subject of subjects) await this.guarded(() => this.store.add(subject.key));
  }

  /**
   * A store that cannot answer (Redis down) lets the attempt through, as the per-credential
   * limits do: an outage of the counters must not lock every client out.
   */
  private async guarded<T>(operation: () => Promise<T>): Promise<T | null> {
    try {
      return await operation();
    } catch (error) {
      this.onStoreError(error);
      return null;
    }
  }
}

export function createFailedAuthLimiter(
  options: FailedAuthLimits & { redis?: Redis; redisKeyPrefix?: string; onStoreError: (error: unknown) => void },
) {
  const store = options.redis ? new RedisStore(options.redis, options.redisKeyPrefix) : new MemoryStore();
  const limits = { perIp: options.perIp, perAccount: options.perAccount };
  return new FailedAuthLimiter(store, limits, options.onStoreError);
}

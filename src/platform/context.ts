// What every service receives: the database, the vault, the clock and the configuration.
import type { Config } from '../config.ts';
import type { Clock } from './clock.ts';
import type { Db } from './db.ts';
import type { InvalidatedCache } from './invalidated-cache.ts';
import type { Vault } from './crypto.ts';
import type { MetricsSink } from './metrics.ts';

export interface Ctx {
  db: Db;
  vault: Vault;
  clock: Clock;
  config: Config;
  /** Counters services report to (GET /metrics); absent in a process without metrics. */
  metrics?: MetricsSink;
  /**
   * Credentials this process has resolved, by their keyed hash (organizations.service); kept only
   * while the process hears every credential change. Absent: every request reads its credential.
   */
  credentials?: InvalidatedCache<Principal>;
}

/** Who is calling: resolved from x-api-key or Authorization: Bearer before any handler runs. */
export interface Principal {
  organizationId: string;
  credentialType: 'api_key' | 'session' | 'ephemeral';
  credentialId: string;
  userId: string | null;
  /** Empty means every scope. */
  scopes: string[];
  /** When a bearer token stops working; null for API keys. */
  expiresAt: Date | null;
  /**
   * Whether the organization requires signed changes (a `required` signing key), read in the
   * credential's own lookup on every request, so that an unsigned request costs no second
   * statement and a key made required binds the next request.
   */
  signaturesRequired: boolean;
}

// A per-process cache of rows that other processes may change, kept only while this process hears
// every change. The database announces each write to the cached tables on a channel (a trigger's
// NOTIFY at commit, migrations 025-026); a notification forgets the entries of the organization it
// names (every entry when it names none). While the channel is not heard (before LISTEN succeeded,
// after its connection was lost or went silent, on an engine without LISTEN) nothing is cached and
// every lookup reads the database.
//
// Used for credentials (organizations.service resolveCredential): a revocation forgets this
// process's entries of the organization at once (the service calls invalidate() after its commit)
// and every other process's when the notification arrives, milliseconds later. maxAgeMs bounds
// what a connection that died unnoticed could leave behind until its heartbeat fails (db.ts).

export interface InvalidatedCacheOptions<V> {
  maxEntries: number;
  maxAgeMs: number;
  /** The group an entry belongs to (its organization), so that a change forgets only its group. */
  groupOf: (value: V) => string;
  now?: () => number;
}

export class InvalidatedCache<V> {
  private readonly entries = new Map<string, { value: V; group: string; storedAt: number }>();
  /** Bumped by every invalidation: a load that began before one is not stored. */
  private generation = 0;
  private listening = false;
  private readonly now: () => number;

  /** Lookups answered from memory and from the database, since the start (GET /metrics). */
  readonly stats = { hits: 0, misses: 0 };

  constructor(private readonly options: InvalidatedCacheOptions<V>) {
    this.now = options.now ?? (() => performance.now());
  }

  /** The channel is heard from now on (LISTEN succeeded): entries may be kept. */
  heard(): void {
    this.invalidate();
    this.listening = true;
  }

  /** The channel is no longer heard: forget everything and keep nothing until heard() again. */
  deaf(): void {
    this.listening = false;
    this.invalidate();
  }

  get active(): boolean {
    return this.listening;
  }

  get size(): number {
    return this.entries.size;
  }

  /**
   * Forgets the entries of `group`, or every entry. Either way a load in flight is not kept: it
   * may have read the row before the change.
   */
  invalidate(group?: string): void {
    this.generation++;
    if (group === undefined) {
      this.entries.clear();
      return;
    }
    for (const [key, entry] of this.entries) if (entry.group === group) this.entries.delete(key);
  }

  /**
   * The value under `key`: from the cache when fresh, else from `load`. Only a value that is not
   * null or undefined is kept (a miss is never cached: a new key works at once). A kept value is
   * frozen, since every caller shares it.
   */
  async get(key: string, load: () => Promise<V | null | undefined>): Promise<V | null | undefined> {
    if (this.listening) {
      const hit = this.entries.get(key);
      if (hit && this.now() - hit.storedAt < this.options.maxAgeMs) {
        this.stats.hits++;
        return hit.value;
      }
      if (hit) this.entries.delete(key);
    }
    this.stats.misses++;
    const generation = this.generation;
    const value = await load();
    if (value !== null && value !== undefined && this.listening && generation === this.generation) {
      if (this.entries.size >= this.options.maxEntries) {
        // The oldest entry goes (a Map iterates in insertion order).
        const oldest = this.entries.keys().next().value;
        if (oldest !== undefined) this.entries.delete(oldest);
      }
      this.entries.set(key, { value: deepFreeze(value), group: this.options.groupOf(value), storedAt: this.now() });
    }
    return value;
  }
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

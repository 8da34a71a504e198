// A per-process cache of rows that other processes may change, kept only while this process hears
// every change. The database announces each write to the cached tables on a channel (a trigger's
// NOTIFY at commit, migration 025); any notification empties the cache. While the channel is not
// heard (before LISTEN succeeded, after its connection was lost, on an engine without LISTEN)
// nothing is cached and every lookup reads the database.
//
// Used for credentials (organizations.service resolveCredential): a revocation empties this
// process's cache at once (the service calls invalidate() after its commit) and every other
// process's when the notification arrives, milliseconds later. maxAgeMs bounds what a
// notification lost on a silently dead connection could leave behind.

export interface InvalidatedCacheOptions {
  maxEntries: number;
  maxAgeMs: number;
  now?: () => number;
}

export class InvalidatedCache<V> {
  private readonly entries = new Map<string, { value: V; storedAt: number }>();
  /** Bumped by every invalidation: a load that began before one is not stored. */
  private generation = 0;
  private listening = false;
  private readonly now: () => number;

  constructor(private readonly options: InvalidatedCacheOptions) {
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

  invalidate(): void {
    this.generation++;
    this.entries.clear();
  }

  /**
   * The value under `key`: from the cache when fresh, else from `load`. Only a value that is not
   * null or undefined is kept (a miss is never cached: a new key works at once). A kept value is
   * frozen, since every caller shares it.
   */
  async get(key: string, load: () => Promise<V | null | undefined>): Promise<V | null | undefined> {
    if (this.listening) {
      const hit = this.entries.get(key);
      if (hit && this.now() - hit.storedAt < this.options.maxAgeMs) return hit.value;
      if (hit) this.entries.delete(key);
    }
    const generation = this.generation;
    const value = await load();
    if (value !== null && value !== undefined && this.listening && generation === this.generation) {
      if (this.entries.size >= this.options.maxEntries) {
        // The oldest entry goes (a Map iterates in insertion order).
        const oldest = this.entries.keys().next().value;
        if (oldest !== undefined) this.entries.delete(oldest);
      }
      this.entries.set(key, { value: deepFreeze(value), storedAt: this.now() });
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

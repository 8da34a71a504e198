// A small deterministic PRNG (mulberry32): the same seed gives the same workload on every machine,
// so a failing seed replays exactly.
export interface Prng {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [min, max]. */
  int(min: number, max: number): number;
  /** true with probability p. */
  chance(p: number): boolean;
  pick<T>(items: readonly T[]): T;
  /** Picks a key by weight; keys with weight 0 are never picked. */
  weighted<K extends string>(weights: Record<K, number>): K;
}

export function prng(seed: number): Prng {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (min: number, max: number) => min + Math.floor(next() * (max - min + 1));
  return {
    next,
    int,
    chance: (p) => next() < p,
    pick: (items) => {
      if (!items.length) throw new Error('prng.pick: nothing to pick from');
      return items[int(0, items.length - 1)];
    },
    weighted: (weights) => {
      const entries = (Object.entries(weights) as Array<[keyof typeof weights, number]>).filter(([, w]) => w > 0);
      const total = entries.reduce((sum, [, w]) => sum + w, 0);
      if (!total) throw new Error('prng.weighted: every weight is 0');
      let roll = next() * total;
      for (const [key, w] of entries) {
        roll -= w;
        if (roll < 0) return key;
      }
      return entries[entries.length - 1][0];
    },
  };
}

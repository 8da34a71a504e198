// Ids are opaque prefixed strings, time-ordered so that sorting by id follows creation order
// (cursor pagination relies on it) without depending on a database sequence (DESIGN §6).
import { randomFillSync } from 'node:crypto';

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz'; // Crockford base32, lower case
const TIME_CHARS = 10; // 50 bits of milliseconds: good until the year 37000
const RANDOM_CHARS = 16; // 80 bits of randomness

export type IdPrefix =
  | 'org' | 'usr' | 'key' | 'tok' | 'sgk' | 'acc' | 'ch' | 'doc' | 'prg' | 'card' | 'bud'
  | 'auth' | 'txn' | 'dsp' | 'evt' | 'whk' | 'dlv' | 'la' | 'tr' | 'csc' | 'pinses' | 'wtok' | 'revses';

/**
 * Random bytes for ids, drawn from a pool filled 4 KiB at a time: a system call per id was 1 % of
 * an authorization's CPU. Ids are not secrets; keys and tokens use crypto.ts randomToken.
 */
const pool = Buffer.alloc(4096);
let poolUsed = pool.length;

function poolBytes(count: number): Buffer {
  if (poolUsed + count > pool.length) {
    randomFillSync(pool);
    poolUsed = 0;
  }
  poolUsed += count;
  return pool.subarray(poolUsed - count, poolUsed);
}

/** `count` random characters of the id alphabet (request ids, leases: not secrets). */
export function randomChars(count: number): string {
  let out = '';
  for (const byte of poolBytes(count)) out += ALPHABET[byte % 32];
  return out;
}

let lastTime = 0;
let lastRandom: number[] = [];

function encodeTime(ms: number): string {
  let out = '';
  for (let i = 0; i < TIME_CHARS; i++) {
    out = ALPHABET[ms % 32] + out;
    ms = Math.floor(ms / 32);
  }
  return out;
}

/** Monotonic within one process: ids made in the same millisecond increase. */
function nextRandom(now: number): number[] {
  if (now === lastTime && lastRandom.length) {
    const next = [...lastRandom];
    for (let i = next.length - 1; i >= 0; i--) {
      if (next[i] < 31) { next[i]++; break; }
      next[i] = 0;
    }
    lastRandom = next;
    return next;
  }
  lastTime = now;
  lastRandom = [...poolBytes(RANDOM_CHARS)].map((b) => b % 32);
  // Keep head-room so that increments within one millisecond do not wrap.
  lastRandom[0] = lastRandom[0] % 16;
  return lastRandom;
}

export function newId(prefix: IdPrefix, now = Date.now()): string {
  const random = nextRandom(now).map((d) => ALPHABET[d]).join('');
  return `${prefix}_${encodeTime(now)}${random}`;
}

// Idempotency-Key on every mutation (API.md "Idempotency"). The key is claimed with
// INSERT … ON CONFLICT DO NOTHING before the handler runs, so of two racing requests exactly one
// executes; the response is stored after it and replayed byte for byte to later retries.
//
// Fingerprint: method, route, path parameters, query string and the parsed body (keys sorted),
// plus the SHA-256 of each uploaded file. Two bodies that differ only in JSON whitespace or key
// order are the same request (the fingerprint is over the parsed body, not the raw bytes). It is an
// HMAC keyed from the master key, so a stored fingerprint does not reveal a PIN in the body.
//
// Scope: the key belongs to the organization (any of its credentials replays it); another
// organization using the same key executes independently. Authentication runs before a replay.
// Only POST/PUT/PATCH/DELETE look at the header; GET and HEAD ignore it.
//
// Stored: every response below 500 once the handler ran, business errors included (a retried
// `insufficient_funds` replays the 422). Not stored: validation failures and 5xx, so the
// corrected or retried request with the same key executes: the key is released at once.
// Stored responses are sealed by the vault (AES-256-GCM, the key id beside the ciphertext,
// bound to the organization and key), all of them: sealing costs about 15 µs per response, and one
// rule cannot forget a route. Routes whose answer carries a secret shown once (API keys, bearer
// tokens, signing secrets, PIN-session links) say so with `config: { secretResponse: true }`;
// those answers, replays included, are also marked `Cache-Control: no-store`.
//
// Crashes. A claim is a lease of IDEMPOTENCY_LEASE_MS (longer than any request may run) held by
// a random lease token. The command's own transaction, as its last statement before COMMIT, marks
// the key `committed` and keeps the transaction's (sealed) result: the marker commits or rolls
// back with the money. A business error rolls it back with the effect. A retry then finds:
// - `completed`: the stored response is replayed;
// - `running` or `committed` under a live lease: 409 `idempotency_key_in_use`;
// - `running` with an expired lease: the first attempt died before its effect committed: the
//   retry takes the key over (a conditional UPDATE that changes the lease token) and executes;
// - `committed` with an expired lease: the effect committed but the process died before the
//   response was stored. The command never runs again: the retry gets the route's success status
//   with the committed result rebuilt through the route's response schema (or, if it cannot be,
//   the resource id), a message saying the original response was not kept, and
//   `Idempotent-Replayed: true`. That answer is stored: the key is `completed` from then on.
// The lease token fences a slow first attempt that outlived its lease: its marker no longer
// matches, so its transaction rolls back (409) instead of executing a second time. A request that
// commits several transactions is marked by the first. A write outside any transaction is not
// covered and may run again after a crash: only idempotent ones exist (logout revoking its own
// token, a house account created on first use).
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import { beforeCommitHook, type Db, type Queryable } from './db.ts';
import { systemClock, type Clock } from './clock.ts';
import { randomToken, type Vault } from './crypto.ts';
import { ApiError } from './errors.ts';
import { answerLost, replay, sealContext, type StoredKey } from './idempotency-answers.ts';

export { LOST_RESPONSE_MESSAGE } from './idempotency-answers.ts';

export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;
/**
 * How long a claim holds its key before a retry may take it over. Far above the longest request
 * (a decision webhook, a webhook test delivery and the transaction retries are each bounded by
 * seconds), so a live request never loses its key; short enough that a crash costs a minute.
 */
export const IDEMPOTENCY_LEASE_MS = 60_000;
export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;
/** A committed result larger than this is not kept; a lost response is then rebuilt from its id. */
export const MAX_STORED_RESULT_CHARS = 256 * 1024;
const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** Codes of results that are not stored: the request never began executing. */
const NOT_STORED_CODES = new Set(['validation_failed', 'invalid_amount', 'invalid_currency', 'invalid_json', 'invalid_cursor']);

interface Claim { organizationId: string; key: string; lease: string; finished: boolean }

declare module 'fastify' {
  interface FastifyRequest {
    idempotency: Claim | null;
    /** SHA-256 of uploaded files, in the order received (set by the multipart normalizer). */
    uploadDigests: string[];
  }
  interface FastifyContextConfig {
    /** The answer carries a secret shown once (a key, token, signing secret or PIN link). */
    secretResponse?: boolean;
  }
}

/** Accepts an RFC 8941 sf-string ("…") or a raw token of 1–255 visible ASCII characters. */
export function parseIdempotencyKey(raw: string): string {
  const quoted = /^"((?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\["\\])*)"$/.exec(raw);
  const key = quoted ? quoted[1].replace(/\\(["\\])/g, '$1') : raw;
  // A raw token may not start with a quote: that is a malformed sf-string, not a key.
  const valid = quoted ? /^[\x20-\x7e]+$/.test(key) : /^[\x21\x23-\x7e][\x21-\x7e]*$/.test(key);
  if (!valid || key.length > MAX_IDEMPOTENCY_KEY_LENGTH) {
    throw new ApiError(400, 'invalid_header', 'Idempotency-Key must be 1–255 printable ASCII characters (a raw token or a quoted string).',
      [{ field: 'Idempotency-Key', message: 'invalid idempotency key' }]);
  }
  return key;
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, canonical((value as Record<string, unknown>)[k])]));
  }
  return value;
}

function fingerprint(request: FastifyRequest): string {
  const parts = [
    request.method, request.routeOptions.url, canonical(request.params), canonical(request.query ?? {}),
    canonical(request.body ?? null), request.uploadDigests,
  ];
  // Keyed: the body may hold a PIN (PUT /cards/:id/pin, cardPin), and a plain hash of four
  // digits is reversed in 10,000 guesses by anyone who reads the idempotency table.
  const vault = request.server.ctx?.vault;
  const text = JSON.stringify(parts);
  return vault ? vault.hash('idempotency', text) : createHash('sha256').update(text).digest('hex');
}

function headerCount(request: FastifyRequest): number {
  const raw = request.raw.rawHeaders;
  let count = 0;
  for (let i = 0; i < raw.length; i += 2) if (raw[i].toLowerCase() === 'idempotency-key') count++;
  return count;
}


async function claim(db: Db, now: number, organizationId: string, key: string, print: string, lease: string): Promise<StoredKey | null> {
  const inserted = await db.query(
    `INSERT INTO idempotency_keys (organization_id, key, fingerprint, state, lease_token, locked_until, created_at, expires_at)
     VALUES ($1, $2, $3, 'running', $4, $5, $6, $7) ON CONFLICT DO NOTHING RETURNING key`,
    [organizationId, key, print, lease, new Date(now + IDEMPOTENCY_LEASE_MS), new Date(now), new Date(now + IDEMPOTENCY_TTL_MS)],
  );
  if (inserted.length) return null;
  const [row] = await db.query<StoredKey>(
    `SELECT fingerprint, state, status_code, response_body, result_sealed, vault_key_id, lease_token, locked_until, expires_at
     FROM idempotency_keys WHERE organization_id = $1 AND key = $2`,
    [organizationId, key],
  );
  // Deleted between the two statements (released by a failing first attempt): busy, retry later.
  return row ?? { fingerprint: print, state: 'running', status_code: null, response_body: null, result_sealed: null,
    vault_key_id: null, lease_token: null, locked_until: new Date(now + 1), expires_at: new Date(now + 1) };
}

/** Takes over a key whose holder died before its effect; false if another retry was faster. */
async function takeOver(db: Db, now: number, organizationId: string, key: string, previous: string | null, lease: string): Promise<boolean> {
  const rows = await db.query(
    `UPDATE idempotency_keys SET lease_token = $4, locked_until = $5
     WHERE organization_id = $1 AND key = $2 AND state = 'running' AND lease_token IS NOT DISTINCT FROM $3 AND locked_until <= $6
     RETURNING key`,
    [organizationId, key, previous, lease, new Date(now + IDEMPOTENCY_LEASE_MS), new Date(now)],
  );
  return rows.length === 1;
}

/** The app's clock (tests move it past the 24 h retention), the system clock before it is set. */
const clockOf = (request: FastifyRequest): Clock => request.server.ctx?.clock ?? systemClock;

function inUse(): ApiError {
  return new ApiError(409, 'idempotency_key_in_use', 'A request with this Idempotency-Key is still being processed; retry later.');
}

async function preHandler(db: Db, request: FastifyRequest, reply: FastifyReply) {
  if (!MUTATING.has(request.method) || !request.principal) return;
  const header = request.headers['idempotency-key'];
  if (header === undefined) return;
  if (headerCount(request) > 1 || typeof header !== 'string') {
    throw new ApiError(400, 'invalid_header', 'Send at most one Idempotency-Key header.');
  }
  const key = parseIdempotencyKey(header);
  const organizationId = request.principal.organizationId;
  const print = fingerprint(request);
  const now = clockOf(request).now().getTime();
  const lease = randomToken(12);
  let existing = await claim(db, now, organizationId, key, print, lease);
  if (existing && existing.expires_at.getTime() <= now) {
    // Older than 24 h: forget it and treat the request as new.
    await db.query('DELETE FROM idempotency_keys WHERE organization_id = $1 AND key = $2 AND expires_at <= $3', [organizationId, key, new Date(now)]);
    existing = await claim(db, now, organizationId, key, print, lease);
  }
  if (!existing) {
    request.idempotency = { organizationId, key, lease, finished: false };
    return;
  }
  if (existing.fingerprint !== print) {
    throw new ApiError(422, 'idempotency_key_reused', 'This Idempotency-Key was already used with a different request.');
  }
  const found = { row: existing, organizationId, key, context: sealContext(organizationId, key) };
  if (existing.state === 'completed' && existing.status_code !== null) return replay(db, request, reply, found);
  // No lease at all: written by a version without leases, whose state cannot be trusted.
  const leaseLive = !existing.locked_until || existing.locked_until.getTime() > now;
  if (leaseLive || existing.state === 'completed') throw inUse();
  if (existing.state === 'committed') return answerLost(db, request, reply, found);
  if (!await takeOver(db, now, organizationId, key, existing.lease_token, lease)) throw inUse();
  request.idempotency = { organizationId, key, lease, finished: false };
}

/** The committed result, sealed for this key; null when it is too large or not JSON. */
function sealResult(vault: Vault, claimed: Claim, result: unknown): string | null {
  let text: string | undefined;
  try {
    text = JSON.stringify(result);
  } catch {
    return null;
  }
  if (text === undefined || text.length > MAX_STORED_RESULT_CHARS) return null;
  return vault.seal(text, sealContext(claimed.organizationId, claimed.key));
}

/** The marker that each transaction of a keyed request runs last, atomic with its effect. */
function markCommitted(vault: Vault, claimed: Claim) {
  return async (tx: Queryable, result: unknown) => {
    if (claimed.finished) return;
    const marked = await tx.query(
      `UPDATE idempotency_keys SET state = 'committed', result_sealed = $4, vault_key_id = $5
       WHERE organization_id = $1 AND key = $2 AND lease_token = $3 AND state IN ('running', 'committed') RETURNING key`,
      [claimed.organizationId, claimed.key, claimed.lease, sealResult(vault, claimed, result), vault.keyId],
    );
    // The lease expired and a retry took the key over: this attempt must not execute too.
    if (marked.length === 0) {
      throw new ApiError(409, 'idempotency_key_in_use', 'This request outlived its Idempotency-Key lease and a retry took the key over; this attempt changed nothing.');
    }
  };
}

function errorCodeOf(payload: string): string | undefined {
  try {
    return (JSON.parse(payload) as { error?: { code?: string } }).error?.code;
  } catch {
    return undefined;
  }
}

async function onSend(db: Db, vault: Vault, request: FastifyRequest, reply: FastifyReply, payload: unknown) {
  if (request.routeOptions.config?.secretResponse) reply.header('cache-control', 'no-store');
  const claimed = request.idempotency;
  if (!claimed) return payload;
  request.idempotency = null;
  claimed.finished = true;
  const body = typeof payload === 'string' ? payload : null;
  const status = reply.statusCode;
  const store = body !== null && status < 500 && !(status >= 400 && NOT_STORED_CODES.has(errorCodeOf(body) ?? ''));
  if (store) {
    await db.query(
      `UPDATE idempotency_keys SET state = 'completed', status_code = $4, response_body = $5, vault_key_id = $6, locked_until = NULL
       WHERE organization_id = $1 AND key = $2 AND lease_token = $3`,
      [claimed.organizationId, claimed.key, claimed.lease, status, vault.seal(body, sealContext(claimed.organizationId, claimed.key)), vault.keyId],
    );
  } else {
    await release(db, clockOf(request), claimed);
  }
  return payload;
}

/**
 * Gives the key back after an answer that is not stored. Before the effect: the key is free
 * again. After it (a 5xx once the transaction committed): the key stays `committed`, so the
 * retry answers the committed result instead of executing twice, and without waiting.
 */
async function release(db: Db, clock: Clock, claimed: Claim) {
  const params = [claimed.organizationId, claimed.key, claimed.lease];
  await db.query(`DELETE FROM idempotency_keys WHERE organization_id = $1 AND key = $2 AND lease_token = $3 AND state = 'running'`, params);
  await db.query(
    `UPDATE idempotency_keys SET locked_until = $4 WHERE organization_id = $1 AND key = $2 AND lease_token = $3 AND state = 'committed'`,
    [...params, clock.now()],
  );
}

/** Runs a keyed request's handler with its marker, so that db.transaction() adds it. */
function wrapHandler(route: RouteOptions, vault: () => Vault) {
  const methods = Array.isArray(route.method) ? route.method : [route.method];
  if (!methods.some((method) => MUTATING.has(method))) return;
  const handler = route.handler;
  route.handler = function keyedHandler(this: FastifyInstance, request, reply) {
    const claimed = request.idempotency;
    if (!claimed) return handler.call(this, request, reply);
    return beforeCommitHook.run(markCommitted(vault(), claimed), () => handler.call(this, request, reply));
  };
}

export function registerIdempotency(app: FastifyInstance, db: Db) {
  app.decorateRequest('idempotency', null);
  app.decorateRequest('uploadDigests', null as unknown as string[]);
  app.addHook('onRoute', (route) => wrapHandler(route, () => app.ctx.vault));
  app.addHook('onRequest', async (request) => {
    request.uploadDigests = [];
  });
  app.addHook('preHandler', (request, reply) => preHandler(db, request, reply));
  app.addHook('onSend', (request, reply, payload) => onSend(db, app.ctx.vault, request, reply, payload));
  // A request that dies with the connection still releases its key.
  app.addHook('onResponse', async (request) => {
    const claimed = request.idempotency;
    if (claimed) {
      claimed.finished = true;
      await release(db, clockOf(request), claimed);
    }
  });
}

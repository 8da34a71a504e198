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
//
// Policy for a request that never finishes (the process died mid-request): its key stays
// `running` and answers 409 until it expires after 24 h, because Paygen cannot tell whether the
// money moved.
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Db } from './db.ts';
import { systemClock, type Clock } from './clock.ts';
import { ApiError } from './errors.ts';

export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;
export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;
const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** Codes of results that are not stored: the request never began executing. */
const NOT_STORED_CODES = new Set(['validation_failed', 'invalid_amount', 'invalid_currency', 'invalid_json', 'invalid_cursor']);

declare module 'fastify' {
  interface FastifyRequest {
    idempotency: { organizationId: string; key: string } | null;
    /** SHA-256 of uploaded files, in the order received (set by the multipart normalizer). */
    uploadDigests: string[];
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

interface StoredKey { fingerprint: string; state: string; status_code: number | null; response_body: string | null; expires_at: Date }

async function claim(db: Db, now: number, organizationId: string, key: string, print: string): Promise<StoredKey | null> {
  const inserted = await db.query(
    `INSERT INTO idempotency_keys (organization_id, key, fingerprint, state, created_at, expires_at)
     VALUES ($1, $2, $3, 'running', $4, $5) ON CONFLICT DO NOTHING RETURNING key`,
    [organizationId, key, print, new Date(now), new Date(now + IDEMPOTENCY_TTL_MS)],
  );
  if (inserted.length) return null;
  const [row] = await db.query<StoredKey>(
    'SELECT fingerprint, state, status_code, response_body, expires_at FROM idempotency_keys WHERE organization_id = $1 AND key = $2',
    [organizationId, key],
  );
  return row ?? { fingerprint: print, state: 'running', status_code: null, response_body: null, expires_at: new Date(now + 1) };
}

/** The app's clock (tests move it past the 24 h retention), the system clock before it is set. */
const clockOf = (request: FastifyRequest): Clock => request.server.ctx?.clock ?? systemClock;

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
  let existing = await claim(db, now, organizationId, key, print);
  if (existing && existing.expires_at.getTime() <= now) {
    // Older than 24 h: forget it and treat the request as new.
    await db.query('DELETE FROM idempotency_keys WHERE organization_id = $1 AND key = $2 AND expires_at <= $3', [organizationId, key, new Date(now)]);
    existing = await claim(db, now, organizationId, key, print);
  }
  if (!existing) {
    request.idempotency = { organizationId, key };
    return;
  }
  if (existing.fingerprint !== print) {
    throw new ApiError(422, 'idempotency_key_reused', 'This Idempotency-Key was already used with a different request.');
  }
  if (existing.state !== 'completed' || existing.status_code === null) {
    throw new ApiError(409, 'idempotency_key_in_use', 'A request with this Idempotency-Key is still being processed; retry later.');
  }
  reply.header('idempotent-replayed', 'true');
  reply.header('content-type', 'application/json; charset=utf-8');
  return reply.code(existing.status_code).send(existing.response_body);
}

function errorCodeOf(payload: string): string | undefined {
  try {
    return (JSON.parse(payload) as { error?: { code?: string } }).error?.code;
  } catch {
    return undefined;
  }
}

async function onSend(db: Db, request: FastifyRequest, reply: FastifyReply, payload: unknown) {
  const claimed = request.idempotency;
  if (!claimed) return payload;
  request.idempotency = null;
  const body = typeof payload === 'string' ? payload : null;
  const status = reply.statusCode;
  const store = body !== null && status < 500 && !(status >= 400 && NOT_STORED_CODES.has(errorCodeOf(body) ?? ''));
  if (store) {
    await db.query(
      `UPDATE idempotency_keys SET state = 'completed', status_code = $3, response_body = $4
       WHERE organization_id = $1 AND key = $2`,
      [claimed.organizationId, claimed.key, status, body],
    );
  } else {
    await db.query('DELETE FROM idempotency_keys WHERE organization_id = $1 AND key = $2', [claimed.organizationId, claimed.key]);
  }
  return payload;
}

export function registerIdempotency(app: FastifyInstance, db: Db) {
  app.decorateRequest('idempotency', null);
  app.decorateRequest('uploadDigests', null as unknown as string[]);
  app.addHook('onRequest', async (request) => {
    request.uploadDigests = [];
  });
  app.addHook('preHandler', (request, reply) => preHandler(db, request, reply));
  app.addHook('onSend', (request, reply, payload) => onSend(db, request, reply, payload));
  // A request that dies with the connection still releases its key.
  app.addHook('onResponse', async (request) => {
    if (request.idempotency) {
      await db.query('DELETE FROM idempotency_keys WHERE organization_id = $1 AND key = $2', [request.idempotency.organizationId, request.idempotency.key]);
    }
  });
}

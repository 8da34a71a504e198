// Answers to a retry that finds its key already used (src/platform/idempotency.ts has the policy):
// the stored answer replayed, or, when the effect committed but its answer was not kept, the
// committed result rebuilt through the route's own response schema. Never a second execution.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Db } from './db.ts';
import { ApiError } from './errors.ts';

export const LOST_RESPONSE_MESSAGE = 'This request already ran, but its original response was not kept. data holds '
  + 'what the request committed (or only its id, or null when unknown); fetch the resource for its current state.';

export interface StoredKey {
  fingerprint: string; state: 'running' | 'committed' | 'completed'; status_code: number | null;
  response_body: string | null; result_sealed: string | null; vault_key_id: string | null;
  lease_token: string | null; locked_until: Date | null; expires_at: Date;
}

/** What a sealed value of this key is bound to: it opens in no other row. */
export const sealContext = (organizationId: string, key: string) => `idempotency:${organizationId}:${key}`;

/** A stored key as a retry found it, with the context its sealed values are bound to. */
export interface Found { row: StoredKey; organizationId: string; key: string; context: string }

/**
 * Opens a value this key sealed; null if it cannot be (a master key no longer in the keyring, or
 * tampered with). After a rotation the previous keys stay in the keyring, so answers stored
 * before it still replay.
 */
function openSealed(request: FastifyRequest, found: Found, sealed: string): string | null {
  const vault = request.server.ctx.vault;
  if (!found.row.vault_key_id || !vault.keyIds.includes(found.row.vault_key_id)) return null;
  try {
    return vault.open(sealed, found.context);
  } catch (error) {
    request.log.warn({ err: error }, 'a sealed idempotency record does not open');
    return null;
  }
}

export function replay(db: Db, request: FastifyRequest, reply: FastifyReply, found: Found) {
  const { row } = found;
  const status = row.status_code!;
  // Bodies stored before sealing began (vault_key_id NULL) are replayed as they are.
  const body = row.vault_key_id === null ? row.response_body : openSealed(request, found, row.response_body ?? '');
  markReplay(reply);
  if (body !== null) return reply.code(status).send(body);
  // The answer no longer opens: a success is rebuilt like a lost one; a failure keeps its status.
  if (status < 300) return answerLost(db, request, reply, found, status);
  throw new ApiError(status, 'idempotent_response_unreadable', `This request already ran under this Idempotency-Key and failed with status ${status}, but its stored answer can no longer be read; send it with a new key.`);
}

function markReplay(reply: FastifyReply) {
  reply.header('idempotent-replayed', 'true');
  reply.header('content-type', 'application/json; charset=utf-8');
}

/** The status a route answers on success: the first 2xx of its response schema. */
function successStatus(request: FastifyRequest): number {
  const declared = Object.keys((request.routeOptions.schema?.response ?? {}) as Record<string, unknown>);
  return Number(declared.find((status) => /^2\d\d$/.test(status)) ?? 200);
}

/**
 * The effect committed but its response was never stored. Never executes again: answers the
 * committed result through the route's own response schema when it fits, else its id.
 */
export async function answerLost(db: Db, request: FastifyRequest, reply: FastifyReply, found: Found, status = successStatus(request)) {
  const sealed = found.row.result_sealed;
  const text = sealed === null ? null : openSealed(request, found, sealed);
  const body = lostBody(reply, status, text === null ? null : JSON.parse(text) as unknown);
  // Kept as the key's answer, so that every later retry replays these same bytes.
  await db.query(
    `UPDATE idempotency_keys SET state = 'completed', status_code = $3, response_body = $4, vault_key_id = $5, locked_until = NULL
     WHERE organization_id = $1 AND key = $2 AND state = 'committed'`,
    [found.organizationId, found.key, status, request.server.ctx.vault.seal(body, found.context), request.server.ctx.vault.keyId],
  );
  markReplay(reply);
  return reply.code(status).send(body);
}

function lostBody(reply: FastifyReply, status: number, result: unknown): string {
  if (result && typeof result === 'object') {
    try {
      // The route's own serializer: the answer has the route's shape, or this throws.
      return reply.serializeInput({ statusCode: status, message: LOST_RESPONSE_MESSAGE, data: result }, String(status)) as string;
    } catch {
      // Not the route's shape (the route adds to what its transaction returned): the id below.
    }
  }
  const id = (result as { id?: unknown } | null)?.id;
  return JSON.stringify({ statusCode: status, message: LOST_RESPONSE_MESSAGE, data: typeof id === 'string' ? { id } : null });
}


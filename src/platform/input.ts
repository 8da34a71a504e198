// Input hardening: whatever a client sends, the answer is a 4xx in the envelope, never a 5xx.
// PostgreSQL refuses NUL characters and year 0000, and silently rewrites lone UTF-16 surrogates,
// so such values are refused here, once, before any route sees them. This file also answers the
// errors Fastify raises before routing (bad percent-encoding, over-long path parameters), the
// socket-level errors (timeouts, oversized headers) and a wrong method on an existing path (405).
import http from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import FindMyWay, { type HTTPMethod } from 'find-my-way';
import { ApiError, errorBody, toApiError } from './errors.ts';
import { randomChars } from './ids.ts';

/** C0 control characters and DEL; tab, LF and CR are allowed in query and body text. */
const CONTROL_IN_TEXT = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/;
/** Path parameters are identifiers: no control character at all. */
const CONTROL_IN_PATH = /[\u0000-\u001F\u007F]/;
/** With the u flag a well-formed pair is one code point, so this matches lone surrogates only. */
const LONE_SURROGATE = /\p{Surrogate}/u;
/** The walk is iterative and bounded: a 1 MiB body holds at most this many nested values. */
const MAX_VALUES_WALKED = 1_000_000;
/**
 * No request schema nests deeper than a few levels; a body nested thousands of levels deep
 * (valid JSON, under the size limit) overflowed the stack of recursive code after validation,
 * such as the idempotency fingerprint of a route without a body schema: a 500.
 */
export const MAX_NESTING_DEPTH = 32;

type Part = 'params' | 'querystring' | 'body';

function badCharacter(text: string, part: Part): string | undefined {
  if ((part === 'params' ? CONTROL_IN_PATH : CONTROL_IN_TEXT).test(text)) {
    return part === 'params' ? 'must not contain control characters' : 'must not contain control characters other than tab, line feed and carriage return';
  }
  if (LONE_SURROGATE.test(text)) return 'must not contain unpaired UTF-16 surrogates (invalid Unicode)';
  return undefined;
}

const fieldName = (part: Part, path: string) => (part === 'body' ? path : `${part}.${path}`);

/** Walks every string (values and object keys) of one request part; throws on the first bad one. */
function checkPart(value: unknown, part: Part) {
  const stack: Array<[unknown, string, number]> = [[value, '', 0]];
  for (let walked = 0; stack.length > 0 && walked < MAX_VALUES_WALKED; walked++) {
    const [current, path, depth] = stack.pop()!;
    if (typeof current === 'string') {
      const reason = badCharacter(current, part);
      if (reason) throw invalidInput(fieldName(part, path), reason);
    } else if (current && typeof current === 'object') {
      if (depth >= MAX_NESTING_DEPTH) throw invalidInput(fieldName(part, path), `is nested more than ${MAX_NESTING_DEPTH} levels deep`);
      for (const [key, child] of Object.entries(current)) {
        const childPath = path ? `${path}.${key}` : key;
        const reason = badCharacter(key, part);
        if (reason) throw invalidInput(fieldName(part, JSON.stringify(key).slice(1, -1)), `is a field name that ${reason}`);
        stack.push([child, childPath, depth + 1]);
      }
    }
  }
}

function invalidInput(field: string, reason: string) {
  const message = `${field || 'body'} ${reason}`;
  return new ApiError(422, 'validation_failed', `The request is invalid: ${message}.`, [{ field, message }]);
}

/**
 * Runs after the body is parsed (multipart text fields included: the multipart hook, registered
 * before this one, has put them in request.body) and before schema validation.
 */
export function registerInputChecks(app: FastifyInstance) {
  app.addHook('preValidation', async (request) => {
    if (request.is404) return;
    checkPart(request.params, 'params');
    checkPart(request.query, 'querystring');
    checkPart(request.body, 'body');
  });
  // After validation, before the handler (and the idempotency hook, registered later).
  app.addHook('preHandler', async (request) => {
    if (request.is404) return;
    checkNumbers(request.params, 'params');
    checkNumbers(request.query, 'querystring');
    checkNumbers(request.body, 'body');
  });
}

/**
 * Ajv coerces `limit=1e400` to Infinity and then skips its own minimum and maximum checks (a
 * quirk of coercion), so Infinity reached PostgreSQL as a LIMIT: a 500. No field takes a
 * non-finite number. Depth is already bounded by the walk before validation.
 */
function checkNumbers(value: unknown, part: Part) {
  const stack: Array<[unknown, string]> = [[value, '']];
  for (let walked = 0; stack.length > 0 && walked < MAX_VALUES_WALKED; walked++) {
    const [current, path] = stack.pop()!;
    if (typeof current === 'number' && !Number.isFinite(current)) throw invalidInput(fieldName(part, path), 'must be a finite number');
    if (current && typeof current === 'object') {
      for (const [key, child] of Object.entries(current)) stack.push([child, path ? `${path}.${key}` : key]);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Errors raised before routing: Fastify hands them to `frameworkErrors`, not to the error handler.

const PRE_ROUTING_ERRORS: Record<string, [number, string, string]> = {
  FST_ERR_BAD_URL: [400, 'invalid_url', 'The URL is not valid: a percent-encoded sequence does not decode to UTF-8.'],
  FST_ERR_MAX_PARAM_LENGTH: [414, 'uri_too_long', 'A path segment is longer than any id this API issues.'],
};

export function frameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const known = PRE_ROUTING_ERRORS[error.code];
  // The only other one, FST_ERR_ASYNC_CONSTRAINT, is the server's fault (no route uses one).
  const apiError = known ? new ApiError(known[0], known[1], known[2]) : toApiError(error);
  if (!known) request.log.error({ err: error }, 'unexpected routing error');
  return reply.code(apiError.statusCode).header('x-request-id', request.id).send(errorBody(apiError, request));
}

// ---------------------------------------------------------------------------------------------
// Socket-level errors: no request object exists yet, so the envelope is written by hand.

const CLIENT_ERRORS: Record<string, [number, string, string]> = {
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'request_timeout', 'The request was not received in time.'],
  HPE_HEADER_OVERFLOW: [431, 'headers_too_large', 'The request headers are too large.'],
};

/** Fastify's `clientErrorHandler`, answering in the envelope, then closing the connection. */
export function clientErrorHandler(this: FastifyInstance, error: NodeJS.ErrnoException, socket: Socket) {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [statusCode, code, message] = CLIENT_ERRORS[error.code ?? ''] ?? [400, 'bad_request', 'The request is not valid HTTP.'];
  const requestId = `req_${randomChars(20)}`;
  const body = JSON.stringify({ statusCode, message, data: null, error: { code, details: [] }, requestId });
  this.log.debug({ err: error, requestId }, 'client error');
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${statusCode} ${http.STATUS_CODES[statusCode]}\r\nConnection: close\r\n`
      + `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n`
      + `x-request-id: ${requestId}\r\n\r\n${body}`);
  }
  socket.destroy(error);
}

// ---------------------------------------------------------------------------------------------
// 405: a second router, fed by onRoute, used only by the not-found handler to tell "no such
// path" (404) from "no such method on this path" (405, with Allow).

export interface RouteIndex {
  /** The methods registered for the path of `url`, sorted; empty when the path is unknown. */
  allowedMethods(url: string): string[];
}

export function indexRoutes(app: FastifyInstance, options: { maxParamLength: number }): RouteIndex {
  const router = FindMyWay({ maxParamLength: options.maxParamLength });
  const methods = new Set<string>();
  const added = new Set<string>();
  const add = (method: string, url: string) => {
    if (added.has(`${method} ${url}`)) return;
    added.add(`${method} ${url}`);
    methods.add(method);
    router.on(method as HTTPMethod, url, () => undefined);
  };
  app.addHook('onRoute', (route) => {
    // A plugin's '/' route under a prefix is registered twice ('/docs' and '/docs/'), but
    // onRoute hears only of the first: the second is added here.
    const urls = route.routePath === '' && route.prefix && (route.prefixTrailingSlash ?? 'both') === 'both' ? [route.url, `${route.url}/`] : [route.url];
    for (const method of [route.method].flat()) for (const url of urls) add(method, url);
  });
  return {
    allowedMethods(url) {
      return [...methods].filter((method) => router.find(method as HTTPMethod, url) !== null).sort();
    },
  };
}

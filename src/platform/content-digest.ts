// RFC 9530 digest fields. A request that carries `Content-Digest` has it checked against the
// exact bytes of its body as received, before the handler runs: a mismatch is 400
// `content_digest_mismatch`, so nothing executes and no idempotency answer is stored (the claim
// is taken in preHandler, after this check). A response carries `Content-Digest` (and
// `Repr-Digest`) when the request asks with `Want-Content-Digest` (`Want-Repr-Digest`).
//
// Decisions:
// - Supported algorithms: `sha-256` and `sha-512`. Every supported member of the header is checked
//   (a mismatch in any fails); members with other algorithms, the deprecated `md5` or `sha`
//   included, are ignored, so an extra weak member cannot stand in for a strong one. A header
//   with no supported member is 400 `unsupported_digest_algorithm`: it would otherwise pass as
//   verified while nothing was checked.
// - A header that is not an RFC 8941 Dictionary, is empty, or has a member that is not a Byte
//   Sequence is 400 `invalid_header`.
// - The body is hashed as it streams past (JSON, form and multipart alike: the raw request is
//   tapped, not buffered), so the body limits stay those of the parsers. A body the server does
//   not parse (a GET's) is still read to its end and hashed; no body is the empty body.
// - Responses: there is no content coding and no range request here, so the representation
//   data is the content and `Repr-Digest` equals `Content-Digest`, except for HEAD, whose
//   content is empty while its representation is the GET body (RFC 9530 Appendix B.2).
//   `Want-*` fields that do not parse are ignored, as preferences may be.
import { createHash, timingSafeEqual, type Hash } from 'node:crypto';
import { finished } from 'node:stream/promises';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { parseDictionary, serializeDictionary, type Dictionary } from 'structured-headers';
import { ApiError } from './errors.ts';

/** RFC 9530 algorithm keys and their node:crypto names, in order of preference on a tie. */
export const DIGEST_ALGORITHMS: Record<string, string> = {
  'sha-512': 'sha512',
  'sha-256': 'sha256',
};
/** The Want-* preference range of RFC 9530 section 4; 0 means "not acceptable". */
const MAX_PREFERENCE = 10;

interface DigestTap {
  hashes: Map<string, Hash>;
  done: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    contentDigestTap: DigestTap | null;
  }
}

const FIELD = 'Content-Digest';
const invalidHeader = (message: string) =>
  new ApiError(400, 'invalid_header', message, [{ field: FIELD, message }]);

/**
 * The supported members of a Content-Digest field value, algorithm → expected digest bytes.
 * Throws the 400 the request deserves when the value is malformed or names no supported algorithm.
 */
export function parseContentDigest(value: string): Map<string, Buffer> {
  let dictionary: Dictionary;
  try {
    dictionary = parseDictionary(value);
  } catch {
    throw invalidHeader('Content-Digest must be a dictionary such as sha-256=:base64:.');
  }
  if (dictionary.size === 0) throw invalidHeader('Content-Digest names no digest.');
  const expected = new Map<string, Buffer>();
  for (const [algorithm, member] of dictionary) {
    const bytes = member[0];
    if (!(bytes instanceof ArrayBuffer)) {
      throw invalidHeader(`The ${algorithm} digest must be a byte sequence (:base64:).`);
    }
    if (algorithm in DIGEST_ALGORITHMS) expected.set(algorithm, Buffer.from(bytes));
  }
  if (expected.size === 0) {
    throw new ApiError(400, 'unsupported_digest_algorithm',
      'Content-Digest names no supported algorithm; use sha-256 or sha-512.',
      [{ field: FIELD, message: 'no sha-256 or sha-512 member' }]);
  }
  return expected;
}

/** The digest of some bytes with an RFC 9530 algorithm key. */
export function digestOf(algorithm: string, data: Buffer | string): Buffer {
  return createHash(DIGEST_ALGORITHMS[algorithm]).update(data).digest();
}

/** The field value for the given bytes, e.g. `sha-256=:…:`. */
export function contentDigestValue(algorithms: string[], data: Buffer | string): string {
  const dictionary: Dictionary = new Map();
  for (const algorithm of algorithms) {
    // structured-headers 2 takes byte sequences as ArrayBuffer; a Buffer may share a larger one.
    const digest = new Uint8Array(digestOf(algorithm, data));
    dictionary.set(algorithm, [digest.buffer, new Map()]);
  }
  return serializeDictionary(dictionary);
}

/** True when every expected digest matches the computed one. */
export function digestsMatch(expected: Map<string, Buffer>, actual: Map<string, Buffer>): boolean {
  for (const [algorithm, bytes] of expected) {
    const computed = actual.get(algorithm);
    const same = computed?.length === bytes.length && timingSafeEqual(computed, bytes);
    if (!same) return false;
  }
  return true;
}

/** Checks a Content-Digest field value against a complete body (the pure form of the hook). */
export function verifyContentDigest(value: string, body: Buffer | string): boolean {
  const expected = parseContentDigest(value);
  const actual = new Map([...expected.keys()].map((name) => [name, digestOf(name, body)]));
  return digestsMatch(expected, actual);
}

/**
 * The supported algorithm a Want-* field value prefers most (ties go to the order of
 * DIGEST_ALGORITHMS), or null when it names none with a preference above 0 or does not parse.
 */
export function preferredAlgorithm(value: string | undefined): string | null {
  if (!value) return null;
  let dictionary: Dictionary;
  try {
    dictionary = parseDictionary(value);
  } catch {
    return null;
  }
  let best: string | null = null;
  let bestPreference = 0;
  for (const algorithm of Object.keys(DIGEST_ALGORITHMS)) {
    const preference = dictionary.get(algorithm)?.[0];
    if (typeof preference !== 'number' || !Number.isInteger(preference)) continue;
    if (preference > bestPreference && preference <= MAX_PREFERENCE) {
      best = algorithm;
      bestPreference = preference;
    }
  }
  return best;
}

/**
 * Hashes the raw request as it is read, whoever reads it: Fastify's parsers read the payload
 * stream, @fastify/multipart reads the raw request itself. The stream is paused first so the
 * added `data` listener does not start the flow: the reader that comes next resumes it.
 */
function tap(request: FastifyRequest, algorithms: string[]): DigestTap {
  const hashes = new Map(algorithms.map((a) => [a, createHash(DIGEST_ALGORITHMS[a])]));
  const state: DigestTap = { hashes, done: false };
  const raw = request.raw;
  raw.pause();
  raw.on('data', (chunk: Buffer) => {
    for (const hash of state.hashes.values()) hash.update(chunk);
  });
  raw.once('end', () => { state.done = true; });
  return state;
}

function headerValue(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

async function check(request: FastifyRequest) {
  const state = request.contentDigestTap;
  if (!state) return;
  if (!state.done) {
    // A body nobody parsed (a GET's, the epilogue after the last multipart boundary) or no body:
    // read to its end so the digest covers everything that was sent.
    request.raw.resume();
    await finished(request.raw);
  }
  const expected = parseContentDigest(headerValue(request, 'content-digest') ?? '');
  const actual = new Map([...state.hashes].map(([algorithm, hash]) => [algorithm, hash.digest()]));
  if (!digestsMatch(expected, actual)) {
    throw new ApiError(400, 'content_digest_mismatch',
      'The body does not match its Content-Digest; nothing was done.',
      [{ field: FIELD, message: 'does not match the body received' }]);
  }
}

function payloadBytes(payload: unknown): Buffer | string | null {
  if (payload === undefined || payload === null) return '';
  if (typeof payload === 'string' || Buffer.isBuffer(payload)) return payload;
  return null; // A stream: hashing it would mean buffering it, so no digest is sent.
}

function addResponseDigests(request: FastifyRequest, reply: FastifyReply, payload: unknown) {
  const content = preferredAlgorithm(headerValue(request, 'want-content-digest'));
  const representation = preferredAlgorithm(headerValue(request, 'want-repr-digest'));
  if (!content && !representation) return;
  const bytes = payloadBytes(payload);
  if (bytes === null) return;
  // A HEAD answer has no content; its representation is the GET body Fastify serialised.
  const sent = request.method === 'HEAD' ? '' : bytes;
  if (content) reply.header('content-digest', contentDigestValue([content], sent));
  if (representation) reply.header('repr-digest', contentDigestValue([representation], bytes));
}

/**
 * Registered after multipart, whose preValidation hook reads the parts: this check's
 * preValidation hook then runs once the whole body has passed, before schema validation.
 */
export function registerContentDigest(app: FastifyInstance) {
  app.decorateRequest('contentDigestTap', null);
  app.addHook('preParsing', async (request, _reply, payload) => {
    const value = headerValue(request, 'content-digest');
    if (value === undefined) return payload;
    // A malformed header is refused here, before any of the body is read.
    request.contentDigestTap = tap(request, [...parseContentDigest(value).keys()]);
    return payload;
  });
  app.addHook('preValidation', check);
  app.addHook('onSend', async (request, reply, payload) => {
    addResponseDigests(request, reply, payload);
    return payload;
  });
}

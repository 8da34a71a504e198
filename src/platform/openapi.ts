// The OpenAPI 3.1 document, generated from the route schemas (@fastify/swagger) and rendered at
// /docs (@fastify/swagger-ui). What the route schemas cannot say is added here, in one place:
// operation ids, the Idempotency-Key header of every mutation, the error codes each operation can
// answer (the route's own, from `schema.errorCodes`, plus those every route of its kind shares)
// and the webhook payloads. Error codes come from ERROR_CODES, so they cannot drift.
import type { FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { ErrorBody, ListMeta } from './envelope.ts';
import { ERROR_CODES } from './errors.ts';
import { MAX_IDEMPOTENCY_KEY_LENGTH } from './idempotency.ts';
import { SIGNATURE_CLOCK_SKEW_SECONDS } from './signatures.ts';
import { webhooksSection } from '../modules/events/events.webhooks.ts';

/** Statuses whose codes a route lists in `schema.errorCodes`. */
export type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 410 | 413 | 414 | 415 | 422 | 503;
export type RouteErrorCodes = Partial<Record<ErrorStatus, readonly string[]>>;

declare module 'fastify' {
  interface FastifySchema {
    /**
     * The error codes this route answers beyond those every route of its kind shares (see
     * commonErrorCodes), by status. Listed in the OpenAPI document; a test checks each is in
     * ERROR_CODES.
     */
    errorCodes?: RouteErrorCodes;
  }
}

/** Tag descriptions, in the order the reference shows them. */
const TAGS: Array<[string, string]> = [
  ['Authentication', 'Sign up, log in, and short-lived bearer tokens.'],
  ['API keys', 'Long-lived credentials of an organization (sent as `x-api-key`).'],
  ['Accounts', 'Funding accounts: the money cards are issued and topped up from.'],
  ['Card holders', 'The people cards are issued to, with their KYC status and documents.'],
  ['Card programs', 'Issuing rules: brand, BIN, currency, card types, KYC, spend controls.'],
  ['Cards', 'Virtual and physical cards: issuance, lifecycle, funds and PINs.'],
  ['Hosted pages', 'Pages a card holder opens with a single-use token instead of a credential.'],
  ['Budgets', 'Spending limits per period over a funding account, shared by their cards.'],
  ['Authorizations', 'Card payment authorizations and their holds.'],
  ['Transactions', 'Cleared money movements: captures, refunds, force captures.'],
  ['Disputes', 'Card holders contesting a transaction: evidence, submission, won or lost.'],
  ['Events', 'Everything that happened, in order; the source of webhook deliveries.'],
  ['Webhooks', 'Endpoints that receive events, with their delivery logs.'],
  ['Signing keys', 'Keys that verify RFC 9421 signatures of the organization\'s requests.'],
  ['Simulator', 'The card network and issuer side of the sandbox.'],
  ['Operations', 'Health, readiness and this document.'],
];

const codeTable = Object.entries(ERROR_CODES).map(([code, text]) => `| \`${code}\` | ${text} |`).join('\n');

// Markdown: a single line break inside a paragraph is a space.
const DESCRIPTION = `Self-hostable card issuing. Every JSON response uses the envelope
{statusCode, message, data, meta}; errors use {statusCode, message, data: null, error: {code, details},
requestId}.

Each operation lists, in its error responses, the codes it can answer. Every operation may also
answer \`rate_limited\` (429), \`internal_error\` (500) and \`service_unavailable\` (503, with
Retry-After: the database is unreachable or the server is shutting down); every authenticated
one \`unauthorized\` (401) and \`forbidden\` (403); an unknown path \`route_not_found\` (404), and a
known path with another method \`method_not_allowed\` (405).

## Error codes
| code | meaning |
| --- | --- |
${codeTable}`;

const IDEMPOTENCY_KEY = {
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  description: [
    `Makes a retry safe. 1–${MAX_IDEMPOTENCY_KEY_LENGTH} printable ASCII characters, as a raw token or a quoted`,
    'structured-field string; keys belong to the organization. The same key with the same request',
    'within 24 hours replays the stored status and body with `Idempotent-Replayed: true` instead of',
    'executing again; with a different request it is a 422 `idempotency_key_reused`; while the first',
    'request still runs, a 409 `idempotency_key_in_use`. Validation failures and 5xx answers are not',
    'stored, so a corrected request may reuse the key.',
  ].join(' '),
  schema: { type: 'string', minLength: 1, maxLength: MAX_IDEMPOTENCY_KEY_LENGTH, pattern: '^[\\x20-\\x7e]+$' },
  example: 'order-7f3a9c2e-issue-card',
};

const CONTENT_DIGEST = {
  name: 'Content-Digest',
  in: 'header',
  required: false,
  description: [
    'RFC 9530 digest of the exact body bytes sent, as a structured-field dictionary; `sha-256` and',
    '`sha-512` are checked (every one present), other algorithms are ignored. Checked before anything',
    'runs, whether or not the request is signed: a mismatch is a 400 `content_digest_mismatch`, a',
    'malformed value a 400 `invalid_header`, and a value naming neither supported algorithm a 400',
    '`unsupported_digest_algorithm`. A request without a body may send the digest of empty content.',
  ].join(' '),
  schema: { type: 'string', minLength: 1 },
  example: 'sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:',
};

const WANT_CONTENT_DIGEST = {
  name: 'Want-Content-Digest',
  in: 'header',
  required: false,
  description: [
    'Asks for an RFC 9530 `Content-Digest` on the response: algorithms with preferences 1–10 (0 is',
    '"not acceptable"). The answer uses the supported algorithm (`sha-256`, `sha-512`) with the',
    'highest preference, over the exact response bytes. `Want-Repr-Digest` likewise asks for',
    '`Repr-Digest`, which here equals `Content-Digest` except on HEAD. A value that does not parse is',
    'ignored.',
  ].join(' '),
  schema: { type: 'string', minLength: 1 },
  example: 'sha-256=10, sha-512=3',
};

const REPLAYED_HEADER = {
  description: 'Present, and `true`, when this answer is the stored answer to an earlier request with the ' +
    'same Idempotency-Key.',
  schema: { type: 'string', enum: ['true'] },
};

/** The 401 codes of request signatures, which any authenticated request can meet. */
const SIGNATURE_CODES = ['signature_invalid', 'signature_expired', 'signature_required', 'unknown_key'];

const SIGNATURE_PARAMETERS = {
  Signature: {
    name: 'Signature', in: 'header', required: false,
    description: 'RFC 9421 signatures (an sf-dictionary of byte sequences), one per label of Signature-Input. ' +
      'Any authenticated request may be signed (reads too); every signature it carries must verify. ' +
      'See docs/guides/request-signing.md.',
    schema: { type: 'string' }, example: 'sig1=:d2pmTvmbncD3xQm8E9ZV2828BjQWGgiwAaw5bAkgibU=:',
  },
  SignatureInput: {
    name: 'Signature-Input', in: 'header', required: false,
    description: 'The covered components and parameters of each signature. Must cover "@method" and ' +
      '"@target-uri" (or "@authority", "@path" and "@query"), and "content-digest" when there is a body; ' +
      `created is required and within ${SIGNATURE_CLOCK_SKEW_SECONDS} s of the server clock; a nonce is ` +
      'accepted once; keyid names a key of POST /signing-keys.',
    schema: { type: 'string' },
    example: 'sig1=("@method" "@target-uri" "content-digest");created=1767225600;keyid="backend-2026";nonce="8d1f0c"',
  },
};

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const ACTION_VERBS: Record<string, string> = {
  GET: 'get', POST: 'create', PUT: 'set', PATCH: 'update', DELETE: 'delete',
};

const camel = (words: string[]) => words.map((w, i) => (i === 0 ? w : w[0].toUpperCase() + w.slice(1))).join('');
const wordsOf = (segment: string) => segment.split(/[-_.]/).filter(Boolean).map((w) => w.toLowerCase());
const singular = (segment: string) =>
  segment.replace(/ies$/, 'y').replace(/(ch|sh|ss|x)es$/, '$1').replace(/s$/, '');

/**
 * A stable camelCase id from the method and path, e.g. POST /cards → createCard, GET /cards →
 * listCards, POST /cards/:id/freeze → freezeCard, GET /webhooks/:id/deliveries →
 * listWebhookDeliveries, POST /simulator/authorizations → simulatorCreateAuthorization. A route
 * whose generated id reads badly sets `schema.operationId`.
 */
export function operationIdOf(method: string, url: string): string {
  const segments = url.split('/').filter(Boolean);
  const prefix = segments[0] === 'simulator' ? ['simulator'] : [];
  const rest = segments.slice(prefix.length);
  const statics = rest.filter((s) => !s.startsWith(':'));
  const last = rest[rest.length - 1] ?? '';
  const endsWithParam = last.startsWith(':');
  const owners = (names: string[]) => names.flatMap((s) => wordsOf(singular(s)));
  if (endsWithParam) return camel([...prefix, ACTION_VERBS[method], ...owners(statics)]);
  const parents = owners(statics.slice(0, -1));
  const underParam = rest.length > 1 && rest[rest.length - 2].startsWith(':');
  if (method === 'GET') {
    return camel([...prefix, underParam || /s$/.test(last) ? 'list' : 'get', ...parents, ...wordsOf(last)]);
  }
  // POST /x/:id/verb is an action on x; POST to a plural collection creates one of it.
  if (/s$/.test(last)) return camel([...prefix, ACTION_VERBS[method], ...parents, ...wordsOf(singular(last))]);
  return camel([...prefix, ...wordsOf(last), ...parents]);
}

interface RouteTraits {
  method: string;
  authenticated: boolean;
  hasPathParams: boolean;
  paginated: boolean;
  /** A body or query field named amount or initialBalance: a bad one alone is `invalid_amount`. */
  takesAmount: boolean;
}

const AMOUNT_FIELDS = new Set(['amount', 'initialBalance']);

/** Whether a request schema has an amount field anywhere (errors.ts maps its failures to invalid_amount). */
function hasAmountField(schema: unknown, depth = 0): boolean {
  if (!schema || typeof schema !== 'object' || depth > 10) return false;
  const node = schema as OpenApiNode;
  if (node.properties && Object.keys(node.properties).some((key) => AMOUNT_FIELDS.has(key))) return true;
  const children = [...Object.values<unknown>(node.properties ?? {}), node.items, ...(node.anyOf ?? []), ...(node.oneOf ?? []), ...(node.allOf ?? [])];
  return children.some((child) => hasAmountField(child, depth + 1));
}

/** The codes every route of a kind can answer: authentication, validation, idempotency, paging. */
export function commonErrorCodes(route: RouteTraits): RouteErrorCodes {
  const mutating = MUTATING.has(route.method);
  // Fastify parses a body sent with OPTIONS too (a CORS preflight has none, but a client may send one).
  const parsesBody = mutating || route.method === 'OPTIONS';
  const idempotent = mutating && route.authenticated;
  const list = (...codes: Array<string | false>) => codes.filter((c): c is string => Boolean(c));
  // Every request's URL is decoded, its query string checked for control characters and its
  // Content-Digest verified (a request without a body may send one, of empty content) before any
  // route runs, so those codes belong to every operation, reads and public routes included.
  return {
    400: list(
      parsesBody && 'invalid_json', 'invalid_header', 'content_digest_mismatch', 'unsupported_digest_algorithm',
      'invalid_url',
    ),
    401: list(
      route.authenticated && 'unauthorized', ...SIGNATURE_CODES.map((code) => route.authenticated && code),
    ),
    403: list(route.authenticated && 'forbidden'),
    404: list(route.hasPathParams && 'not_found'),
    409: list(idempotent && 'idempotency_key_in_use'),
    413: list(parsesBody && 'payload_too_large'),
    414: list(route.hasPathParams && 'uri_too_long'),
    415: list(parsesBody && 'unsupported_media_type'),
    422: list(
      'validation_failed', route.takesAmount && 'invalid_amount', route.paginated && 'invalid_cursor', idempotent && 'idempotency_key_reused',
    ),
  };
}

/** A response description that names each code with its meaning. */
function describeCodes(codes: string[]): string {
  return codes.map((code) => `\`${code}\`: ${ERROR_CODES[code] ?? 'not in the catalogue'}`).join('\n\n');
}

// The document is plain JSON built by @fastify/swagger; its nodes are walked, not typed.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type OpenApiNode = Record<string, any>;

/** Adds the operation id and merges the route's error codes with the common ones, per status. */
function transformRoute({ schema, url, route }: { schema: OpenApiNode; url: string; route: OpenApiNode }) {
  if (!schema || schema.hide) return { schema, url };
  const method = String(Array.isArray(route.method) ? route.method[0] : route.method).toUpperCase();
  const { errorCodes = {}, ...rest } = schema as OpenApiNode & { errorCodes?: RouteErrorCodes };
  const traits: RouteTraits = {
    method,
    authenticated: !(Array.isArray(schema.security) && schema.security.length === 0),
    hasPathParams: /:[A-Za-z]/.test(url),
    paginated: Boolean(schema.querystring?.properties?.cursor),
    takesAmount: hasAmountField(schema.body) || hasAmountField(schema.querystring),
  };
  const common = commonErrorCodes(traits);
  const merged: Record<string, string[]> = {};
  for (const status of new Set([...Object.keys(common), ...Object.keys(errorCodes)]) as Set<`${ErrorStatus}`>) {
    merged[status] = [...new Set([...(common[status] ?? []), ...(errorCodes[status] ?? [])])];
  }
  return {
    url,
    schema: {
      ...rest,
      operationId: rest.operationId ?? operationIdOf(method, url),
      'x-error-codes': merged,
      'x-idempotent': MUTATING.has(method) && traits.authenticated,
    },
  };
}

const ERROR_CONTENT = { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } };

/** An error response naming its codes; a route's own content (the hosted pages' HTML) is kept. */
const errorResponse = (codes: string[], content: OpenApiNode = ERROR_CONTENT) => ({
  description: describeCodes(codes),
  'x-error-codes': codes,
  content,
});

/** Each error response names its codes; a status that no code of the route leads to is left out. */
function describeErrors(operation: OpenApiNode, codes: Record<string, string[]>) {
  for (const status of Object.keys(operation.responses ?? {})) {
    if (!/^[45]\d\d$/.test(status)) continue;
    const { content } = operation.responses[status];
    if (codes[status]?.length) operation.responses[status] = errorResponse(codes[status], content);
    else delete operation.responses[status];
  }
  // A status only the common codes add is answered like the route's own errors: a hosted page
  // answers every error as a page (a bad Content-Digest on GET /card-reveal/:token is HTML too).
  const own = Object.entries<OpenApiNode>(operation.responses ?? {}).find(([status]) => /^4\d\d$/.test(status))?.[1].content;
  for (const [status, list] of Object.entries(codes)) {
    if (list.length && !operation.responses[status]) operation.responses[status] = errorResponse(list, own);
  }
  // Every route is rate-limited, public ones per client address.
  operation.responses['429'] = {
    ...errorResponse(['rate_limited'], operation.responses['429']?.content),
    headers: {
      'Retry-After': { description: 'Seconds until the limit resets.', schema: { type: 'integer', minimum: 0 } },
    },
  };
}

/** A mutation takes the Idempotency-Key and signature headers, and says when its answer is a replay. */
function documentIdempotency(operation: OpenApiNode) {
  operation.parameters = [...(operation.parameters ?? []), { $ref: '#/components/parameters/IdempotencyKey' },
    { $ref: '#/components/parameters/Signature' }, { $ref: '#/components/parameters/SignatureInput' }];
  for (const [status, response] of Object.entries<OpenApiNode>(operation.responses)) {
    if (/^2\d\d$/.test(status)) response.headers = { ...response.headers, 'Idempotent-Replayed': REPLAYED_HEADER };
  }
}

/** Every operation may ask for a response digest and send one (of empty content without a body). */
function documentDigests(operation: OpenApiNode) {
  const refs = ['ContentDigest', 'WantContentDigest'];
  operation.parameters = [...(operation.parameters ?? []), ...refs.map((name) => ({ $ref: `#/components/parameters/${name}` }))];
}

/**
 * A multipart body carries text fields and files only: its example keeps the example's scalar
 * fields (a JSON-only field such as spendControls, or a null that clears a field, is left out).
 */
function multipartExample(operation: OpenApiNode) {
  const content = operation.requestBody?.content ?? {};
  const media = content['multipart/form-data'];
  if (!media || media.example === undefined) return;
  const scalar = (value: unknown) => ['string', 'number', 'boolean'].includes(typeof value);
  const example = Object.fromEntries(Object.entries<unknown>(media.example).filter(([, value]) => scalar(value)));
  content['multipart/form-data'] = { ...media, example };
}

function finishOperation(operation: OpenApiNode) {
  describeErrors(operation, operation['x-error-codes'] ?? {});
  multipartExample(operation);
  if (operation['x-idempotent']) documentIdempotency(operation);
  documentDigests(operation);
  delete operation['x-error-codes'];
  delete operation['x-idempotent'];
  // The schemas keep `limit` and `sort` required so that handlers see them typed as present, and
  // the validator fills in their defaults; to a client, a parameter with a default is optional.
  for (const parameter of operation.parameters ?? []) {
    if (parameter.in === 'query' && parameter.schema?.default !== undefined) parameter.required = false;
  }
}

function finishDocument({ openapiObject }: { openapiObject: OpenApiNode }) {
  for (const item of Object.values<OpenApiNode>(openapiObject.paths ?? {})) {
    for (const operation of Object.values<OpenApiNode>(item)) finishOperation(operation);
  }
  openapiObject.components.parameters = {
    IdempotencyKey: IDEMPOTENCY_KEY, ContentDigest: CONTENT_DIGEST, WantContentDigest: WANT_CONTENT_DIGEST,
    ...SIGNATURE_PARAMETERS,
  };
  const webhooks = webhooksSection();
  Object.assign(openapiObject.components.schemas, webhooks.schemas);
  openapiObject.webhooks = webhooks.webhooks;
  return openapiObject;
}

export async function registerOpenApi(app: FastifyInstance) {
  app.addSchema(ErrorBody);
  app.addSchema(ListMeta);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Paygen Cards API',
        version: '0.1.0',
        description: DESCRIPTION,
        contact: { name: 'Paygen maintainers' },
        license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
      },
      // Relative, so that /docs "Try it out" calls whichever host and port served the document.
      servers: [{ url: '/', description: 'The server that serves this document' }],
      tags: TAGS.map(([name, description]) => ({ name, description })),
      components: {
        securitySchemes: {
          apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key' },
          bearer: { type: 'http', scheme: 'bearer' },
        },
      },
      security: [{ apiKey: [] }, { bearer: [] }],
    },
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`),
    },
    transform: transformRoute as never,
    transformObject: finishDocument as never,
  });
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });
}

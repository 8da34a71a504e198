// One error type for every expected failure. The error handler below turns it
// into the API envelope; anything that is not an ApiError is a bug and answers 500.
import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify';
import { plainDetails, type AjvError } from './validation-messages.ts';
import { DatabaseUnavailableError } from './db.ts';

export interface ErrorDetail {
  field?: string;
  message: string;
}

export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly details: ErrorDetail[] = [],
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const notFound = (resource: string) =>
  new ApiError(404, 'not_found', `${resource} not found.`);

export const unprocessable = (code: string, message: string, field?: string) =>
  new ApiError(422, code, message, field ? [{ field, message }] : []);

export const conflict = (code: string, message: string) => new ApiError(409, code, message);

/** A counter or accumulated amount would pass the largest value Paygen stores (money.ts, MAX_COUNTER). */
export const amountLimitExceeded = (field = 'amount') =>
  new ApiError(422, 'amount_limit_exceeded', 'An account would exceed the largest balance Paygen keeps; nothing was changed.',
    [{ field, message: 'a balance or total would pass 9007199254740991 minor units' }]);

/**
 * The CHECK constraints of migration 010 that bound counters and accumulated amounts are all
 * named `<table>_<column>_within_limit`, so one rule recognises them wherever an update hits one.
 */
const AMOUNT_LIMIT_CONSTRAINT = /_within_limit$/;

function isAmountLimitViolation(error: unknown): boolean {
  const e = error as { code?: string; constraint?: string } | null;
  return !!e && e.code === '23514' && typeof e.constraint === 'string' && AMOUNT_LIMIT_CONSTRAINT.test(e.constraint);
}

/**
 * The stable error codes, documented in the OpenAPI document. A code is added here when a
 * service starts returning it, so the catalogue cannot drift from the code.
 */
export const ERROR_CODES: Record<string, string> = {
  validation_failed: 'The request does not match the schema; `details` names each field.',
  invalid_json: 'The body is not valid JSON.',
  invalid_header: 'A header is malformed (for example Idempotency-Key).',
  unsupported_media_type: 'The Content-Type is not accepted by this route.',
  payload_too_large: 'The body or an uploaded file is larger than allowed.',
  unauthorized: 'No valid credential (x-api-key or Authorization: Bearer).',
  invalid_credentials: 'Email or password is wrong.',
  forbidden: 'The credential may not do this.',
  not_found: 'The resource does not exist or belongs to another organization.',
  route_not_found: 'No such route.',
  method_not_allowed: 'The route exists but not with this method; the Allow header lists the methods it takes.',
  invalid_url: 'The URL is malformed (a percent-encoded sequence that is not UTF-8).',
  uri_too_long: 'A path segment is longer than any id this API issues (100 characters).',
  request_timeout: 'The request (headers and body) was not received in time; the connection is closed.',
  headers_too_large: 'The request headers are larger than the server accepts.',
  content_digest_mismatch: 'The body does not match its Content-Digest (RFC 9530); nothing was done.',
  unsupported_digest_algorithm: 'Content-Digest names no supported algorithm (sha-256, sha-512); a header that checks nothing is not accepted as verified.',
  bad_request: 'The request is malformed in a way no more specific code covers.',
  not_a_session: 'Logout ends a bearer token; revoke API keys with DELETE /api-keys/:id.',
  signature_invalid: 'An RFC 9421 signature is malformed, does not verify, misses a required component or reuses a nonce.',
  signature_expired: 'The signature\'s created is outside the 300 s clock-skew window, or its expires has passed.',
  signature_required: 'The organization has a signing key with required: true, and this mutation is unsigned.',
  unknown_key: 'No live signing key of the organization has the signature\'s keyid.',
  signing_key_id_taken: 'Another live signing key of the organization has this keyId.',
  invalid_public_key: 'The public key is missing, not a PEM public key or public JWK, or a private key.',
  key_algorithm_mismatch: 'The public key is not of the algorithm\'s type (Ed25519, P-256, RSA of 2048 bits or more).',
  not_ready: 'The database is not reachable (GET /ready).',
  invalid_configuration: 'The server configuration is invalid (reported at start-up only).',
  invalid_currency: 'Not an ISO 4217 currency code.',
  account_not_found: 'An account named in the body does not exist or belongs to another organization.',
  account_closed: 'A closed account cannot change, receive or send money.',
  account_has_open_cards: 'An account closes only after the cards it funds are cancelled.',
  same_account: 'A transfer needs two different accounts.',
  program_name_taken: 'Another card program of the organization has this name.',
  bin_brand_mismatch: 'The BIN does not belong to the brand (Visa 4…, Mastercard 51–55 or 2221–2720).',
  brand_mismatch: 'The brand asked for differs from the program\'s brand.',
  program_exhausted: 'No free card number is left in the program\'s BIN range.',
  card_holder_not_found: 'The card holder named in the body does not exist or belongs to another organization.',
  budget_not_found: 'The budget named in the body does not exist or belongs to another organization.',
  weak_pin: 'The PIN is too easy to guess (repeated or sequential digits, a common PIN, a year, a birth date).',
  terms_not_accepted: 'US card holders must accept the terms and conditions and the e-disclosure.',
  rate_limited: 'Too many requests for this credential, or too many failed authentications from this client or for this account; see Retry-After.',
  idempotency_key_reused: 'The Idempotency-Key was used with a different request.',
  idempotency_key_in_use: 'A request with this Idempotency-Key is still running.',
  idempotent_response_unreadable: 'The request already ran and failed under this Idempotency-Key, but its stored answer no longer opens (the master key changed); send it with a new key.',
  invalid_amount: 'Amounts are positive integers of minor units, at most 10^12 (1000000000000) per request.',
  service_unavailable: 'The server cannot serve requests right now: its database is unreachable, or it is shutting down. Retry after Retry-After seconds with the same Idempotency-Key.',
  retry_later: 'The card or its funding account stayed busy past two lock waits; nothing was changed. Retry after Retry-After seconds.',
  amount_limit_exceeded: 'The account would exceed the largest balance Paygen keeps (2^53 − 1 minor units); nothing was changed.',
  invalid_cursor: 'The pagination cursor is malformed or belongs to another query.',
  insufficient_funds: 'The debit account cannot cover the amount.',
  currency_mismatch: 'The currencies of the resources involved differ.',
  account_not_active: 'The account is frozen or closed.',
  account_not_empty: 'An account closes only at zero balance with no open holds.',
  email_taken: 'A user with this email already exists.',
  card_holder_not_verified: 'The program requires a verified card holder.',
  kyc_documents_required: 'The card program demands KYC documents (requiredDocuments) that the card holder has not uploaded.',
  card_holder_rejected: 'The card holder failed KYC.',
  nationality_blocked: 'The program does not issue to this nationality.',
  program_inactive: 'The card program is inactive.',
  program_not_found: 'No active program matches typeId/programName or brand/currency/type.',
  card_type_not_supported: 'The program does not issue this card type.',
  name_only_issuance_not_allowed: 'The program requires a card holder.',
  invalid_multipart: 'The multipart/form-data body is malformed (for example, no boundary).',
  invalid_file: 'The uploaded file is empty or not an allowed type.',
  invalid_status_transition: 'The card\'s status does not allow this action (see the status machine).',
  invalid_shipping_transition: 'The shipping step does not follow from the current shipping status.',
  not_physical: 'Only physical cards ship and get delivered.',
  card_closed: 'The card is cancelled, expired or rejected; it cannot change or move money.',
  budget_card: 'A budget card has no balance of its own.',
  card_already_replaced: 'The card was already replaced.',
  internal_error: 'An unexpected error; nothing was changed.',
  unsupported_file_type: 'An uploaded file is not JPEG, PNG or PDF by its content, or its declared type contradicts its content.',
  card_holder_underage: 'The card holder is younger than 18 (from dateOfBirth).',
  too_many_documents: 'A card holder keeps at most 20 documents.',
  card_not_usable: 'The card\'s status does not allow this: a cancelled, expired or rejected card takes no PIN, a card enters a wallet only once issued and before it ends, and a card reveals its details only when issued, digital, active or locked.',
  invalid_origin: 'allowedOrigin must be an origin (scheme, host, optional port; no path): https, or http only for localhost and 127.0.0.1.',
  reveal_token_used: 'The reveal link was already used (by the page or its JSON): each works once; ask for a new one.',
  reveal_token_expired: 'The reveal link outlived its ttlSeconds; ask for a new one.',
  too_many_tokenizations: 'A card has at most 20 wallet tokenizations.',
  budget_closed: 'The budget is closed: it cannot change, and no card can be issued against it or spend from it.',
  unknown_event_type: 'An event type is not in the catalog (GET /events/catalog); use ["*"] for every type.',
  invalid_webhook_url: 'A webhook url must be an absolute http or https URL without credentials.',
  webhook_url_not_allowed: 'The webhook url points at a private, loopback or link-local address, refused unless PAYGEN_WEBHOOK_ALLOW_PRIVATE=true.',
  too_many_webhooks: 'An organization has at most 16 webhook endpoints.',
  webhook_disabled: 'The webhook endpoint is disabled: enable it before sending a test, a resend or a replay to it.',
  webhook_not_found: 'The webhook named in the body does not exist or belongs to another organization.',
  invalid_replay_window: 'A replay\'s since must not be in the future.',
  replay_too_large: 'A replay sends at most 10,000 events: choose a later since.',
  authorization_not_pending: 'The authorization is no longer pending (captured, reversed, expired or declined): it cannot be incremented, reversed or expired.',
  authorization_not_capturable: 'Only a pending or expired authorization can be captured; a closed, reversed or declined one cannot.',
  amount_exceeds_hold: 'A reversal cannot release more than the authorization holds.',
  too_many_steps: 'An authorization keeps at most 100 history entries.',
  transaction_not_refundable: 'transactionId must be a capture or force capture of the same card.',
  refund_exceeds_transaction: 'The refunds of a transaction, with what won disputes credited for it, cannot total more than its amount.',
  transaction_not_disputable: 'Only a capture or force capture can be disputed; a refund cannot.',
  dispute_window_closed: 'A transaction can be disputed up to 120 days after it cleared.',
  dispute_already_open: 'The transaction already has an open (unsubmitted or submitted) dispute.',
  dispute_exceeds_transaction: 'The disputed amount is more than the transaction amount less its refunds and won dispute credits.',
  too_many_disputes: 'A transaction can be disputed at most 5 times in all.',
  dispute_already_submitted: 'Evidence changes and submission happen only while the dispute is unsubmitted.',
  dispute_not_submitted: 'Only a submitted dispute can be resolved (won or lost).',
  too_many_evidence_files: 'A dispute keeps at most 20 evidence files.',
  budget_account_mismatch: 'A budget card is funded by the budget\'s own account: debitAccountId must be the budget\'s accountId.',
};

// ---------------------------------------------------------------------------------------------
// The single error handler: every error, from validation to a bug, leaves in the envelope.

/** Fastify and plugin error codes for bad input, mapped to our stable codes. */
const FRAMEWORK_CODES: Record<string, [number, string]> = {
  FST_ERR_CTP_INVALID_JSON_BODY: [400, 'invalid_json'],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'invalid_json'],
  FST_ERR_CTP_BODY_TOO_LARGE: [413, 'payload_too_large'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'unsupported_media_type'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, 'invalid_header'],
  FST_REQ_FILE_TOO_LARGE: [413, 'payload_too_large'],
  FST_FILES_LIMIT: [413, 'payload_too_large'],
  FST_FIELDS_LIMIT: [413, 'payload_too_large'],
  FST_PARTS_LIMIT: [413, 'payload_too_large'],
  FST_INVALID_MULTIPART_CONTENT_TYPE: [415, 'unsupported_media_type'],
  FST_PROTO_VIOLATION: [400, 'invalid_json'],
  FST_ERR_VALIDATION: [422, 'validation_failed'],
};

/** Amount fields: `amount` wherever it is nested (spend-control limits) and `initialBalance`. */
const AMOUNT_FIELD = /(^|\.)(amount|initialBalance)$/;

/**
 * A 422 naming every wrong field in plain words. It is `invalid_amount` only when every wrong
 * field is an amount: a bad amount next to a bad currency is `validation_failed`, so a client
 * that reacts to invalid_amount is not misled about what else is wrong.
 */
function validationError(error: FastifyError): ApiError {
  const context = (error as { validationContext?: string }).validationContext;
  const details = plainDetails(error.validation as AjvError[], context);
  if (details.length > 0 && details.every((d) => AMOUNT_FIELD.test(d.field ?? ''))) {
    return new ApiError(422, 'invalid_amount', `Amounts are positive integers of minor units, at most 10^12 per request: ${details[0].message}.`, details);
  }
  const where = context === 'querystring' ? 'query string' : context ?? 'request';
  return new ApiError(422, 'validation_failed', `The ${where} is invalid: ${details[0]?.message ?? 'see details'}.`, details);
}

/**
 * PostgreSQL data exceptions (SQLSTATE class 22) that only a value sent by the client can cause.
 * The input checks refuse these values first; this is the safety net, logged at warn.
 */
const INPUT_DATA_EXCEPTIONS: Record<string, string> = {
  '22001': 'A value is longer than can be stored.',
  '22003': 'A number is out of the range that can be stored.',
  '22008': 'A date or time is out of the range that can be stored (years 0001 to 9999).',
  '22021': 'A value contains a character that cannot be stored (for example NUL).',
  '22P05': 'A value contains a character that cannot be stored.',
};

export const isInputDataException = (error: unknown) =>
  typeof (error as { code?: unknown })?.code === 'string' && Object.hasOwn(INPUT_DATA_EXCEPTIONS, (error as { code: string }).code);

/** Seconds a client waits before retrying after a 503 service_unavailable. */
export const SERVICE_UNAVAILABLE_RETRY_AFTER_SECONDS = 1;

export function serviceUnavailable(message: string): ApiError {
  return new ApiError(503, 'service_unavailable', message, [],
    { 'retry-after': String(SERVICE_UNAVAILABLE_RETRY_AFTER_SECONDS) });
}

export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof DatabaseUnavailableError) {
    return serviceUnavailable('The database is unreachable; retry shortly with the same Idempotency-Key.');
  }
  const e = error as FastifyError;
  if (e && Array.isArray(e.validation)) return validationError(e);
  // The database refused a counter past its bound: the transaction rolled back, nothing changed.
  if (isAmountLimitViolation(error)) return amountLimitExceeded();
  if (isInputDataException(e)) return new ApiError(422, 'validation_failed', INPUT_DATA_EXCEPTIONS[e.code]);
  const mapped = e?.code ? FRAMEWORK_CODES[e.code] : undefined;
  if (mapped) return new ApiError(mapped[0], mapped[1], e.message);
  if (e instanceof SyntaxError && e.statusCode === 400) return new ApiError(400, 'invalid_json', 'The body is not valid JSON.');
  const status = e?.statusCode;
  if (status && status >= 400 && status < 500) {
    return new ApiError(status, status === 413 ? 'payload_too_large' : 'bad_request', e.message);
  }
  return new ApiError(500, 'internal_error', 'An unexpected error occurred; nothing was changed.');
}

export function errorBody(error: ApiError, request: FastifyRequest) {
  return {
    statusCode: error.statusCode,
    message: error.message,
    data: null,
    error: { code: error.code, details: error.details },
    requestId: String(request.id),
  };
}

/** What made a 503: the underlying error's message and code, else the answer's own message. */
function causeOf(error: unknown): { message: string; code?: string } {
  const cause = (error as { cause?: unknown }).cause ?? error;
  const { message, code } = (cause ?? {}) as { message?: unknown; code?: unknown };
  return { message: String(message ?? cause), ...(typeof code === 'string' ? { code } : {}) };
}

/** `routes` tells a wrong method on a known path (405 with Allow) from an unknown path (404). */
export function registerErrorHandling(app: FastifyInstance, routes?: { allowedMethods(url: string): string[] }) {
  app.setErrorHandler((error, request, reply) => {
    const apiError = toApiError(error);
    // A 503 is an expected answer to a condition outside the request (a lost lock wait, an
    // unreachable database, a shutdown): a warning naming the cause, not a bug.
    if (apiError.statusCode === 503) request.log.warn({ code: apiError.code, cause: causeOf(error) }, `answered 503 ${apiError.code}`);
    else if (apiError.statusCode >= 500) request.log.error({ err: error }, 'unhandled error');
    else if (isInputDataException(error)) request.log.warn({ err: error }, 'the database refused a value the input checks let through');
    for (const [name, value] of Object.entries(apiError.headers)) reply.header(name, value);
    return reply.code(apiError.statusCode).send(errorBody(apiError, request));
  });
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0];
    const allowed = routes?.allowedMethods(request.url) ?? [];
    const error = allowed.length > 0
      ? new ApiError(405, 'method_not_allowed', `${request.method} is not allowed on ${path}; use ${allowed.join(', ')}.`, [], { allow: allowed.join(', ') })
      : new ApiError(404, 'route_not_found', `Route ${request.method} ${path} not found.`);
    for (const [name, value] of Object.entries(error.headers)) reply.header(name, value);
    return reply.code(error.statusCode).send(errorBody(error, request));
  });
}

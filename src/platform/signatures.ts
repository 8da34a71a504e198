// HTTP Message Signatures (RFC 9421) on requests. The pure part (parse the two headers, build the
// signature base of §2.5, check the bytes with node:crypto) is separate from the policy (which
// components must be covered, the clock window, nonces) so that the RFC's test vectors can be
// checked against the first alone. Keys belong to an organization, so the hook runs after
// authentication; content-digest is compared with the body elsewhere (content-digest.ts): here
// a request with a body only has to cover the field.
import { constants, createHmac, timingSafeEqual, verify, type KeyObject } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  isInnerList, parseDictionary, serializeInnerList, type InnerList, type Item, type Parameters,
} from 'structured-headers';
import { ApiError } from './errors.ts';

export const SIGNATURE_ALGORITHMS = ['ed25519', 'ecdsa-p256-sha256', 'rsa-pss-sha512', 'hmac-sha256'] as const;
export type SignatureAlgorithm = typeof SIGNATURE_ALGORITHMS[number];

/** How far `created` may be from the server's clock, either way. */
export const SIGNATURE_CLOCK_SKEW_SECONDS = 300;
/** Signatures one request may carry; each costs a key lookup and a verification. */
export const MAX_SIGNATURES_PER_REQUEST = 4;
/** Covered components one signature may list. */
export const MAX_COVERED_COMPONENTS = 32;
/** Longest nonce remembered (it is stored until its signature leaves the window). */
export const MAX_NONCE_LENGTH = 128;
/** RSA-PSS salt length for rsa-pss-sha512 (RFC 9421 §3.3.1: the digest's length). */
const RSA_PSS_SALT_BYTES = 64;

export type SignatureCode = 'signature_invalid' | 'signature_expired' | 'signature_required' | 'unknown_key';

export class SignatureError extends Error {
  constructor(readonly code: SignatureCode, message: string) {
    super(message);
  }
}

const invalid = (message: string) => new SignatureError('signature_invalid', message);

/** A request as the signer saw it. `query` keeps its leading `?` and is '' when there is none. */
export interface SignedRequest {
  method: string;
  scheme: string;
  authority: string;
  path: string;
  query: string;
  /** Field lines in the order received; repeated names are combined in order. */
  headers: Array<[string, string]>;
}

export interface ParsedSignature {
  label: string;
  components: Item[];
  params: Parameters;
  /** The serialized inner list: the value of the `@signature-params` line. */
  paramsText: string;
  signature: Buffer;
}

/** A verification key: a public key, or the raw bytes of an hmac-sha256 secret. */
export type VerificationKey =
  | { algorithm: Exclude<SignatureAlgorithm, 'hmac-sha256'>; publicKey: KeyObject }
  | { algorithm: 'hmac-sha256'; secret: Buffer };

function parseDictionarySafely(name: string, value: string) {
  try {
    return parseDictionary(value);
  } catch {
    throw invalid(`The ${name} header is not a valid structured-field dictionary.`);
  }
}

/** Both headers, every label of Signature-Input matched with its Signature. */
export function parseSignatureHeaders(signatureInput: string, signature: string): ParsedSignature[] {
  const inputs = parseDictionarySafely('Signature-Input', signatureInput);
  const signatures = parseDictionarySafely('Signature', signature);
  if (inputs.size === 0) throw invalid('Signature-Input names no signature.');
  if (inputs.size > MAX_SIGNATURES_PER_REQUEST) throw invalid(`At most ${MAX_SIGNATURES_PER_REQUEST} signatures per request.`);
  return [...inputs].map(([label, member]) => {
    if (!isInnerList(member)) throw invalid(`Signature-Input ${label} is not an inner list.`);
    const [items, params] = member as InnerList;
    if (items.length > MAX_COVERED_COMPONENTS) throw invalid(`At most ${MAX_COVERED_COMPONENTS} covered components.`);
    const bytes = signatures.get(label);
    if (!bytes || isInnerList(bytes) || !(bytes[0] instanceof ArrayBuffer)) {
      throw invalid(`The Signature header has no byte sequence for ${label}.`);
    }
    for (const [name] of items) if (typeof name !== 'string') throw invalid('Covered components are strings.');
    return { label, components: items, params, paramsText: serializeInnerList(member as InnerList), signature: Buffer.from(bytes[0]) };
  });
}

/** RFC 9421 §2.2.8: the value of one query parameter, decoded then percent-encoded again. */
function queryParam(request: SignedRequest, params: Parameters): string {
  const name = params.get('name');
  if (typeof name !== 'string') throw invalid('"@query-param" needs a name parameter.');
  const values = new URLSearchParams(request.query).getAll(name);
  if (values.length !== 1) throw invalid(`"@query-param" ${name} must occur exactly once.`);
  return encodeURIComponent(values[0]);
}

function derivedComponent(request: SignedRequest, name: string, params: Parameters): string {
  switch (name) {
    case '@method': return request.method.toUpperCase();
    case '@target-uri': return `${request.scheme}://${request.authority}${request.path}${request.query}`;
    case '@authority': return request.authority.toLowerCase();
    case '@scheme': return request.scheme.toLowerCase();
    case '@path': return request.path;
    case '@query': return request.query === '' ? '?' : request.query;
    case '@request-target': return `${request.path}${request.query}`;
    case '@query-param': return queryParam(request, params);
    default: throw invalid(`The derived component ${name} is not supported on requests.`);
  }
}

/** §2.1: every line of the field, values trimmed, joined with ", " in the order received. */
function fieldValue(request: SignedRequest, name: string): string {
  const values = request.headers.filter(([n]) => n.toLowerCase() === name).map(([, v]) => v.trim());
  if (values.length === 0) throw invalid(`The covered field ${name} is not in the request.`);
  return values.join(', ');
}

function componentLine(request: SignedRequest, [name, params]: Item): string {
  const text = name as string;
  if (text !== text.toLowerCase()) throw invalid(`Component names are lower case (${text}).`);
  const allowed = text === '@query-param' ? ['name'] : [];
  const unsupported = [...params.keys()].filter((key) => !allowed.includes(key));
  // ;sf, ;key, ;bs and ;req change how a value is read; none is supported, so none is guessed at.
  if (unsupported.length) throw invalid(`The component parameter ;${unsupported[0]} is not supported.`);
  const value = text.startsWith('@') ? derivedComponent(request, text, params) : fieldValue(request, text);
  const paramText = text === '@query-param' ? `;name=${JSON.stringify(params.get('name'))}` : '';
  return `${JSON.stringify(text)}${paramText}: ${value}`;
}

/** RFC 9421 §2.5: one line per covered component, then the @signature-params line. */
export function signatureBase(request: SignedRequest, signature: Pick<ParsedSignature, 'components' | 'paramsText'>): string {
  const seen = new Set<string>();
  const lines = signature.components.map((item) => {
    const line = componentLine(request, item);
    const identity = line.slice(0, line.indexOf(': '));
    if (seen.has(identity)) throw invalid(`The component ${identity} is covered twice.`);
    seen.add(identity);
    return line;
  });
  return [...lines, `"@signature-params": ${signature.paramsText}`].join('\n');
}

/** Checks the signature bytes over the base with the key's algorithm. */
export function verifyBytes(key: VerificationKey, base: string, signature: Buffer): boolean {
  const data = Buffer.from(base, 'ascii');
  switch (key.algorithm) {
    case 'ed25519': return verify(null, data, key.publicKey, signature);
    case 'ecdsa-p256-sha256': return verify('sha256', data, { key: key.publicKey, dsaEncoding: 'ieee-p1363' }, signature);
    case 'rsa-pss-sha512': return verify('sha512', data, {
      key: key.publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: RSA_PSS_SALT_BYTES,
    }, signature);
    case 'hmac-sha256': {
      const expected = createHmac('sha256', key.secret).update(data).digest();
      return expected.length === signature.length && timingSafeEqual(expected, signature);
    }
  }
}

/** Refuses an `alg` parameter that names another algorithm than the key's (RFC 9421 §3.2). */
export function checkAlgParameter(signature: ParsedSignature, key: VerificationKey) {
  const alg = signature.params.get('alg');
  if (alg !== undefined && alg !== key.algorithm) {
    throw invalid(`The alg parameter ${String(alg)} does not match the key's algorithm ${key.algorithm}.`);
  }
}

const covers = (signature: ParsedSignature, name: string) => signature.components.some(([n]) => n === name);

/** What Paygen requires of every signature beyond its bytes: coverage and freshness. */
export function checkPolicy(signature: ParsedSignature, request: SignedRequest, hasBody: boolean, now: Date) {
  const targetCovered = covers(signature, '@target-uri') ||
    (covers(signature, '@authority') && covers(signature, '@path') && (request.query === '' || covers(signature, '@query')));
  if (!covers(signature, '@method') || !targetCovered) {
    throw invalid('A signature must cover "@method" and "@target-uri" (or "@authority", "@path" and "@query").');
  }
  if (hasBody && !covers(signature, 'content-digest')) throw invalid('A request with a body must sign "content-digest".');
  const created = signature.params.get('created');
  if (typeof created !== 'number' || !Number.isInteger(created)) throw invalid('The created parameter is required.');
  const nowSeconds = Math.floor(now.getTime() / 1000);
  if (Math.abs(nowSeconds - created) > SIGNATURE_CLOCK_SKEW_SECONDS) {
    throw new SignatureError('signature_expired', `created is more than ${SIGNATURE_CLOCK_SKEW_SECONDS} s from the server's clock.`);
  }
  const expires = signature.params.get('expires');
  if (expires !== undefined && (typeof expires !== 'number' || expires <= nowSeconds)) {
    throw new SignatureError('signature_expired', 'The signature has expired.');
  }
  const nonce = signature.params.get('nonce');
  if (nonce !== undefined && (typeof nonce !== 'string' || nonce.length === 0 || nonce.length > MAX_NONCE_LENGTH)) {
    throw invalid(`The nonce must be a string of 1 to ${MAX_NONCE_LENGTH} characters.`);
  }
}

/** The key parameter as a string; the lookup itself belongs to the caller. */
export function keyIdOf(signature: ParsedSignature): string {
  const keyid = signature.params.get('keyid');
  if (typeof keyid !== 'string' || keyid.length === 0) throw invalid('The keyid parameter is required.');
  return keyid;
}

/** What the hook needs from the signing-keys module. */
export interface SignatureStore {
  /** The organization's live key with this keyid, with the id nonces are filed under. */
  findKey(organizationId: string, keyId: string): Promise<{ id: string; key: VerificationKey } | null>;
  /** Records the nonce; false when it was already used within the window. */
  rememberNonce(organizationId: string, signingKeyId: string, nonce: string, expiresAt: Date): Promise<boolean>;
}

/** The request as the client addressed it: scheme + Host + path + query. */
export function signedRequestOf(request: FastifyRequest): SignedRequest {
  const url = request.url;
  const at = url.indexOf('?');
  const raw = request.raw.rawHeaders;
  const headers: Array<[string, string]> = [];
  for (let i = 0; i + 1 < raw.length; i += 2) headers.push([raw[i], raw[i + 1]]);
  return {
    method: request.method, scheme: request.protocol, authority: request.host.toLowerCase(),
    path: at === -1 ? url : url.slice(0, at), query: at === -1 ? '' : url.slice(at), headers,
  };
}

const hasBody = (request: FastifyRequest) =>
  Number(request.headers['content-length'] ?? 0) > 0 || request.headers['transfer-encoding'] !== undefined;

/** Methods that change nothing: allowed unsigned even when an organization requires signatures. */
const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

const headerText = (value: string | string[] | undefined) => (Array.isArray(value) ? value.join(', ') : value);

async function verifyOne(store: SignatureStore, organizationId: string, request: SignedRequest, signature: ParsedSignature,
  body: boolean, now: Date) {
  checkPolicy(signature, request, body, now);
  const found = await store.findKey(organizationId, keyIdOf(signature));
  if (!found) throw new SignatureError('unknown_key', `No signing key of this organization has keyid ${keyIdOf(signature)}.`);
  checkAlgParameter(signature, found.key);
  if (!verifyBytes(found.key, signatureBase(request, signature), signature.signature)) {
    throw invalid(`Signature ${signature.label} does not verify.`);
  }
  const nonce = signature.params.get('nonce');
  if (typeof nonce === 'string') {
    const created = signature.params.get('created') as number;
    const expiresAt = new Date((created + SIGNATURE_CLOCK_SKEW_SECONDS) * 1000);
    if (!(await store.rememberNonce(organizationId, found.id, nonce, expiresAt))) {
      throw invalid('This nonce was already used: a signed request is accepted once.');
    }
  }
}

/**
 * Verifies every signature a request carries (all of them must verify), and refuses an unsigned
 * mutation when the organization requires signatures. Public routes have no organization to
 * take keys from, so they are not checked.
 */
export function registerSignatureVerification(app: FastifyInstance, store: SignatureStore, now: () => Date) {
  // preParsing: after authentication (onRequest) and the rate limit (preParsing, registered before),
  // and before the body is read, which a refused request does not need.
  app.addHook('preParsing', async (request, _reply, payload) => {
    await verifyRequest(request);
    return payload;
  });
  async function verifyRequest(request: FastifyRequest) {
    const principal = request.principal;
    if (!principal) return;
    const input = headerText(request.headers['signature-input']);
    const signature = headerText(request.headers.signature);
    try {
      if (input === undefined && signature === undefined) {
        if (!READ_METHODS.has(request.method) && principal.signaturesRequired) {
          throw new SignatureError('signature_required', 'This organization requires signed requests (RFC 9421) for every change.');
        }
        return;
      }
      if (input === undefined || signature === undefined) throw invalid('Signature and Signature-Input come together.');
      const signed = signedRequestOf(request);
      for (const parsed of parseSignatureHeaders(input, signature)) {
        await verifyOne(store, principal.organizationId, signed, parsed, hasBody(request), now());
      }
    } catch (error) {
      if (error instanceof SignatureError) throw new ApiError(401, error.code, error.message);
      throw error;
    }
  }
}

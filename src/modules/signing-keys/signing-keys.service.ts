// Signing keys: the public keys (or hmac-sha256 shared secrets) that verify RFC 9421 signatures of
// an organization's requests. Public keys are parsed by node:crypto and must be of the algorithm's
// type; a shared secret is made here, sealed by the vault at rest and shown once.
import { createPublicKey, randomBytes, type KeyObject } from 'node:crypto';
import type { Ctx } from '../../platform/context.ts';
import { ApiError, notFound, unprocessable } from '../../platform/errors.ts';
import { newId } from '../../platform/ids.ts';
import type { ListQuery } from '../../platform/pagination.ts';
import { recordEvent } from '../events/events.service.ts';
import type { SignatureAlgorithm, SignatureStore, VerificationKey } from '../../platform/signatures.ts';
import * as repo from './signing-keys.repo.ts';
import type { CreateSigningKeyBody, SigningKey } from './signing-keys.schemas.ts';

/** Bytes of a generated hmac-sha256 secret: the hash's block of security. */
export const HMAC_SECRET_BYTES = 32;
/** RSA moduli shorter than this are refused (NIST SP 800-57: 2048 bits until 2030). */
export const MIN_RSA_MODULUS_BITS = 2048;

/** The vault seals each secret with its key's id as context, so a copied ciphertext does not open elsewhere. */
const sealContext = (id: string) => `signing-key:${id}`;

export function present(row: repo.SigningKeyRow): SigningKey {
  return {
    id: row.id, keyId: row.key_id, algorithm: row.algorithm, publicKeyPem: row.public_key_pem,
    required: row.required, createdAt: row.created_at.toISOString(),
  };
}

function parsePublicKey(input: string | Record<string, unknown>): KeyObject {
  const isPrivate = typeof input === 'string' ? input.includes('PRIVATE KEY') : 'd' in input;
  if (isPrivate) throw unprocessable('invalid_public_key', 'Send the public key only; Paygen never takes a private key.', 'publicKey');
  try {
    return typeof input === 'string' ? createPublicKey(input) : createPublicKey({ key: input as never, format: 'jwk' });
  } catch {
    throw unprocessable('invalid_public_key', 'The public key is neither a PEM public key nor a public JWK.', 'publicKey');
  }
}

/** Whether the key is of the type the algorithm signs with. */
function fitsAlgorithm(key: KeyObject, algorithm: SignatureAlgorithm): boolean {
  const details = key.asymmetricKeyDetails ?? {};
  switch (algorithm) {
    case 'ed25519': return key.asymmetricKeyType === 'ed25519';
    case 'ecdsa-p256-sha256': return key.asymmetricKeyType === 'ec' && details.namedCurve === 'prime256v1';
    case 'rsa-pss-sha512': return (key.asymmetricKeyType === 'rsa' || key.asymmetricKeyType === 'rsa-pss') &&
      (details.modulusLength ?? 0) >= MIN_RSA_MODULUS_BITS;
    case 'hmac-sha256': return false;
  }
}

function checkedPublicKey(body: CreateSigningKeyBody): string {
  if (body.publicKey === undefined) throw unprocessable('invalid_public_key', `${body.algorithm} needs a publicKey.`, 'publicKey');
  const key = parsePublicKey(body.publicKey as string | Record<string, unknown>);
  if (!fitsAlgorithm(key, body.algorithm)) {
    throw unprocessable('key_algorithm_mismatch', `The key is not a ${body.algorithm} key` +
      (body.algorithm === 'rsa-pss-sha512' ? ` (an RSA key of at least ${MIN_RSA_MODULUS_BITS} bits).` : '.'), 'publicKey');
  }
  return key.export({ type: 'spki', format: 'pem' }) as string;
}

export async function createKey(ctx: Ctx, organizationId: string, body: CreateSigningKeyBody) {
  const id = newId('sgk');
  const hmac = body.algorithm === 'hmac-sha256';
  if (hmac && body.publicKey !== undefined) {
    throw unprocessable('invalid_public_key', 'hmac-sha256 takes no publicKey: Paygen generates the shared secret.', 'publicKey');
  }
  const secret = hmac ? randomBytes(HMAC_SECRET_BYTES).toString('base64') : null;
  const row = {
    id, organization_id: organizationId, key_id: body.keyId, algorithm: body.algorithm,
    public_key_pem: hmac ? null : checkedPublicKey(body),
    secret_sealed: secret === null ? null : ctx.vault.seal(secret, sealContext(id)),
    required: body.required ?? false, created_at: ctx.clock.now(),
  };
  const key = present({ ...row, deleted_at: null });
  await ctx.db.transaction(async (tx) => {
    if (!(await repo.insertKey(tx, row))) {
      throw new ApiError(409, 'signing_key_id_taken', `A signing key with keyId ${body.keyId} already exists.`);
    }
    await recordEvent(tx, { organizationId, type: 'signing_key.created', resourceId: id, data: key, at: row.created_at });
  });
  // A required key binds this process's next request at once; other processes hear the trigger.
  ctx.credentials?.invalidate(organizationId);
  return { ...key, secret };
}

export async function listKeys(ctx: Ctx, organizationId: string, query: ListQuery) {
  const page = await repo.listKeys(ctx.db, organizationId, query);
  return { data: page.rows.map(present), meta: page.meta };
}

export async function getKey(ctx: Ctx, organizationId: string, id: string) {
  const row = await repo.findKey(ctx.db, organizationId, id);
  if (!row) throw notFound('Signing key');
  return present(row);
}

export async function deleteKey(ctx: Ctx, organizationId: string, id: string) {
  const now = ctx.clock.now();
  const deleted = await ctx.db.transaction(async (tx) => {
    const row = await repo.markDeleted(tx, organizationId, id, now);
    if (!row) throw notFound('Signing key');
    await recordEvent(tx, { organizationId, type: 'signing_key.deleted', resourceId: id, data: present(row), at: now });
    return present(row);
  });
  ctx.credentials?.invalidate(organizationId);
  return deleted;
}

function verificationKey(ctx: Ctx, row: repo.SigningKeyRow): VerificationKey {
  if (row.algorithm === 'hmac-sha256') {
    return { algorithm: 'hmac-sha256', secret: Buffer.from(ctx.vault.open(row.secret_sealed!, sealContext(row.id)), 'base64') };
  }
  return { algorithm: row.algorithm as Exclude<SignatureAlgorithm, 'hmac-sha256'>, publicKey: createPublicKey(row.public_key_pem!) };
}

/** The lookups the signature hook (src/platform/signatures.ts) needs. */
export function signatureStore(ctx: Ctx): SignatureStore {
  return {
    async findKey(organizationId, keyId) {
      const row = await repo.findByKeyId(ctx.db, organizationId, keyId);
      return row ? { id: row.id, key: verificationKey(ctx, row) } : null;
    },
    rememberNonce: (organizationId, signingKeyId, nonce, expiresAt) =>
      repo.rememberNonce(ctx.db, organizationId, signingKeyId, nonce, expiresAt, ctx.clock.now()),
  };
}

// Organizations, users and credentials: signup/login, API keys (stored as keyed hashes, shown
// once), bearer tokens (sessions and short-lived ephemeral tokens), and the sandbox bootstrap.
import type { Ctx, Principal } from '../../platform/context.ts';
import type { Queryable } from '../../platform/db.ts';
import { ApiError, notFound } from '../../platform/errors.ts';
import { isUnrestricted, scopeResources, scopesWithin, unknownScopes } from '../../platform/auth.ts';
import { hashPassword, randomToken, verifyPassword } from '../../platform/crypto.ts';
import { newId } from '../../platform/ids.ts';
import { InvalidatedCache } from '../../platform/invalidated-cache.ts';
import type { ListQuery } from '../../platform/pagination.ts';
import { createDefaultPrograms } from '../card-programs/card-programs.service.ts';
import { recordEvent } from '../events/events.service.ts';
import * as repo from './organizations.repo.ts';
import { SESSION_TTL_SECONDS, type ApiKeyBody, type LoginBody, type SignupBody, type TokenBody } from './organizations.schemas.ts';

const API_KEY_PREFIX = 'sk_sbx_';
const TOKEN_PREFIX = 'pgt_';
const SHOWN_PREFIX_LENGTH = API_KEY_PREFIX.length + 4;
/** Tokens made from tokens made from tokens…: a bound on the chain a revocation walks. */
export const MAX_TOKEN_CHAIN_DEPTH = 8;

const iso = (d: Date) => d.toISOString();
const presentOrganization = (o: repo.OrganizationRow) => ({ id: o.id, name: o.name, createdAt: iso(o.created_at) });
const presentUser = (u: repo.UserRow) => ({ id: u.id, email: u.email, organizationId: u.organization_id, createdAt: iso(u.created_at) });
export const presentApiKey = (k: repo.ApiKeyRow) => ({
  id: k.id, name: k.name, prefix: k.prefix, lastFour: k.last_four, scopes: k.scopes, createdAt: iso(k.created_at),
  revokedAt: k.revoked_at ? iso(k.revoked_at) : null,
});

/** A new organization comes with its default card programs (API.md "Card programs"). */
export async function createOrganization(tx: Queryable, name: string, at: Date) {
  const row = { id: newId('org', at.getTime()), name, created_at: at };
  await repo.insertOrganization(tx, row);
  await createDefaultPrograms(tx, row.id, at);
  return row;
}

interface NewToken {
  organizationId: string;
  userId: string | null;
  apiKeyId: string | null;
  kind: 'session' | 'ephemeral';
  scopes: string[];
  ttlSeconds: number;
  parent?: repo.TokenRow;
}

async function issueToken(tx: Queryable, ctx: Ctx, t: NewToken) {
  const now = ctx.clock.now();
  const token = TOKEN_PREFIX + randomToken(32);
  const expiresAt = new Date(now.getTime() + t.ttlSeconds * 1000);
  await repo.insertToken(tx, {
    id: newId('tok', now.getTime()), organization_id: t.organizationId, user_id: t.userId, api_key_id: t.apiKeyId,
    kind: t.kind, scopes: t.scopes, expires_at: expiresAt, token_hash: ctx.vault.hash('credential-hash', token), created_at: now,
    parent_token_id: t.parent?.id ?? null, chain_depth: t.parent ? t.parent.chain_depth + 1 : 0,
  });
  return { token, expiresAt: iso(expiresAt), scopes: t.scopes };
}

export async function signup(ctx: Ctx, body: SignupBody) {
  const passwordHash = await hashPassword(body.password);
  return ctx.db.transaction(async (tx) => {
    const now = ctx.clock.now();
    const organization = await createOrganization(tx, body.organizationName, now);
    const user = { id: newId('usr', now.getTime()), organization_id: organization.id, email: body.email, password_hash: passwordHash, created_at: now };
    if (!(await repo.insertUser(tx, user))) {
      throw new ApiError(409, 'email_taken', 'A user with this email already exists.', [{ field: 'email', message: 'already registered' }]);
    }
    const session = await issueToken(tx, ctx, { organizationId: organization.id, userId: user.id, apiKeyId: null, kind: 'session', scopes: [], ttlSeconds: SESSION_TTL_SECONDS });
    return { user: presentUser(user), organization: presentOrganization(organization), token: session.token, expiresAt: session.expiresAt };
  });
}

export async function login(ctx: Ctx, body: LoginBody) {
  const user = await repo.findUserByEmail(ctx.db, body.email);
  // Verify against a dummy hash when the user is unknown, so timing does not reveal emails.
  const ok = await verifyPassword(body.password, user?.password_hash ?? DUMMY_HASH);
  if (!user || !ok) throw new ApiError(401, 'invalid_credentials', 'Email or password is wrong.');
  const organization = await repo.findOrganization(ctx.db, user.organization_id);
  const session = await ctx.db.transaction((tx) =>
    issueToken(tx, ctx, { organizationId: user.organization_id, userId: user.id, apiKeyId: null, kind: 'session', scopes: [], ttlSeconds: SESSION_TTL_SECONDS }));
  return { user: presentUser(user), organization: presentOrganization(organization), token: session.token, expiresAt: session.expiresAt };
}
const DUMMY_HASH = 'scrypt$16384$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';

export async function logout(ctx: Ctx, principal: Principal) {
  if (principal.credentialType === 'api_key') {
    throw new ApiError(422, 'not_a_session', 'Logout ends a bearer token; revoke API keys with DELETE /api-keys/:id.');
  }
  const root = { tokenId: principal.credentialId };
  await repo.revokeTokenTree(ctx.db, principal.organizationId, root, ctx.clock.now());
  return { loggedOut: true };
}

export async function me(ctx: Ctx, principal: Principal) {
  const organization = await repo.findOrganization(ctx.db, principal.organizationId);
  const user = principal.userId ? await repo.findUser(ctx.db, principal.userId) : undefined;
  return {
    organization: presentOrganization(organization),
    user: user ? presentUser(user) : null,
    credential: { type: principal.credentialType, id: principal.credentialId, scopes: principal.scopes },
  };
}

/**
 * Refuses scopes naming no resource of the API (a typo would make a credential that can do
 * nothing), and scopes the caller does not hold itself: a credential never hands on more than it
 * has, and only an unrestricted one makes an unrestricted key or token (`wanted` empty).
 */
function assertMayGrant(principal: Principal, wanted: string[], what: 'token' | 'API key') {
  const unknown = unknownScopes(wanted);
  if (unknown.length) {
    const known = scopeResources().join(', ');
    throw new ApiError(422, 'validation_failed', `Unknown scope resource in ${unknown.join(', ')}; scopes name one of: ${known}.`,
      unknown.map((scope) => ({ field: 'scopes', message: `${scope} names no resource of the API` })));
  }
  if (scopesWithin(principal.scopes, wanted)) return;
  if (isUnrestricted(wanted)) {
    const own = principal.scopes.join(', ');
    throw new ApiError(403, 'forbidden', `A scoped credential may not create an unrestricted ${what}; pass scopes within its own (${own}).`);
  }
  const wider = wanted.filter((scope) => !scopesWithin(principal.scopes, [scope]));
  throw new ApiError(403, 'forbidden', `A ${what} may not grant scopes its creator lacks: ${wider.join(', ')}.`);
}

/** The token that calls, when the caller is a token: the parent of what it makes. */
async function callingToken(tx: Queryable, principal: Principal) {
  if (principal.credentialType === 'api_key') return undefined;
  const parent = await repo.findToken(tx, principal.organizationId, principal.credentialId);
  if (parent && parent.chain_depth >= MAX_TOKEN_CHAIN_DEPTH) {
    throw new ApiError(403, 'forbidden',
      `A token made from ${MAX_TOKEN_CHAIN_DEPTH} tokens in a chain cannot make another; start from a session or an API key.`);
  }
  return parent;
}

/**
 * A token never grants more than the credential that makes it: a scoped caller may only narrow its
 * scopes (by default it passes its own on), and the new token dies no later than the caller's.
 * A token made by a token records it as its parent, and keeps the API key at the root of the
 * chain, so revoking either ends it.
 */
export function createEphemeralToken(ctx: Ctx, principal: Principal, body: TokenBody) {
  const scopes = body.scopes ?? principal.scopes;
  assertMayGrant(principal, scopes, 'token');
  const remaining = principal.expiresAt ? Math.floor((principal.expiresAt.getTime() - ctx.clock.now().getTime()) / 1000) : Infinity;
  return ctx.db.transaction(async (tx) => {
    const parent = await callingToken(tx, principal);
    return issueToken(tx, ctx, {
      organizationId: principal.organizationId,
      userId: principal.userId,
      apiKeyId: principal.credentialType === 'api_key' ? principal.credentialId : parent?.api_key_id ?? null,
      kind: 'ephemeral',
      scopes,
      ttlSeconds: Math.max(1, Math.min(body.ttlSeconds, remaining)),
      parent,
    });
  });
}

async function insertApiKey(
  tx: Queryable, ctx: Ctx, organizationId: string, name: string, key: string, scopes: string[] = [],
) {
  const now = ctx.clock.now();
  const row = {
    id: newId('key', now.getTime()), organization_id: organizationId, name,
    prefix: key.slice(0, SHOWN_PREFIX_LENGTH), last_four: key.slice(-4),
    key_hash: ctx.vault.hash('credential-hash', key), scopes, created_at: now, revoked_at: null,
  };
  await repo.insertApiKey(tx, row);
  await recordEvent(tx, { organizationId, type: 'api_key.created', resourceId: row.id, data: presentApiKey(row), at: now });
  return row;
}

/** A key with the scopes asked (every scope when none are), within the caller's own. */
export async function createApiKey(ctx: Ctx, principal: Principal, body: ApiKeyBody) {
  const scopes = body.scopes ?? [];
  assertMayGrant(principal, scopes, 'API key');
  const key = API_KEY_PREFIX + randomToken(24);
  const row = await ctx.db.transaction((tx) =>
    insertApiKey(tx, ctx, principal.organizationId, body.name, key, scopes));
  return { ...presentApiKey(row), key };
}

export async function listApiKeys(ctx: Ctx, organizationId: string, query: ListQuery) {
  const page = await repo.listApiKeys(ctx.db, organizationId, query);
  return { data: page.rows.map(presentApiKey), meta: page.meta };
}

/**
 * Revokes a key, every token made from it and every token made from those, in one transaction.
 * A scoped caller may only revoke keys whose scopes it holds itself: an unrestricted key is
 * revoked only by an unrestricted credential.
 */
export async function revokeApiKey(ctx: Ctx, principal: Principal, id: string) {
  const { organizationId } = principal;
  const revoked = await ctx.db.transaction(async (tx) => {
    const now = ctx.clock.now();
    const found = await repo.findApiKeyForUpdate(tx, organizationId, id);
    if (!found) throw notFound('API key');
    if (!scopesWithin(principal.scopes, found.scopes)) {
      const what = found.scopes.length ? `scopes it lacks (${found.scopes.join(', ')})` : 'every scope';
      throw new ApiError(403, 'forbidden', `This credential may not revoke a key with ${what}.`);
    }
    const row = await repo.revokeApiKey(tx, organizationId, id, now);
    await repo.revokeTokenTree(tx, organizationId, { apiKeyId: id }, now);
    await recordEvent(tx, { organizationId, type: 'api_key.revoked', resourceId: row.id, data: presentApiKey(row), at: now });
    return presentApiKey(row);
  });
  // The revoked key fails this process's next request; other processes hear the trigger.
  ctx.credentials?.invalidate(organizationId);
  return revoked;
}

/** Changes to API keys and signing keys are announced here, per organization (migration 026). */
const CREDENTIALS_CHANNEL = 'paygen_credentials';
/** Credentials kept per process, and for how long at most should a change go unheard. */
const CREDENTIAL_CACHE = { maxEntries: 10_000, maxAgeMs: 10_000 };

/**
 * Keeps the API keys this process resolves while it hears every change to API keys and signing
 * keys: one statement less on every request (issue 10). A revocation or a signature policy change
 * reaches this process at once and the others when the notification arrives (milliseconds); a
 * PostgreSQL process whose LISTEN connection is lost, or goes silent (db.ts heartbeat), reads
 * every key until it hears again. On PGlite the one session hears every write.
 * `report` is told when changes stop being heard, and when they are heard again.
 */
export async function cacheCredentials(ctx: Ctx, report: (event: { lost?: Error; heardAgain?: true }) => void): Promise<void> {
  if (!ctx.db.listen || !ctx.config.credentialCache) return;
  const cache = new InvalidatedCache<Principal>({ ...CREDENTIAL_CACHE, groupOf: (principal) => principal.organizationId });
  ctx.credentials = cache;
  let reported = false;
  await ctx.db.listen(CREDENTIALS_CHANNEL, {
    onListening: () => {
      cache.heard();
      if (reported) report({ heardAgain: true });
      reported = false;
    },
    // An organization's id names its credentials; anything else (a TRUNCATE) names them all.
    onNotification: (payload) => cache.invalidate(payload.startsWith('org_') ? payload : undefined),
    onLost: (error) => {
      cache.deaf();
      if (!error || reported) return;
      reported = true;
      report({ lost: error });
    },
  });
}

export async function resolveCredential(ctx: Ctx, credential: { apiKey?: string; bearer?: string }): Promise<Principal | null> {
  if (credential.apiKey) {
    // Keyed by the keyed hash: the key itself is kept nowhere.
    const hash = ctx.vault.hash('credential-hash', credential.apiKey);
    const lookup = async (): Promise<Principal | null> => {
      const key = await repo.findApiKeyForRequest(ctx.db, hash);
      if (!key || key.revoked_at) return null;
      return {
        organizationId: key.organization_id, credentialType: 'api_key', credentialId: key.id, userId: null,
        scopes: key.scopes, expiresAt: null, signaturesRequired: key.signatures_required,
      };
    };
    return (ctx.credentials ? await ctx.credentials.get(hash, lookup) : await lookup()) ?? null;
  }
  if (credential.bearer) {
    const hash = ctx.vault.hash('credential-hash', credential.bearer);
    const token = await repo.findLiveToken(ctx.db, hash, ctx.clock.now(), MAX_TOKEN_CHAIN_DEPTH);
    if (!token) return null;
    return {
      organizationId: token.organization_id, credentialType: token.kind, credentialId: token.id, userId: token.user_id,
      scopes: token.scopes, expiresAt: token.expires_at, signaturesRequired: token.signatures_required,
    };
  }
  return null;
}

/**
 * Sandbox bootstrap: on an empty database, create an organization and an API key (random, or
 * PAYGEN_SANDBOX_API_KEY). With PAYGEN_SANDBOX_API_KEY on a database that lacks that key, the
 * key is added to the first organization. Returns the key when it was created now.
 */
export async function bootstrap(ctx: Ctx): Promise<{ apiKey: string; organizationId: string; created: boolean }> {
  const configured = ctx.config.sandboxApiKey;
  return ctx.db.transaction(async (tx) => {
    let organization = await repo.firstOrganization(tx);
    if (organization && !configured) return { apiKey: '', organizationId: organization.id, created: false };
    if (configured && (await repo.findApiKeyByHash(tx, ctx.vault.hash('credential-hash', configured)))) {
      return { apiKey: configured, organizationId: organization!.id, created: false };
    }
    organization ??= await createOrganization(tx, 'Sandbox', ctx.clock.now());
    const key = configured ?? API_KEY_PREFIX + randomToken(24);
    await insertApiKey(tx, ctx, organization.id, 'sandbox bootstrap', key);
    return { apiKey: key, organizationId: organization.id, created: true };
  });
}

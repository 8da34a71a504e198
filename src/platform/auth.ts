// Authentication: every route except the public ones needs `x-api-key` or
// `Authorization: Bearer`. The credential is resolved by the organizations module; this file only
// wires it into the request and enforces scopes of ephemeral tokens.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError } from './errors.ts';
import type { Principal } from './context.ts';
import type { FailedAuthLimiter } from './failed-auth.ts';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
  interface FastifyInstance {
    /** Counts failed authentications; the login route uses it too. */
    failedAuth: FailedAuthLimiter;
  }
  interface FastifyContextConfig {
    /** No credential needed (health, docs, signup, login, hosted pages). */
    public?: boolean;
    /** The route accepts multipart/form-data bodies. */
    multipart?: boolean;
  }
}

export type CredentialResolver = (credential: { apiKey?: string; bearer?: string }) => Promise<Principal | null>;

export const MAX_CREDENTIAL_LENGTH = 512;

function readCredential(request: FastifyRequest): { apiKey?: string; bearer?: string } | null {
  const apiKey = request.headers['x-api-key'];
  if (typeof apiKey === 'string' && apiKey.length > 0 && apiKey.length <= MAX_CREDENTIAL_LENGTH) return { apiKey };
  const authorization = request.headers.authorization;
  const match = typeof authorization === 'string' ? /^Bearer ([\x21-\x7e]{1,512})$/i.exec(authorization) : null;
  return match ? { bearer: match[1] } : null;
}

/** `cards:read` for GET /cards/…, `cards:write` for mutations; `*` or `cards:*` grant all. */
function requiredScope(request: FastifyRequest): string {
  const resource = request.url.split('?')[0].split('/')[1] ?? '';
  return `${resource}:${request.method === 'GET' || request.method === 'HEAD' ? 'read' : 'write'}`;
}

/** The interactive reference (/docs and its assets) is public. */
const isDocs = (request: FastifyRequest) => (request.routeOptions.url ?? '').startsWith('/docs');

/** Whether a token holding `scopes` may do what `scope` names (`*` and `resource:*` grant all). */
export function scopeAllows(scopes: string[], scope: string): boolean {
  if (scopes.length === 0) return true;
  const [resource] = scope.split(':');
  return scopes.some((s) => s === '*' || s === scope || s === `${resource}:*`);
}

/** No scopes, or `*`, is every scope. */
export const isUnrestricted = (scopes: string[]) => scopes.length === 0 || scopes.includes('*');

/**
 * Whether a credential holding `held` holds every scope of `wanted` itself, so that it may hand
 * them on (a new key or token) or take them away (revoking a key). `wanted` empty means every
 * scope; `resource:*` is held when both `resource:read` and `resource:write` are.
 */
export function scopesWithin(held: string[], wanted: string[]): boolean {
  if (isUnrestricted(held)) return true;
  if (isUnrestricted(wanted)) return false;
  return wanted.every((scope) => {
    const [resource, action] = scope.split(':');
    if (action !== '*') return scopeAllows(held, scope);
    return scopeAllows(held, `${resource}:read`) && scopeAllows(held, `${resource}:write`);
  });
}

/**
 * The resources a scope may name: the first path segment of every route that needs a credential,
 * read from the routes as they are registered. Every app of a process registers the same routes,
 * so one set serves them all.
 */
const SCOPE_RESOURCES = new Set<string>();

/** Scopes naming no known resource (`carts:read`), which would only make a useless credential. */
export function unknownScopes(scopes: string[]): string[] {
  return scopes.filter((scope) => scope !== '*' && !SCOPE_RESOURCES.has(scope.split(':')[0]));
}

export const scopeResources = () => [...SCOPE_RESOURCES].sort();

/** Any bearer token may read who it is and end itself, whatever its scopes. */
const SCOPE_FREE_ROUTES = new Set(['GET /auth/me', 'POST /auth/logout']);

export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new ApiError(401, 'unauthorized', 'A valid x-api-key or Bearer token is required.');
  return request.principal;
}

export function registerAuth(app: FastifyInstance, resolve: CredentialResolver, failedAuth: FailedAuthLimiter) {
  app.decorateRequest('principal', null);
  app.decorate('failedAuth', failedAuth);
  app.addHook('onRoute', (route) => {
    const resource = route.url.split('/')[1];
    if (resource && !route.config?.public && !route.url.startsWith('/docs')) SCOPE_RESOURCES.add(resource);
  });
  app.addHook('onRequest', async (request) => {
    if (request.is404 || request.routeOptions.config?.public || isDocs(request)) return;
    const credential = readCredential(request);
    if (!credential) throw new ApiError(401, 'unauthorized', 'A valid x-api-key or Bearer token is required.');
    // Before the credential is hashed or looked up: a client past its failures costs nothing.
    const attempt = failedAuth.credentialAttempt(request.ip);
    await failedAuth.assertAllowed(attempt);
    const principal = await resolve(credential);
    if (!principal) {
      await failedAuth.recordFailure(attempt);
      throw new ApiError(401, 'unauthorized', 'A valid x-api-key or Bearer token is required.');
    }
    const needed = requiredScope(request);
    if (!SCOPE_FREE_ROUTES.has(`${request.method} ${request.routeOptions.url}`) && !scopeAllows(principal.scopes, needed)) {
      throw new ApiError(403, 'forbidden', `This token lacks the scope ${needed}.`);
    }
    request.principal = principal;
  });
}

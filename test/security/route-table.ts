// The routes an app really registered, read from Fastify's own route tree (app.printRoutes), so
// that suites enumerate routes instead of trusting a hand-written list: a new route is covered
// the day it is added.
import type { FastifyInstance } from 'fastify';

export interface RouteEntry {
  method: string;
  /** Fastify syntax: /accounts/:id */
  url: string;
}

const LINE = /^((?:[│ ] {3})*)[├└]── (.*?)(?: \(([A-Z, ]+)\))?$/;

/** Every method + url, HEAD left out (Fastify adds it to every GET). */
export function registeredRoutes(app: FastifyInstance): RouteEntry[] {
  const tree = app.printRoutes({ commonPrefix: false });
  const stack: string[] = [];
  const routes: RouteEntry[] = [];
  for (const line of tree.split('\n')) {
    if (!line.trim()) continue;
    const match = LINE.exec(line);
    if (!match) throw new Error(`cannot read the route tree line: ${JSON.stringify(line)}`);
    const depth = match[1].length / 4;
    stack.length = depth;
    stack.push(match[2]);
    const url = stack.join('');
    for (const method of (match[3] ?? '').split(',').map((m) => m.trim()).filter(Boolean)) {
      if (method !== 'HEAD') routes.push({ method, url });
    }
  }
  if (routes.length === 0) throw new Error('no routes found in the route tree');
  return routes;
}

/** /accounts/:id → /accounts/{id}, as OpenAPI writes it. */
export const openApiPath = (url: string) => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

/**
 * Routes that need no credential (API.md "Auth"): operations, the reference, signup and login, the
 * hosted reveal/PIN pages (they carry their own single-use token) and the dashboard. Anything
 * else must answer 401 without a credential. Add a hosted page here only if API.md lists it.
 */
export const PUBLIC_ROUTES: RegExp[] = [
  /^GET \/health$/,
  /^GET \/ready$/,
  // Scraped by Prometheus: a bearer token of its own (PAYGEN_METRICS_TOKEN) or loopback only.
  /^GET \/metrics$/,
  /^GET \/openapi\.json$/,
  /^GET \/docs(\/.*)?$/,
  /^POST \/auth\/signup$/,
  /^POST \/auth\/login$/,
  /^GET \/card-reveal\/:[A-Za-z]+(\/data)?$/,
  /^OPTIONS \/card-reveal\/:[A-Za-z]+\/data$/,
  /^(GET|POST) \/card-pin\/:[A-Za-z]+$/,
  /^GET \/dashboard(\/.*)?$/,
];

export const isPublic = (route: RouteEntry) => PUBLIC_ROUTES.some((pattern) => pattern.test(`${route.method} ${route.url}`));

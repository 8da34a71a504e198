// The developer dashboard: the static files `npm run build:dashboard` writes to dist/dashboard,
// served at /dashboard/. The dashboard is a client of the public API like any other (same origin,
// bearer token from /auth/login), so the server only hands out files. Without a build,
// /dashboard/ answers a 404 page that says how to make one.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';
import fastifyStatic from '@fastify/static';
import { escapeHtml } from '../modules/cards/card-pin-page.ts';

/** Where the build may be: next to the sources (tsx), beside the bundle (dist/server.js), or under the working directory. */
const CANDIDATES = [
  fileURLToPath(new URL('../../dist/dashboard', import.meta.url)),
  fileURLToPath(new URL('./dashboard', import.meta.url)),
  resolve('dist/dashboard'),
];

export const findDashboardDir = () => CANDIDATES.find((dir) => existsSync(resolve(dir, 'index.html')));

/**
 * Same origin only: scripts, styles and API calls come from this server, and the only frame is the
 * hosted reveal page (frame-src 'self'). Nobody may frame the dashboard itself.
 */
export const DASHBOARD_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
  "connect-src 'self'; frame-src 'self'; font-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

function securityHeaders(reply: FastifyReply) {
  return reply
    .header('content-security-policy', DASHBOARD_CSP)
    .header('x-frame-options', 'DENY')
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'same-origin');
}

const NOT_BUILT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Dashboard not built</title></head>
<body><h1>The dashboard is not built</h1>
<p>Run <code>npm run build</code> (or <code>npm run build:dashboard</code>) and restart the server.</p>
</body></html>`;

/** A file name under /dashboard/: the app's own files only (the build has no dot-files). */
const FILE = /^(?:[A-Za-z0-9_-]+\/)*[A-Za-z0-9_.-]+$/;

const hidden = (summary: string) => ({
  hide: true, summary, description: `${summary} (a web page, not an API operation).`,
});

/** `dir`: the build to serve; null serves the "not built" page; left out, the build is looked for. */
export async function dashboardRoutes(app: FastifyInstance, options: { dir?: string | null } = {}) {
  const dir = options.dir === undefined ? findDashboardDir() : options.dir;
  if (dir) await app.register(fastifyStatic, { root: dir, serve: false });

  app.get('/dashboard', { config: { public: true }, schema: hidden('The developer dashboard') },
    async (_req, reply) => reply.redirect('/dashboard/', 302));

  const serve = async (file: string, reply: FastifyReply) => {
    securityHeaders(reply);
    if (!dir) {
      return reply.code(404).header('content-type', 'text/html; charset=utf-8').header('cache-control', 'no-store')
        .send(NOT_BUILT);
    }
    // Every segment is a plain name that does not start with a dot: no `..`, no dot-files.
    const safe = FILE.test(file) && !file.split('/').some((part) => part.startsWith('.'));
    if (!safe || !existsSync(resolve(dir, file))) {
      return reply.code(404).header('content-type', 'text/html; charset=utf-8').header('cache-control', 'no-store')
        .send(`<!doctype html><title>Not found</title><p>No file ${escapeHtml(file.slice(0, 100))} in the dashboard.</p>`);
    }
    // Built assets carry a content hash in their name: cache them for good; the page never.
    const immutable = file.startsWith('assets/');
    reply.header('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
    return reply.sendFile(file, { cacheControl: false, dotfiles: 'deny' });
  };

  app.get('/dashboard/', { config: { public: true }, schema: hidden('The developer dashboard\'s page') },
    async (_req, reply) => serve('index.html', reply));

  app.get<{ Params: { '*': string } }>('/dashboard/*', {
    config: { public: true }, schema: hidden('The developer dashboard\'s files'),
  }, async (req, reply) => serve(req.params['*'] || 'index.html', reply));
}

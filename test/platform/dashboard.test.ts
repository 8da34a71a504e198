// /dashboard: the static files of the dashboard's build with a same-origin CSP; without a build,
// a page that says to run `npm run build`. The dashboard's routes alone, on two bare Fastify
// instances: one serves a small stand-in build from a temporary directory, the other none. In the
// full app, /dashboard is public and out of the OpenAPI document (test/platform/openapi.test.ts);
// the real build runs in a browser in test/e2e/dashboard.e2e.ts.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { DASHBOARD_CSP, dashboardRoutes } from '../../src/platform/dashboard.ts';

let built: FastifyInstance;
let notBuilt: FastifyInstance;
let dir: string;

const INDEX = '<!doctype html><title>Paygen dashboard</title><script type="module" src="/dashboard/assets/app-1a2b.js"></script>';
const SCRIPT = 'console.log("dashboard");';

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'paygen-dashboard-'));
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'index.html'), INDEX);
  writeFileSync(join(dir, 'assets', 'app-1a2b.js'), SCRIPT);
  writeFileSync(join(dir, '.secret'), 'not for the web');
  writeFileSync(join(dir, '..', 'paygen-dashboard-outside.txt'), 'SECRET-OUTSIDE-CONTENT');
  built = Fastify();
  await built.register(dashboardRoutes, { dir });
  notBuilt = Fastify();
  await notBuilt.register(dashboardRoutes, { dir: null });
});
after(async () => {
  await built.close();
  await notBuilt.close();
  rmSync(dir, { recursive: true, force: true });
  rmSync(join(dir, '..', 'paygen-dashboard-outside.txt'), { force: true });
});

describe('a build', () => {
  test('the page, with a same-origin CSP, no framing, never cached', async () => {
    const res = await built.inject({ method: 'GET', url: '/dashboard/' });
    assert.equal(res.statusCode, 200);
    assert.equal(res.body, INDEX);
    assert.match(String(res.headers['content-type']), /^text\/html/);
    assert.equal(res.headers['content-security-policy'], DASHBOARD_CSP);
    assert.match(DASHBOARD_CSP, /script-src 'self';/);
    assert.match(DASHBOARD_CSP, /frame-ancestors 'none'/);
    assert.match(DASHBOARD_CSP, /frame-src 'self'/);
    assert.equal(res.headers['x-frame-options'], 'DENY');
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
    assert.equal(res.headers['cache-control'], 'no-cache');
  });

  test('hashed assets, cached for good, with their content type', async () => {
    const res = await built.inject({ method: 'GET', url: '/dashboard/assets/app-1a2b.js' });
    assert.equal(res.statusCode, 200);
    assert.equal(res.body, SCRIPT);
    assert.match(String(res.headers['content-type']), /javascript/);
    assert.equal(res.headers['cache-control'], 'public, max-age=31536000, immutable');
  });

  test('nothing else: missing files, dot-files and paths out of the build are 404 pages', async () => {
    for (const url of ['/dashboard/assets/missing.js', '/dashboard/.secret', '/dashboard/%2e%2e/paygen-dashboard-outside.txt',
      '/dashboard/assets/..%2f..%2fpaygen-dashboard-outside.txt', '/dashboard/assets/%00.js', '/dashboard/<script>.js']) {
      const res = await built.inject({ method: 'GET', url });
      assert.equal(res.statusCode, 404, `${url}: ${res.body}`);
      assert.doesNotMatch(res.body, /not for the web|SECRET-OUTSIDE|<script>/, url);
    }
    const missing = await built.inject({ method: 'GET', url: '/dashboard/assets/missing.js' });
    assert.equal(missing.headers['cache-control'], 'no-store');
  });
});

describe('no build', () => {
  test('/dashboard/ says to run npm run build', async () => {
    for (const url of ['/dashboard/', '/dashboard/assets/app-1a2b.js']) {
      const res = await notBuilt.inject({ method: 'GET', url });
      assert.equal(res.statusCode, 404, url);
      assert.match(res.body, /npm run build/);
      assert.equal(res.headers['content-security-policy'], DASHBOARD_CSP);
    }
  });
});

// /dashboard: the static files of the dashboard's build, without a credential, with a same-origin
// CSP; without a build, a page that says to run `npm run build`. The app under test serves a small
// stand-in build from a temporary directory (the real build is the e2e suite's business:
// test/e2e/dashboard.e2e.ts), and a second app serves none.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { DASHBOARD_CSP, dashboardRoutes } from '../../src/platform/dashboard.ts';
import { startHarness, type Harness } from '../support/api.ts';

let api: Harness;
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
  api = await startHarness();
  built = Fastify();
  await built.register(dashboardRoutes, { dir });
  notBuilt = Fastify();
  await notBuilt.register(dashboardRoutes, { dir: null });
});
after(async () => {
  await api.close();
  await built.close();
  await notBuilt.close();
  rmSync(dir, { recursive: true, force: true });
  rmSync(join(dir, '..', 'paygen-dashboard-outside.txt'), { force: true });
});

describe('the dashboard in the app', () => {
  test('/dashboard redirects to /dashboard/, which answers without a credential', async () => {
    const res = await fetch(`${api.baseUrl}/dashboard`, { redirect: 'manual' });
    assert.equal(res.status, 302);
    assert.equal(res.headers.get('location'), '/dashboard/');
    const page = await fetch(`${api.baseUrl}/dashboard/`);
    // 200 with a build in dist/dashboard, 404 "run npm run build" without: never a 401 or a 5xx.
    assert.ok([200, 404].includes(page.status), String(page.status));
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    assert.equal(page.headers.get('content-security-policy'), DASHBOARD_CSP);
  });

  test('is not an API operation: absent from /openapi.json', async () => {
    const doc = (await api.request('GET', '/openapi.json', { key: null })).body;
    assert.deepEqual(Object.keys(doc.paths).filter((p) => p.startsWith('/dashboard')), []);
  });
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

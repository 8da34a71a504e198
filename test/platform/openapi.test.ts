// API.md "Operations" and the OpenAPI promise: /health and /ready are public, /openapi.json is an
// OpenAPI 3.1 document that describes every route the app registered (read from Fastify's route
// tree, not a list), with a 2xx schema and error responses per operation, named component
// schemas, resolvable $refs and the error-code catalogue; /docs renders it.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ERROR_CODES } from '../../src/platform/errors.ts';
import { startHarness, type Harness } from '../support/api.ts';
import { isPublic, openApiPath, registeredRoutes, type RouteEntry } from '../security/route-table.ts';

let api: Harness;
let doc: any;
let routes: RouteEntry[];
before(async () => {
  api = await startHarness();
  const res = await api.request('GET', '/openapi.json', { key: null });
  assert.equal(res.status, 200, res.text);
  doc = res.body;
  routes = registeredRoutes(api.app);
});
after(async () => { await api.checkLedger(); await api.close(); });

/** The reference UI's own routes (assets, its copy of the document) are not API operations. */
const documented = () => routes.filter((r) => !r.url.startsWith('/docs'));
const operation = (r: RouteEntry) => doc.paths?.[openApiPath(r.url)]?.[r.method.toLowerCase()];

describe('operations', () => {
  test('/health and /ready answer without a credential, in the envelope', async () => {
    const health = await api.request('GET', '/health', { key: null });
    assert.equal(health.status, 200, health.text);
    assert.deepEqual(health.body, { statusCode: 200, message: 'OK', data: { status: 'ok' } });
    const ready = await api.request('GET', '/ready', { key: null });
    assert.equal(ready.status, 200, ready.text);
    assert.equal(ready.body.data.status, 'ready');
  });

  test('/docs serves the HTML reference without a credential', async () => {
    const docs = await api.request('GET', '/docs', { key: null });
    assert.equal(docs.status, 200, docs.text.slice(0, 200));
    assert.match(docs.headers.get('content-type') ?? '', /text\/html/);
    assert.match(docs.text, /<html/i);
    const json = await api.request('GET', '/docs/json', { key: null });
    assert.equal(json.status, 200);
    assert.equal(json.body.openapi, doc.openapi);
  });
});

describe('the OpenAPI document', () => {
  test('is OpenAPI 3.1 with a title, a version and both security schemes', () => {
    assert.match(doc.openapi, /^3\.1\./);
    assert.equal(typeof doc.info.title, 'string');
    assert.equal(typeof doc.info.version, 'string');
    assert.deepEqual(Object.keys(doc.components.securitySchemes).sort(), ['apiKey', 'bearer']);
    assert.equal(doc.components.securitySchemes.apiKey.name, 'x-api-key');
  });

  test('describes every registered route, and nothing else', () => {
    const missing = documented().filter((r) => !operation(r)).map((r) => `${r.method} ${r.url}`);
    assert.deepEqual(missing, [], `routes missing from /openapi.json: ${missing.join(', ')}`);
    const registered = new Set(documented().map((r) => `${r.method.toLowerCase()} ${openApiPath(r.url)}`));
    const extra: string[] = [];
    for (const [path, item] of Object.entries<any>(doc.paths)) {
      for (const method of Object.keys(item)) if (!registered.has(`${method} ${path}`)) extra.push(`${method} ${path}`);
    }
    assert.deepEqual(extra, []);
    assert.ok(operation({ method: 'POST', url: '/accounts' }), 'sanity: the walk finds a known route');
  });

  test('every operation has a 2xx response with a JSON schema and documented error responses', () => {
    const problems: string[] = [];
    for (const route of documented()) {
      const op = operation(route);
      if (!op) continue;
      const name = `${route.method} ${route.url}`;
      if (!op.summary) problems.push(`${name}: no summary`);
      const statuses = Object.keys(op.responses ?? {});
      const success = statuses.filter((s) => /^2\d\d$/.test(s));
      if (success.length === 0) problems.push(`${name}: no 2xx response`);
      for (const status of success) {
        const content = op.responses[status].content ?? {};
        const schema = Object.values<any>(content)[0]?.schema;
        if (!schema || (Object.keys(schema).length === 0)) problems.push(`${name}: ${status} has no schema`);
      }
      const errors = statuses.filter((s) => /^[45]\d\d$/.test(s));
      if (errors.length === 0) problems.push(`${name}: no error response`);
      for (const status of errors) {
        const schema = op.responses[status].content?.['application/json']?.schema;
        if (schema?.$ref !== '#/components/schemas/Error') problems.push(`${name}: ${status} is not the Error envelope`);
      }
      if (!isPublic(route) && !errors.includes('401')) problems.push(`${name}: needs a credential but documents no 401`);
      if (/:[A-Za-z]+/.test(route.url) && !errors.includes('404')) problems.push(`${name}: has a path id but documents no 404`);
      if (['POST', 'PATCH', 'PUT'].includes(route.method) && op.requestBody && !errors.includes('422')) problems.push(`${name}: takes a body but documents no 422`);
    }
    assert.deepEqual(problems, []);
  });

  test('public routes, and only they, drop the security requirement', () => {
    const problems: string[] = [];
    assert.ok(doc.security?.length, 'a global security requirement');
    for (const route of documented()) {
      const op = operation(route);
      if (!op) continue;
      const open = Array.isArray(op.security) && op.security.length === 0;
      if (open !== isPublic(route)) problems.push(`${route.method} ${route.url}: security ${JSON.stringify(op.security)} but ${isPublic(route) ? 'public' : 'authenticated'}`);
    }
    assert.deepEqual(problems, []);
  });

  test('components hold the named schemas', () => {
    const names = Object.keys(doc.components.schemas);
    for (const name of ['Error', 'ListMeta', 'Organization', 'User', 'ApiKey', 'Account', 'Entry', 'CardProgram', 'Card', 'Event']) {
      assert.ok(names.includes(name), `${name} in ${names.join(', ')}`);
    }
    assert.ok(!names.some((n) => /^def-\d+$/.test(n)), `anonymous component names: ${names.join(', ')}`);
    const error = doc.components.schemas.Error;
    assert.deepEqual([...error.required].sort(), ['data', 'error', 'message', 'requestId', 'statusCode']);
  });

  test('every $ref resolves inside the document', () => {
    const refs = new Set<string>();
    const walk = (node: unknown) => {
      if (Array.isArray(node)) node.forEach(walk);
      else if (node && typeof node === 'object') {
        for (const [k, v] of Object.entries(node)) {
          if (k === '$ref' && typeof v === 'string') refs.add(v);
          else walk(v);
        }
      }
    };
    walk(doc);
    assert.ok(refs.size > 5);
    const unresolved = [...refs].filter((ref) => {
      if (!ref.startsWith('#/')) return true;
      let target: any = doc;
      for (const part of ref.slice(2).split('/')) target = target?.[part.replace(/~1/g, '/').replace(/~0/g, '~')];
      return target === undefined;
    });
    assert.deepEqual(unresolved, []);
  });

  test('list operations document limit, cursor and sort', () => {
    const lists = documented().filter((r) => r.method === 'GET' && operation(r)?.responses?.['200']?.content?.['application/json']?.schema?.properties?.meta);
    assert.ok(lists.length >= 4);
    for (const route of lists) {
      const names = (operation(route).parameters ?? []).filter((p: any) => p.in === 'query').map((p: any) => p.name);
      for (const name of ['limit', 'cursor', 'sort']) assert.ok(names.includes(name), `${route.method} ${route.url} lacks ${name}`);
    }
  });
});

describe('error codes', () => {
  test('every code in the catalogue is documented in the OpenAPI document', () => {
    for (const code of Object.keys(ERROR_CODES)) {
      assert.ok(doc.info.description.includes(`\`${code}\``), `${code} is not documented`);
      assert.match(code, /^[a-z][a-z0-9_]*$/);
    }
  });

  test('every code the source can return is in the catalogue', () => {
    const files: string[] = [];
    const collect = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        if (entry.isDirectory()) collect(join(dir, entry.name));
        else if (entry.name.endsWith('.ts')) files.push(join(dir, entry.name));
      }
    };
    collect(join(import.meta.dirname, '../../src'));
    const patterns = [
      /new ApiError\(\s*\d{3},\s*'([a-z0-9_]+)'/g,
      /\b(?:unprocessable|conflict)\(\s*'([a-z0-9_]+)'/g,
      /\[\d{3}, '([a-z0-9_]+)'\]/g,
    ];
    const missing = new Set<string>();
    let found = 0;
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      for (const pattern of patterns) {
        for (const match of text.matchAll(pattern)) {
          for (const code of match.slice(1)) {
            if (!code) continue;
            found++;
            if (!(code in ERROR_CODES)) missing.add(`${code} (${file.split('/src/')[1]})`);
          }
        }
      }
    }
    assert.ok(found > 20, `sanity: ${found} codes found`);
    assert.deepEqual([...missing], [], 'add these codes to ERROR_CODES in src/platform/errors.ts');
  });
});

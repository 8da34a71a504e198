// API.md "Operations" and the OpenAPI promise: /health and /ready are public, /openapi.json is an
// OpenAPI 3.1 document that describes every route the app registered (read from Fastify's route
// tree, not a list), with a 2xx schema and error responses per operation, named component
// schemas, resolvable $refs and the error-code catalogue; /docs renders it.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { AjvCompiler } from '@fastify/ajv-compiler';
import spectralCore from '@stoplight/spectral-core';
import * as Parsers from '@stoplight/spectral-parsers';
import { oas } from '@stoplight/spectral-rulesets';
import { AJV_OPTIONS } from '../../src/app.ts';
import { EVENT_CATALOG } from '../../src/modules/events/events.catalog.ts';
import { ERROR_CODES } from '../../src/platform/errors.ts';
import { MAX_IDEMPOTENCY_KEY_LENGTH } from '../../src/platform/idempotency.ts';
import { startHarness, type Harness, type RequestOptions } from '../support/api.ts';
import { valuesOfKey } from '../support/json-walk.ts';
import { createAccount, createProgram, issueNameOnlyCard } from '../support/fixtures.ts';
import { DASHBOARD_CSP } from '../../src/platform/dashboard.ts';
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

/** The reference UI's and the dashboard's own routes (pages, assets) are not API operations. */
const documented = () => routes.filter((r) => !r.url.startsWith('/docs') && !r.url.startsWith('/dashboard'));
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

describe('the dashboard', () => {
  test('/dashboard redirects to /dashboard/, a page without a credential, with the dashboard\'s CSP', async () => {
    const res = await fetch(`${api.baseUrl}/dashboard`, { redirect: 'manual' });
    assert.equal(res.status, 302);
    assert.equal(res.headers.get('location'), '/dashboard/');
    const page = await api.request('GET', '/dashboard/', { key: null });
    // 200 with a build in dist/dashboard, 404 "run npm run build" without: never a 401 or a 5xx.
    assert.ok(page.status === 200 || (page.status === 404 && /npm run build/.test(page.text)), `${page.status} ${page.text}`);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    assert.equal(page.headers.get('content-security-policy'), DASHBOARD_CSP);
    assert.deepEqual(Object.keys(doc.paths).filter((p) => p.startsWith('/dashboard')), []);
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
      if (!op.description) problems.push(`${name}: no description`);
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
    const refs = valuesOfKey(doc, '$ref');
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

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
/** Every operation of the document: paths, then webhooks. */
function operations(section: 'paths' | 'webhooks' = 'paths') {
  const found: Array<{ name: string; method: string; path: string; op: any }> = [];
  for (const [path, item] of Object.entries<any>(doc[section] ?? {})) {
    for (const method of METHODS) {
      if (item[method]) found.push({ name: `${method.toUpperCase()} ${path}`, method, path, op: item[method] });
    }
  }
  return found;
}

/**
 * A validator for a schema of the document, compiled by Fastify's own Ajv compiler with the app's
 * options (a JSON body is not coerced, as in the app): component refs become external schemas.
 */
function validatorFor(schema: unknown, coerce = false) {
  const local = (node: unknown) => JSON.parse(JSON.stringify(node), (key, value) =>
    key === '$ref' && typeof value === 'string' ? value.replace('#/components/schemas/', 'component:') : value);
  const components = Object.fromEntries(Object.entries<any>(doc.components.schemas)
    .map(([name, component]) => [name, { ...local(component), $id: `component:${name}` }]));
  const customOptions = { ...AJV_OPTIONS, ...(coerce ? {} : { coerceTypes: false }), strict: false };
  const compile = AjvCompiler()(components, { customOptions });
  const validate = compile({ schema: local(schema), method: 'POST', url: '/', httpPart: 'body' } as never) as any;
  return (value: unknown) => {
    const ok = validate(structuredClone(value));
    return ok ? [] : (validate.errors ?? []).map((e: any) => `${e.instancePath || '/'} ${e.message}`);
  };
}

const examplesOf = (media: any): unknown[] =>
  media.example !== undefined ? [media.example] : Object.values<any>(media.examples ?? {}).map((e) => e.value);

describe('what a client generator needs', () => {
  test('the server is relative, so /docs "Try it out" calls the host that served the document', () => {
    assert.ok(doc.servers?.length >= 1);
    for (const server of doc.servers) assert.match(server.url, /^\/(?!\/)/, `server ${server.url} is not a relative path`);
  });

  test('every operation has a unique camelCase operationId, a summary, a description and defined tags', () => {
    const all = [...operations('paths'), ...operations('webhooks')];
    assert.ok(all.length > 80);
    const seen = new Map<string, string>();
    const problems: string[] = [];
    const tags = new Set((doc.tags ?? []).map((t: any) => t.name));
    for (const { name, op } of all) {
      const id = op.operationId;
      if (typeof id !== 'string' || !/^[a-z][A-Za-z0-9]*$/.test(id)) problems.push(`${name}: operationId ${id}`);
      else if (seen.has(id)) problems.push(`${name}: operationId ${id} also on ${seen.get(id)}`);
      else seen.set(op.operationId, name);
      if (!op.summary || !op.description) problems.push(`${name}: summary or description missing`);
      for (const tag of op.tags ?? []) if (!tags.has(tag)) problems.push(`${name}: tag ${tag} is not defined`);
    }
    assert.deepEqual(problems, []);
    assert.equal(operation({ method: 'POST', url: '/cards' }).operationId, 'createCard');
    assert.equal(operation({ method: 'GET', url: '/cards' }).operationId, 'listCards');
    assert.equal(operation({ method: 'POST', url: '/simulator/authorizations' }).operationId, 'simulatorAuthorize');
  });

  test('every query parameter is optional: limit and sort have defaults, cursor and filters are filters', () => {
    const required = operations().flatMap(({ name, op }) => (op.parameters ?? [])
      .filter((p: any) => p.in === 'query' && p.required).map((p: any) => `${name} ${p.name}`));
    assert.deepEqual(required, []);
    const limit = operation({ method: 'GET', url: '/cards' }).parameters.find((p: any) => p.name === 'limit');
    assert.equal(limit.schema.default, 20);
  });

  test('every mutation documents the optional Idempotency-Key header, and only mutations do', () => {
    const header = doc.components.parameters?.IdempotencyKey;
    assert.equal(header?.in, 'header');
    assert.equal(header.name, 'Idempotency-Key');
    assert.equal(header.required, false);
    assert.equal(header.schema.maxLength, MAX_IDEMPOTENCY_KEY_LENGTH);
    assert.match(header.description, /replay/i);
    const problems: string[] = [];
    for (const route of documented()) {
      const op = operation(route);
      const has = (op.parameters ?? []).some((p: any) => p.$ref === '#/components/parameters/IdempotencyKey');
      const mutation = ['POST', 'PUT', 'PATCH', 'DELETE'].includes(route.method) && !isPublic(route);
      if (has !== mutation) problems.push(`${route.method} ${route.url}: Idempotency-Key ${has ? 'documented' : 'missing'}`);
      const success = Object.entries<any>(op.responses).filter(([status]) => /^2/.test(status));
      if (mutation && !success.every(([, response]) => response.headers?.['Idempotent-Replayed'])) {
        problems.push(`${route.method} ${route.url}: no Idempotent-Replayed header`);
      }
    }
    assert.deepEqual(problems, []);
  });
});

describe('error codes per operation', () => {
  test('every error response lists its codes, each in the catalogue and named in the description', () => {
    const problems: string[] = [];
    let listed = 0;
    for (const { name, op } of operations()) {
      for (const [status, response] of Object.entries<any>(op.responses)) {
        if (!/^[45]/.test(status)) continue;
        const codes: string[] = response['x-error-codes'] ?? [];
        if (codes.length === 0) problems.push(`${name} ${status}: no codes`);
        for (const code of codes) {
          listed++;
          if (!(code in ERROR_CODES)) problems.push(`${name} ${status}: ${code} is not in ERROR_CODES`);
          if (!response.description.includes(`\`${code}\``)) problems.push(`${name} ${status}: ${code} not in the description`);
        }
      }
    }
    assert.deepEqual(problems, []);
    assert.ok(listed > 300, `sanity: ${listed} codes listed`);
  });

  test('routes list their own codes next to the common ones', () => {
    const codes = (method: string, url: string, status: number) => operation({ method, url }).responses[status]?.['x-error-codes'] ?? [];
    for (const code of ['insufficient_funds', 'card_holder_not_verified', 'program_not_found', 'validation_failed', 'idempotency_key_reused']) {
      assert.ok(codes('POST', '/cards', 422).includes(code), `POST /cards 422 lacks ${code}`);
    }
    assert.deepEqual(codes('GET', '/accounts/:id', 404), ['not_found']);
    assert.ok(codes('POST', '/cards/:id/freeze', 409).includes('invalid_status_transition'));
    assert.ok(codes('POST', '/auth/login', 401).includes('invalid_credentials'));
    assert.ok(codes('GET', '/cards', 422).includes('invalid_cursor'));
    assert.equal(operation({ method: 'GET', url: '/cards/:id' }).responses['409'], undefined, 'a read has no conflict to report');
  });
});

describe('documented codes are the codes the app answers', () => {
  test('real failures answer a status and code that their operation lists', async () => {
    const account = await createAccount(api);
    const program = await createProgram(api);
    const card = (await issueNameOnlyCard(api, account, program, 100)).body.data;
    const cases: Array<[string, string, RequestOptions]> = [
      ['POST', '/cards', {
        body: { debitAccountId: account.id, firstName: 'Ada', lastName: 'Lovelace', type: 'virtual', currency: 'USD', typeId: program.id, amount: 1e15 },
      }],
      ['POST', `/cards/${card.id}/unfreeze`, {}],
      ['PUT', `/cards/${card.id}/pin`, { body: { pin: '1234' } }],
      ['POST', '/transfers', { body: { fromAccountId: account.id, toAccountId: account.id, amount: 1, currency: 'USD' } }],
      ['POST', `/accounts/${account.id}/close`, {}],
      ['POST', '/auth/login', { key: null, body: { email: 'nobody@example.com', password: 'not the password' } }],
      ['GET', '/cards?cursor=bm90IGEgY3Vyc29y', {}],
      ['POST', '/webhooks', { body: { url: 'https://example.com/hooks', events: ['card.exploded'] } }],
      ['GET', '/accounts/acc_00000000000000000000000000', {}],
      ['POST', '/accounts', { body: { name: 'No owner' } }],
    ];
    const problems: string[] = [];
    for (const [method, path, options] of cases) {
      const res = await api.request(method, path, options);
      const matches = (r: RouteEntry) => new RegExp(`^${r.url.replace(/:[A-Za-z]+/g, '[^/]+')}$`).test(path.split('?')[0]);
      const route = routes.find((r) => r.method === method && matches(r));
      assert.ok(route, `${method} ${path} is a route`);
      const listed: string[] = operation(route).responses[res.status]?.['x-error-codes'] ?? [];
      if (res.status < 400 || !listed.includes(res.body.error.code)) {
        problems.push(`${method} ${route.url} → ${res.status} ${res.body?.error?.code}, listed: ${listed.join(', ')}`);
      }
    }
    assert.deepEqual(problems, []);
  });
});

describe('request examples', () => {
  test('every request body has an example, and every example is valid against its schema', () => {
    const problems: string[] = [];
    let checked = 0;
    for (const { name, op } of operations()) {
      for (const [type, media] of Object.entries<any>(op.requestBody?.content ?? {})) {
        const examples = examplesOf(media);
        if (examples.length === 0) problems.push(`${name} ${type}: no example`);
        const validate = validatorFor(media.schema, type !== 'application/json');
        for (const example of examples) {
          checked++;
          for (const error of validate(example)) problems.push(`${name} ${type}: ${error}`);
          // A form sends text fields and files: no objects, arrays or nulls.
          const nonScalar = Object.entries<unknown>(example as Record<string, unknown>).filter(([, v]) => v === null || typeof v === 'object');
          if (type === 'multipart/form-data' && nonScalar.length) problems.push(`${name} ${type}: ${nonScalar.map(([k]) => k).join(', ')} cannot be sent`);
        }
      }
    }
    assert.deepEqual(problems, []);
    assert.ok(checked > 40, `sanity: ${checked} examples checked`);
  });

  /** Path segment → id prefix, to fill `{id}` in a path. */
  const PREFIX: Record<string, string> = {
    accounts: 'acc', 'card-programs': 'prg', 'card-holders': 'ch', cards: 'card', budgets: 'bud', webhooks: 'whk', authorizations: 'auth',
  };
  /** Sent in this order, so that each finds the resources it names among those made before it. */
  const SENT = [
    'PATCH /accounts/{id}', 'POST /simulator/accounts/{id}/deposits', 'POST /transfers', 'POST /card-programs', 'POST /card-holders',
    'POST /cards', 'PATCH /cards/{id}', 'POST /cards/{id}/top-up', 'POST /cards/{id}/withdraw', 'PUT /cards/{id}/pin', 'POST /budgets',
    'POST /webhooks', 'POST /simulator/authorizations', 'POST /simulator/authorizations/{id}/increment',
    'POST /simulator/authorizations/{id}/capture', 'POST /simulator/force-captures', 'POST /simulator/refunds', 'POST /disputes', 'POST /api-keys',
    'POST /auth/tokens', 'POST /accounts',
  ];

  test('the main examples succeed when sent, with their placeholder ids replaced by real ones', async () => {
    // Placeholders are `<prefix>_01jd` followed by digits; the last digits pick the n-th resource
    // of that kind, so a transfer's two accounts are two different accounts. The cards example
    // uses a program without a decision webhook (the program example's calls example.com, which
    // a test must not depend on), made here first.
    const made: Record<string, string[]> = {
      acc: [(await createAccount(api)).id, (await createAccount(api, { name: 'Second wallet' })).id],
      prg: [(await createProgram(api)).id],
    };
    const fill = (value: unknown) => JSON.parse(JSON.stringify(value), (_key, v) => {
      const match = typeof v === 'string' ? /^([a-z]+)_01jd0*(\d*)$/.exec(v) : null;
      if (!match) return v;
      const real = made[match[1]]?.[Number(match[2] || 0)];
      assert.ok(real, `no ${match[1]} made before the example that names ${v}`);
      return real;
    });
    const failures: string[] = [];
    for (const name of SENT) {
      const [method, path] = name.split(' ');
      const op = doc.paths[path]?.[method.toLowerCase()];
      assert.ok(op, `${name} is documented`);
      const example = examplesOf(op.requestBody.content['application/json'])[0];
      const url = path.replace(/\/([^/]+)\/\{id\}/, (_all, segment: string) => `/${segment}/${made[PREFIX[segment]]?.[0]}`);
      const res = await api.request(method, url, { body: fill(example) });
      if (res.status >= 300) failures.push(`${name} → ${res.status} ${res.text.slice(0, 300)}`);
      const id = res.body?.data?.id;
      const prefix = typeof id === 'string' ? id.split('_')[0] : undefined;
      if (prefix && !made[prefix]?.includes(id)) (made[prefix] ??= []).push(id);
    }
    assert.deepEqual(failures, []);
  });
});

describe('webhooks', () => {
  test('every catalog event type and the authorization decision call are in the webhooks section', () => {
    const names = Object.keys(doc.webhooks ?? {}).sort();
    assert.deepEqual(names, [...Object.keys(EVENT_CATALOG), 'authorization.request'].sort());
    const decision = doc.webhooks['authorization.request'].post;
    assert.equal(decision.requestBody.content['application/json'].schema.$ref, '#/components/schemas/AuthorizationRequest');
    const answer = doc.components.schemas.AuthorizationDecision;
    assert.deepEqual(answer.required, ['approved']);
    assert.deepEqual(Object.keys(answer.properties).sort(), ['amount', 'approved', 'reason']);
    const envelope = doc.components.schemas.WebhookEvent;
    assert.deepEqual([...envelope.required].sort(), ['createdAt', 'data', 'id', 'resource', 'resourceId', 'sequence', 'type']);
    assert.ok(envelope.properties.previousAttributes);
  });

  test('each event type\'s catalog sample is a valid payload of its documented schema', () => {
    const problems: string[] = [];
    for (const [type, entry] of Object.entries(EVENT_CATALOG)) {
      const media = doc.webhooks[type].post.requestBody.content['application/json'];
      const validate = validatorFor(media.schema);
      for (const error of validate({ ...media.example, data: entry.sample })) problems.push(`${type}: ${error}`);
      if (validate({ ...media.example, type: 'not.this.type' }).length === 0) problems.push(`${type}: the schema does not pin the type`);
    }
    const decision = doc.webhooks['authorization.request'].post;
    const request = decision.requestBody.content['application/json'];
    for (const error of validatorFor(request.schema)(request.example)) problems.push(`authorization.request: ${error}`);
    assert.deepEqual(problems, []);
  });
});

describe('lint', () => {
  test('Spectral\'s recommended OpenAPI ruleset finds no error and no warning', async () => {
    const { Spectral, Document } = spectralCore as any;
    const spectral = new Spectral();
    spectral.setRuleset({ extends: [[oas, 'recommended']] });
    const parser = (Parsers as any).Json ?? (Parsers as any).default.Json;
    const results = await spectral.run(new Document(JSON.stringify(doc), parser));
    // Severity 0 is an error, 1 a warning; 2 (information) and 3 (hint) are advice.
    const serious = results.filter((r: any) => r.severity <= 1)
      .map((r: any) => `${r.severity === 0 ? 'error' : 'warning'} ${r.code} at ${r.path.join('.')}: ${r.message}`);
    assert.deepEqual(serious, []);
  });
});

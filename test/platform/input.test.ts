// Input hardening over every registered route: bad characters in path ids, query values, JSON and
// multipart fields, year 0000, bad percent-encoding, over-long ids and wrong methods all answer a
// 4xx in the envelope with a code (never a 5xx: PostgreSQL refused most of these with a 500), and
// the server keeps serving. Also the request time limits, over raw sockets.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { toApiError } from '../../src/platform/errors.ts';
import { MAX_NESTING_DEPTH } from '../../src/platform/input.ts';
import { startHarness, type Harness, type Response } from '../support/api.ts';
import { createAccount, createCardHolder } from '../support/fixtures.ts';
import { registeredRoutes, type RouteEntry } from '../security/route-table.ts';

let api: Harness;
let routes: RouteEntry[];
before(async () => {
  api = await startHarness();
  routes = registeredRoutes(api.app);
});
after(async () => { await api.checkLedger(); await api.close(); });

/** The error envelope with a stable code; the status is asserted by the caller. */
function assertEnvelope(res: Response, label: string) {
  assert.ok(res.status >= 400 && res.status < 500, `${label}: ${res.status} ${res.text}`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/, label);
  assert.deepEqual(Object.keys(res.body).sort(), ['data', 'error', 'message', 'requestId', 'statusCode'], label);
  assert.equal(res.body.statusCode, res.status, label);
  assert.equal(res.body.data, null, label);
  assert.match(res.body.error.code, /^[a-z_]+$/, label);
  assert.match(res.body.requestId, /^req_/, label);
}

function assertRefused(res: Response, label: string, status: number, code: string, field?: string) {
  assertEnvelope(res, label);
  assert.equal(res.status, status, `${label}: ${res.text}`);
  assert.equal(res.body.error.code, code, `${label}: ${res.text}`);
  if (field) assert.ok(res.body.error.details.some((d: any) => d.field === field), `${label}: ${field} in ${res.text}`);
}

/** A character refusal names the field and says why, rather than failing on the schema. */
function assertBadCharacter(res: Response, label: string, field?: string) {
  assertRefused(res, label, 422, 'validation_failed', field);
  assert.match(res.body.error.details[0].message, /control characters|surrogates/, `${label}: ${res.text}`);
}

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];
/** Hosted pages answer browsers with HTML; a JSON client gets the envelope, as here. */
const ACCEPT_JSON = { accept: 'application/json' };
const call = (method: string, path: string, options: { body?: unknown; form?: FormData; key?: null } = {}) =>
  api.request(method, path, { ...options, headers: ACCEPT_JSON });
const hasBody = (method: string) => method !== 'GET' && method !== 'DELETE';
const paramsOf = (url: string) => [...url.matchAll(/:([A-Za-z]+)/g)].map((m) => m[1]);
/** A route's path with every parameter replaced; wildcards (the /docs assets) get a plain name. */
const fill = (url: string, value: (name: string) => string) => url.replace(/:([A-Za-z]+)/g, (_, name) => value(name)).replace('*', 'asset');
const withParams = () => routes.filter((r) => paramsOf(r.url).length > 0);

/** Percent-encoded path values, each with the answer it must get. */
const BAD_PATH_VALUES: Array<[string, string, number, string]> = [
  ['NUL', 'id_%00x', 422, 'validation_failed'],
  ['\\u0001', 'id_%01x', 422, 'validation_failed'],
  ['a line feed', 'id_%0Ax', 422, 'validation_failed'],
  ['bad percent-encoding', 'id_%E0%A4%A', 400, 'invalid_url'],
  ['a lone surrogate written in UTF-8', 'id_%ED%A0%80', 400, 'invalid_url'],
  ['a 200-character id', 'x'.repeat(200), 414, 'uri_too_long'],
];

describe('path ids', () => {
  for (const [label, value, status, code] of BAD_PATH_VALUES) {
    test(`${label} in any path parameter is a ${status} ${code}`, async () => {
      for (const route of withParams()) {
        const name = paramsOf(route.url)[0];
        const path = fill(route.url, (n) => (n === name ? value : 'id_1'));
        const res = await call(route.method, path, hasBody(route.method) ? { body: {} } : {});
        if (status === 422) assertBadCharacter(res, `${route.method} ${path}`, `params.${name}`);
        else assertRefused(res, `${route.method} ${path}`, status, code);
      }
    });
  }
});

describe('query values', () => {
  for (const [label, raw] of [['NUL', '%00'], ['\\u0001', '%01'], ['ESC', '%1B']]) {
    test(`${label} in a query value is a 422 naming the field, on every route`, async () => {
      for (const route of routes) {
        const path = `${fill(route.url, () => 'id_1')}?note=a${raw}b`;
        const res = await call(route.method, path, hasBody(route.method) ? { body: {} } : {});
        if (route.url.includes('*')) assertEnvelope(res, `${route.method} ${path}`);
        else assertBadCharacter(res, `${route.method} ${path}`, 'querystring.note');
      }
    });
  }

  test('tab, line feed and a percent-encoded surrogate (U+FFFD once decoded) are not refused as characters', async () => {
    for (const raw of ['%09', '%0A', '%ED%A0%80', '%E0%A4%A']) {
      const res = await api.request('GET', `/accounts?ownerId=a${raw}b`);
      assert.equal(res.status, 200, `${raw}: ${res.text}`);
    }
  });

  test('year 0000 in createdFrom or createdTo is a 422 on every list that filters by date', async () => {
    const doc = (await api.request('GET', '/openapi.json')).body;
    const lists = Object.entries(doc.paths as Record<string, any>)
      .filter(([, item]) => item.get?.parameters?.some((p: any) => p.in === 'query' && p.name === 'createdFrom'))
      .map(([path]) => path.replace(/\{[A-Za-z]+\}/g, 'id_1'));
    assert.ok(lists.length >= 8, `lists with date filters: ${lists.join(', ')}`);
    for (const path of lists) {
      for (const name of ['createdFrom', 'createdTo']) {
        const res = await api.request('GET', `${path}?${name}=0000-01-01T00:00:00Z`);
        assertRefused(res, `GET ${path} ${name}`, 422, 'validation_failed', `querystring.${name}`);
        assert.match(res.body.error.details[0].message, /years 0001 to 9999/);
      }
    }
  });

  test('a leap second, an instant before year 0001 in UTC and an infinite limit are 422s, not 500s', async () => {
    for (const [query, field] of [
      ['createdFrom=2016-12-31T23:59:60Z', 'createdFrom'], ['createdFrom=0001-01-01T00:00:00%2B14:00', 'createdFrom'],
      ['createdTo=0000-12-31T23:00:00-01:00', 'createdTo'], ['limit=1e400', 'limit'],
    ]) {
      assertRefused(await api.request('GET', `/events?${query}`), query, 422, 'validation_failed', `querystring.${field}`);
    }
    const webhook = await api.request('POST', '/webhooks', { body: { url: 'https://example.com/leap', events: ['*'] } });
    const replay = await api.request('POST', `/webhooks/${webhook.body.data.id}/replay`, { body: { since: '2016-12-31T23:59:60Z' } });
    assertRefused(replay, 'replay since a leap second', 422, 'validation_failed', 'since');
  });

  test('years 0001 and 9999 are accepted', async () => {
    const res = await api.request('GET', '/events?createdFrom=0001-01-01T00:00:00Z&createdTo=9999-12-31T23:59:59Z');
    assert.equal(res.status, 200, res.text);
  });
});

describe('JSON bodies', () => {
  const BAD_STRINGS: Array<[string, string]> = [
    ['NUL', 'a\u0000b'], ['\\u0001', 'a\u0001b'], ['DEL', 'a\u007fb'],
    ['a lone high surrogate', 'a\ud800b'], ['a lone low surrogate', 'a\udc00b'], ['swapped surrogates', '\udc00\ud800'],
  ];
  for (const [label, value] of BAD_STRINGS) {
    test(`${label} in a JSON field, nested or as a field name, is a 422 naming it, on every route with a body`, async () => {
      for (const route of routes.filter((r) => hasBody(r.method))) {
        const path = fill(route.url, () => 'id_1');
        for (const [body, field] of [[{ name: value }, 'name'], [{ outer: { list: ['ok', value] } }, 'outer.list.1'], [{ [value]: 1 }, undefined]] as const) {
          const res = await call(route.method, path, { body });
          assertBadCharacter(res, `${route.method} ${path} ${JSON.stringify(body)}`, field);
        }
      }
    });
  }

  /** `{"a":{"a":…1…}}`, `depth` objects deep, as raw JSON text. */
  const nested = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

  test(`a body nested more than ${MAX_NESTING_DEPTH} levels is a 422 on every route with a body`, async () => {
    for (const route of routes.filter((r) => hasBody(r.method) && !r.url.includes('*'))) {
      const path = fill(route.url, () => 'id_1');
      const res = await api.request(route.method, path, { raw: nested(MAX_NESTING_DEPTH + 1), headers: { ...ACCEPT_JSON, 'content-type': 'application/json' } });
      assertRefused(res, `${route.method} ${path}`, 422, 'validation_failed');
      assert.match(res.body.error.details[0].message, new RegExp(`nested more than ${MAX_NESTING_DEPTH} levels deep`), `${route.method} ${path}`);
    }
  });

  test('a body 100,000 levels deep on a route without a body schema is a 422 (its idempotency fingerprint overflowed the stack: 500)', async () => {
    const res = await api.request('POST', '/auth/logout', { raw: nested(100_000), headers: { 'content-type': 'application/json', 'idempotency-key': 'deep-1' } });
    assertRefused(res, 'POST /auth/logout', 422, 'validation_failed');
  });

  test('a NUL in an otherwise valid body creates nothing (it used to reach PostgreSQL: 500)', async () => {
    const before = (await api.request('GET', '/accounts?limit=100')).body.data.length;
    const body = { ownerType: 'business', ownerId: 'o\u0000', name: 'Nul', type: 'checking', category: 'fiat', currency: 'USD' };
    assertBadCharacter(await api.request('POST', '/accounts', { body }), 'POST /accounts', 'ownerId');
    assert.equal((await api.request('GET', '/accounts?limit=100')).body.data.length, before);
  });

  test('a lone surrogate is refused, not stored as U+FFFD', async () => {
    const body = { ownerType: 'business', ownerId: 'o\ud800', name: 'Surrogate', type: 'checking', category: 'fiat', currency: 'USD' };
    assertBadCharacter(await api.request('POST', '/accounts', { body }), 'POST /accounts', 'ownerId');
  });

  test('tab, line feed, carriage return and emoji (a surrogate pair) pass', async () => {
    const account = await createAccount(api, { name: 'Tab\tLine\nReturn\r 💳' });
    assert.equal(account.name, 'Tab\tLine\nReturn\r 💳');
  });

  test('year 0000 in a body date or date-time is a 422 naming the field', async () => {
    const holder = await api.request('POST', '/card-holders', {
      body: {
        firstName: 'Jane', lastName: 'Doe', email: 'jane.doe@example.com', phoneNumber: '+14155550100',
        dateOfBirth: '0000-01-01', nationality: 'US', addressLine1: '123 Main St', city: 'San Francisco', state: 'CA', postalCode: '94105', country: 'US',
      },
    });
    assertRefused(holder, 'POST /card-holders', 422, 'validation_failed', 'dateOfBirth');
    const webhook = await api.request('POST', '/webhooks', { body: { url: 'https://example.com/hooks', events: ['*'] } });
    assert.equal(webhook.status, 201, webhook.text);
    const replay = await api.request('POST', `/webhooks/${webhook.body.data.id}/replay`, { body: { since: '0000-06-01T00:00:00Z' } });
    assertRefused(replay, 'POST /webhooks/:id/replay', 422, 'validation_failed', 'since');
  });
});

describe('multipart fields', () => {
  for (const [label, value] of [['NUL', 'Ja\u0000ne'], ['\\u0001', 'Ja\u0001ne']]) {
    test(`${label} in a multipart text field is a 422 naming it, on every multipart route`, async () => {
      const holder = await createCardHolder(api);
      for (const [method, path] of [['POST', '/card-holders'], ['PATCH', `/card-holders/${holder.id}`], ['POST', `/card-holders/${holder.id}/documents`]]) {
        const form = new FormData();
        form.append('firstName', value);
        form.append('idDocumentFront', new Blob([Buffer.from('%PDF-1.4 test')], { type: 'application/pdf' }), 'id.pdf');
        assertBadCharacter(await api.request(method, path, { form }), `${method} ${path}`, 'firstName');
      }
      const read = await api.request('GET', `/card-holders/${holder.id}`);
      assert.equal(read.body.data.firstName, 'Jane');
      assert.equal(read.body.data.documents.length, 0);
    });
  }
});

describe('wrong methods', () => {
  test('a method a path does not take is a 405 method_not_allowed with Allow, without a credential', async () => {
    const byPath = new Map<string, Set<string>>();
    // Wildcards are left out: the route tree prints /docs/static/* as /docs/*.
    for (const route of routes.filter((r) => !r.url.includes('*'))) byPath.set(route.url, new Set([...(byPath.get(route.url) ?? []), route.method]));
    let checked = 0;
    for (const [url, methods] of byPath) {
      const allowed = [...methods, ...(methods.has('GET') ? ['HEAD'] : [])].sort().join(', ');
      const path = fill(url, () => 'id_1');
      for (const method of METHODS.filter((m) => !methods.has(m))) {
        const res = await call(method, path, { key: null, ...(hasBody(method) ? { body: {} } : {}) });
        assertRefused(res, `${method} ${path}`, 405, 'method_not_allowed');
        assert.equal(res.headers.get('allow'), allowed, `${method} ${path}`);
        checked++;
      }
    }
    assert.ok(checked > 100, `${checked} wrong methods checked`);
  });

  test('OPTIONS is a 405 too; HEAD answers where GET does', async () => {
    const options = await api.request('OPTIONS', '/accounts');
    assertRefused(options, 'OPTIONS /accounts', 405, 'method_not_allowed');
    assert.equal(options.headers.get('allow'), 'GET, HEAD, POST');
    assert.equal((await api.request('HEAD', '/health')).status, 200);
  });

  test('an unknown path is still a 404 route_not_found, whatever the method', async () => {
    for (const method of METHODS) {
      const res = await api.request(method, '/no-such-route/id_1', { key: null });
      assertRefused(res, `${method} /no-such-route`, 404, 'route_not_found');
      assert.equal(res.headers.get('allow'), null);
    }
  });
});

describe('PostgreSQL data exceptions (the safety net)', () => {
  test('a value PostgreSQL refuses maps to a 422, not a 500', async () => {
    for (const [sql, params] of [
      ['SELECT $1::text AS value', ['a\u0000b']],
      ["SELECT '0000-01-01T00:00:00Z'::timestamptz AS value", []],
      ['SELECT $1::smallint AS value', [1_000_000]],
    ] as Array<[string, unknown[]]>) {
      const error = await api.app.ctx.db.query(sql, params).then(() => undefined, (e: unknown) => e);
      assert.ok(error, `${sql} must fail`);
      const mapped = toApiError(error);
      assert.equal(mapped.statusCode, 422, `${sql}: ${(error as Error).message}`);
      assert.equal(mapped.code, 'validation_failed');
    }
  });
});

describe('after all of it', () => {
  test('the server is healthy and serves a normal request', async () => {
    assert.equal((await api.request('GET', '/health')).status, 200);
    assert.equal((await api.request('GET', '/ready')).status, 200);
    await createAccount(api);
  });
});

// ---------------------------------------------------------------------------------------------

describe('time limits and socket errors', () => {
  const SHORT = { requestMs: 400, headersMs: 200, checkIntervalMs: 50 };
  let slow: Harness;
  before(async () => { slow = await startHarness({ timeouts: SHORT }); });
  after(async () => { await slow.checkLedger(); await slow.close(); });

  /** Writes `head` (and `drip` bytes every 50 ms, if given) and resolves with all the server sent. */
  function stall(head: string, drip?: string): Promise<string> {
    const { port } = new URL(slow.baseUrl);
    return new Promise((resolve) => {
      let received = '';
      let timer: NodeJS.Timeout | undefined;
      const socket = net.connect(Number(port), '127.0.0.1', () => {
        socket.write(head);
        if (drip) timer = setInterval(() => socket.writable && socket.write(drip), 50);
      });
      socket.on('data', (chunk) => { received += chunk; });
      socket.on('error', () => undefined);
      socket.on('close', () => { clearInterval(timer); resolve(received); });
    });
  }

  function assert408(raw: string, label: string) {
    assert.match(raw, /^HTTP\/1\.1 408 /, `${label}: ${raw}`);
    const body = JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4));
    assert.equal(body.error.code, 'request_timeout', label);
    assert.equal(body.statusCode, 408, label);
    assert.match(body.requestId, /^req_/, label);
  }

  const key = () => `x-api-key: ${slow.apiKey}\r\n`;

  test('a JSON body promised by Content-Length and never sent is cut off with a 408', { timeout: 20_000 }, async () => {
    const raw = await stall(`POST /accounts HTTP/1.1\r\nHost: x\r\n${key()}Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"name":`);
    assert408(raw, 'stalled JSON body');
  });

  test('a body sent one byte at a time is cut off too: the limit is on the whole request', { timeout: 20_000 }, async () => {
    const raw = await stall(`POST /accounts HTTP/1.1\r\nHost: x\r\n${key()}Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n"`, ' ');
    assert408(raw, 'dripped JSON body');
  });

  test('headers that never end are cut off with a 408', { timeout: 20_000 }, async () => {
    assert408(await stall('GET /health HTTP/1.1\r\nHost: x\r\n'), 'stalled headers');
  });

  test('a stalled multipart upload is cut off with a 408 and stores nothing', { timeout: 20_000 }, async () => {
    const holder = await createCardHolder(slow);
    const part = '--XX\r\nContent-Disposition: form-data; name="idDocumentFront"; filename="id.pdf"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4';
    const raw = await stall(`POST /card-holders/${holder.id}/documents HTTP/1.1\r\nHost: x\r\n${key()}`
      + `Content-Type: multipart/form-data; boundary=XX\r\nContent-Length: 1000000\r\n\r\n${part}`);
    assert408(raw, 'stalled upload');
    const read = await slow.request('GET', `/card-holders/${holder.id}`);
    assert.equal(read.body.data.documents.length, 0);
  });

  test('headers over the size limit are a 431 headers_too_large in the envelope', { timeout: 20_000 }, async () => {
    const raw = await stall(`GET /health HTTP/1.1\r\nHost: x\r\nx-padding: ${'a'.repeat(64 * 1024)}\r\n\r\n`);
    assert.match(raw, /^HTTP\/1\.1 431 /, raw);
    assert.equal(JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)).error.code, 'headers_too_large');
  });

  test('a request that is not HTTP is a 400 bad_request in the envelope', { timeout: 20_000 }, async () => {
    const raw = await stall('HELLO\r\n\r\n');
    assert.match(raw, /^HTTP\/1\.1 400 /, raw);
    assert.equal(JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)).error.code, 'bad_request');
  });

  test('the server keeps serving others, with and after stalled clients', { timeout: 20_000 }, async () => {
    const stalled = stall(`POST /accounts HTTP/1.1\r\nHost: x\r\n${key()}Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n`);
    assert.equal((await slow.request('GET', '/health')).status, 200);
    await createAccount(slow);
    assert408(await stalled, 'stalled beside a normal request');
    assert.equal((await slow.request('GET', '/health')).status, 200);
  });
});

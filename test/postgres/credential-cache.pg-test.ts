// Credentials cached per process (issue 10; organizations.service cacheCredentials): a key's
// lookup is read once, then served from memory while the process hears every credential change
// (LISTEN paygen_credentials, migration 026's triggers). Two apps on a database of their own, so
// that no other suite's sign-ups (each an api_keys insert, hence a notification) interfere.
import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { startHarness, type Harness } from '../support/api.ts';
import { createOwnDatabase } from './processes.ts';
import { POSTGRES_ONLY, statementsDuring } from './support.ts';

const KEY_LOOKUP = /FROM api_keys k WHERE k\.key_hash/;
/** Longest a change may take to reach the other process (it takes milliseconds). */
const HEARD_WITHIN_MS = 2_000;
const ACCOUNT = { ownerType: 'business', ownerId: 'owner-1', name: 'Cache', type: 'checking', category: 'fiat', currency: 'USD' };

async function eventually(what: string, check: () => Promise<boolean>, withinMs = HEARD_WITHIN_MS) {
  const deadline = Date.now() + withinMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.fail(`${what}: not within ${withinMs} ms`);
}

/**
 * Inside a describe: a database of its own and a direct SQL connection to it; what the suite
 * starts on it is handed to closeLater and closed, last first, before the database is dropped.
 */
function ownDatabase() {
  const closers: Array<() => Promise<unknown>> = [];
  const own = {
    url: '',
    sql: undefined as unknown as pg.Client,
    closeLater<T extends { close(): Promise<unknown> }>(thing: T): T {
      closers.push(() => thing.close());
      return thing;
    },
  };
  before(async () => {
    const database = await createOwnDatabase();
    closers.push(() => database.drop());
    own.url = database.url;
    own.sql = new pg.Client({ connectionString: database.url });
    await own.sql.connect();
    closers.push(() => own.sql.end());
  });
  after(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });
  return own;
}

describe('credentials cached per process, forgotten on every change', { skip: POSTGRES_ONLY }, () => {
  const own = ownDatabase();
  let one: Harness;
  let two: Harness;
  /** The same organization's key, sent to the second app. */
  const on = (app: Harness, key: string) => ({
    get: (path: string) => sendAs(app, 'GET', path, key),
    post: (path: string, body: unknown) => sendAs(app, 'POST', path, key, body),
  });
  const sendAs = (app: Harness, method: 'GET' | 'POST' | 'DELETE', path: string, key: string, body?: unknown) =>
    app.request(method, path, { key, ...(body === undefined ? {} : { body }) });

  async function newKey(name: string): Promise<{ id: string; key: string }> {
    const res = await one.request('POST', '/api-keys', { body: { name } });
    assert.equal(res.status, 201, res.text);
    return { id: res.body.data.id, key: res.body.data.key };
  }

  before(async () => {
    one = own.closeLater(await startHarness({ config: { databaseUrl: own.url } }));
    two = own.closeLater(await startHarness({ config: { databaseUrl: own.url } }));
  });

  test('a key is looked up once, then served from memory', async () => {
    const { key } = await newKey('cached');
    assert.equal((await on(one, key).get('/accounts')).status, 200);
    const { texts } = await statementsDuring(async () => {
      for (let i = 0; i < 10; i++) assert.equal((await on(one, key).get('/accounts')).status, 200);
    });
    assert.equal(texts.filter((t) => KEY_LOOKUP.test(t)).length, 0, 'no key lookup after the first request');
    // Another organization's new key and signing key are heard, and forget only that organization's keys.
    const other = await one.otherOrganization();
    const signingKey = await on(two, other.apiKey).post('/signing-keys', { keyId: 'elsewhere', algorithm: 'hmac-sha256' });
    assert.equal(signingKey.status, 201, signingKey.text);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const afterOther = await statementsDuring(async () => {
      assert.equal((await on(one, key).get('/accounts')).status, 200);
    });
    assert.equal(afterOther.texts.filter((t) => KEY_LOOKUP.test(t)).length, 0, "another organization's change leaves this key cached");
    // An unknown key is never cached: each attempt reads the database, and fails.
    const unknown = await statementsDuring(async () => {
      for (let i = 0; i < 3; i++) assert.equal((await on(one, 'sk_sbx_not_a_key').get('/accounts')).status, 401);
    });
    assert.equal(unknown.texts.filter((t) => KEY_LOOKUP.test(t)).length, 3);
  });

  test('a revoked key fails at once in the process that revoked it, and soon in the other', async () => {
    const { id, key } = await newKey('to revoke');
    for (const app of [one, two]) assert.equal((await on(app, key).get('/accounts')).status, 200);
    const revoked = await one.request('DELETE', `/api-keys/${id}`);
    assert.equal(revoked.status, 200, revoked.text);
    const first = await on(one, key).get('/accounts');
    assert.equal(first.status, 401, 'the revoking process refuses the key on the very next request');
    assert.equal(first.body.error.code, 'unauthorized');
    await eventually('the other process refuses the revoked key', async () => (await on(two, key).get('/accounts')).status === 401);
    // And it stays refused on both.
    for (const app of [one, two]) assert.equal((await on(app, key).post('/accounts', ACCOUNT)).status, 401);
  });

  test('a change made in SQL, outside any Paygen process, is heard too', async () => {
    const { id, key } = await newKey('revoked in SQL');
    for (const app of [one, two]) assert.equal((await on(app, key).get('/accounts')).status, 200);
    await own.sql.query('UPDATE api_keys SET revoked_at = now() WHERE id = $1', [id]);
    for (const app of [one, two]) {
      await eventually('a key revoked in SQL is refused', async () => (await on(app, key).get('/accounts')).status === 401);
    }
  });

  test('a required signing key binds the next unsigned change: at once here, soon in the other process', async () => {
    const other = await one.otherOrganization();
    const ok = await on(one, other.apiKey).post('/accounts', ACCOUNT);
    assert.equal(ok.status, 201, ok.text);
    assert.equal((await on(two, other.apiKey).post('/accounts', ACCOUNT)).status, 201);
    const signingKey = await on(one, other.apiKey).post('/signing-keys', { keyId: 'cache', algorithm: 'hmac-sha256', required: true });
    assert.equal(signingKey.status, 201, signingKey.text);
    const unsigned = await on(one, other.apiKey).post('/accounts', ACCOUNT);
    assert.equal(`${unsigned.status} ${unsigned.body.error?.code}`, '401 signature_required');
    await eventually('the other process asks for a signature', async () => {
      const res = await on(two, other.apiKey).post('/accounts', ACCOUNT);
      assert.ok(res.status === 201 || res.status === 401, res.text);
      return res.status === 401 && res.body.error.code === 'signature_required';
    });
  });

  test('while its LISTEN connection is lost a process caches nothing; it listens again by itself', async () => {
    const { id, key } = await newKey('listener lost');
    assert.equal((await on(two, key).get('/accounts')).status, 200);
    const cache = two.app.ctx.credentials!;
    assert.ok(cache.active && cache.size > 0, 'the second app caches while it listens');
    const { rows } = await own.sql.query<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query = 'LISTEN paygen_credentials'`);
    assert.equal(rows.length, 2, 'one LISTEN connection per app');
    await own.sql.query('SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid', [rows.map((r) => r.pid)]);
    await eventually('the apps notice the lost connection', async () => !cache.active);
    assert.equal(cache.size, 0, 'everything cached was forgotten');
    // Not heard now: a revocation in SQL must still bind the very next request.
    await own.sql.query('UPDATE api_keys SET revoked_at = now() WHERE id = $1', [id]);
    assert.equal((await on(two, key).get('/accounts')).status, 401, 'read from the database while deaf');
    await eventually('the app listens again', async () => cache.active);
    const { key: fresh } = await newKey('after the reconnect');
    assert.equal((await on(two, fresh).get('/accounts')).status, 200);
    const { texts } = await statementsDuring(async () => {
      assert.equal((await on(two, fresh).get('/accounts')).status, 200);
    });
    assert.equal(texts.filter((t) => KEY_LOOKUP.test(t)).length, 0, 'cached again once listening');
  });
});

/**
 * A TCP proxy to PostgreSQL that can silence the connection that sent LISTEN: it stays open but
 * nothing passes any more, as when a NAT or a load balancer forgets an idle connection.
 */
async function silencingProxy(
  target: URL, options: { deafListeners?: boolean } = {},
): Promise<{ url: string; silenceListener(): void; close(): Promise<void> }> {
  const pairs: Array<{ client: Socket; server: Socket; listener: boolean; silent: boolean }> = [];
  const proxy: Server = createServer((client) => {
    const server = connect(Number(target.port || 5432), target.hostname);
    const pair = { client, server, listener: false, silent: false };
    pairs.push(pair);
    client.on('data', (chunk: Buffer) => {
      if (chunk.includes('LISTEN paygen_credentials')) pair.listener = true;
      if (!pair.silent) server.write(chunk);
    });
    server.on('data', (chunk: Buffer) => {
      if (pair.silent) return;
      client.write(chunk);
      // deafListeners: LISTEN is answered, and then nothing more comes back (a transaction-mode pooler).
      if (options.deafListeners && pair.listener) pair.silent = true;
    });
    for (const [a, b] of [[client, server], [server, client]]) {
      a.on('error', () => b.destroy());
      a.on('close', () => { if (!pair.silent) b.destroy(); });
    }
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const url = new URL(target);
  url.hostname = '127.0.0.1';
  url.port = String((proxy.address() as { port: number }).port);
  return {
    url: url.toString(),
    silenceListener() {
      for (const pair of pairs) if (pair.listener) pair.silent = true;
    },
    async close() {
      for (const pair of pairs) { pair.client.destroy(); pair.server.destroy(); }
      await new Promise((resolve) => proxy.close(resolve));
    },
  };
}

describe('a LISTEN connection that goes silent is noticed by its heartbeat', { skip: POSTGRES_ONLY }, () => {
  const own = ownDatabase();
  let proxy: Awaited<ReturnType<typeof silencingProxy>>;
  let api: Harness;
  before(async () => {
    proxy = own.closeLater(await silencingProxy(new URL(own.url)));
    api = own.closeLater(await startHarness({ config: { databaseUrl: proxy.url } }));
  });

  test('caching stops within two heartbeats, a revocation binds at once meanwhile, and it listens again', async () => {
    const created = await api.request('POST', '/api-keys', { body: { name: 'silenced' } });
    assert.equal(created.status, 201, created.text);
    const { id, key } = created.body.data as { id: string; key: string };
    assert.equal((await api.request('GET', '/accounts', { key })).status, 200);
    const cache = api.app.ctx.credentials!;
    assert.ok(cache.active && cache.size > 0);
    proxy.silenceListener();
    // Heartbeats every 5 s: the one after the silence goes unheard, the next one notices.
    await eventually('the silent LISTEN connection is noticed', async () => !cache.active, 15_000);
    await own.sql.query('UPDATE api_keys SET revoked_at = now() WHERE id = $1', [id]);
    assert.equal((await api.request('GET', '/accounts', { key })).status, 401, 'read from the database while not heard');
    await eventually('a new LISTEN connection hears again', async () => cache.active, 5_000);
  });
});

describe('a LISTEN that is answered but never hears (a transaction-mode pooler) never turns caching on', { skip: POSTGRES_ONLY }, () => {
  const own = ownDatabase();
  let api: Harness;
  before(async () => {
    const proxy = own.closeLater(await silencingProxy(new URL(own.url), { deafListeners: true }));
    api = own.closeLater(await startHarness({ config: { databaseUrl: proxy.url } }));
  });

  test('every request reads its key, so a revocation binds the next one', async () => {
    assert.equal(api.app.ctx.credentials?.active, false, 'not caching: its own notification never came back');
    const created = await api.request('POST', '/api-keys', { body: { name: 'deaf' } });
    assert.equal(created.status, 201, created.text);
    const { id, key } = created.body.data as { id: string; key: string };
    assert.equal((await api.request('GET', '/accounts', { key })).status, 200);
    await own.sql.query('UPDATE api_keys SET revoked_at = now() WHERE id = $1', [id]);
    assert.equal((await api.request('GET', '/accounts', { key })).status, 401);
    assert.equal(api.app.ctx.credentials?.size, 0);
  });
});

// Test harness: a real app on a real database (in-memory PGlite by default, PostgreSQL when
// PAYGEN_TEST_DATABASE_URL is set by the PostgreSQL runner), reached over real HTTP. Each harness
// signs up its own organization, so suites stay isolated even on a shared PostgreSQL database.
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { buildApp, type BuildOptions } from '../../src/app.ts';
import type { Config } from '../../src/config.ts';
import * as ledger from '../../src/modules/ledger/ledger.service.ts';

export interface Response<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export interface RequestOptions {
  body?: unknown;
  form?: FormData;
  headers?: Record<string, string>;
  /** API key to send; null sends no credential. Defaults to the harness's key. */
  key?: string | null;
  bearer?: string;
  /** Raw body string (sent as is with the given content-type header). */
  raw?: string | Buffer;
}

export interface Harness {
  app: FastifyInstance;
  baseUrl: string;
  apiKey: string;
  organizationId: string;
  request<T = any>(method: string, path: string, options?: RequestOptions): Promise<Response<T>>;
  /** Signs up another organization and returns a key for it (for tenancy tests). */
  otherOrganization(): Promise<{ apiKey: string; organizationId: string }>;
  /** Asserts the ledger invariants: over the whole ledger on PGlite, this org's on PostgreSQL. */
  checkLedger(): Promise<void>;
  close(): Promise<void>;
}

export const TEST_MASTER_KEY = Buffer.alloc(32, 7).toString('base64');
export const testDatabaseUrl = () => process.env.PAYGEN_TEST_DATABASE_URL || 'memory://';
export const onPostgres = () => testDatabaseUrl().startsWith('postgres');

export async function send(baseUrl: string, method: string, path: string, options: RequestOptions, defaultKey: string): Promise<Response> {
  const headers: Record<string, string> = { ...options.headers };
  const key = options.key === undefined ? defaultKey : options.key;
  if (options.bearer) headers.authorization = `Bearer ${options.bearer}`;
  else if (key) headers['x-api-key'] = key;
  let body: BodyInit | undefined;
  if (options.form) body = options.form;
  else if (options.raw !== undefined) body = options.raw as BodyInit;
  else if (options.body !== undefined) {
    headers['content-type'] ??= 'application/json';
    body = JSON.stringify(options.body);
  }
  const res = await fetch(baseUrl + path, { method, headers, body });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not JSON (HTML docs, file downloads): keep the text.
  }
  return { status: res.status, headers: res.headers, body: parsed, text };
}

export async function startHarness(options: { config?: Partial<Config> } & Omit<BuildOptions, 'config'> = {}): Promise<Harness> {
  const app = await buildApp({
    logger: false,
    ...options,
    // One master key for every test app, as every process of one deployment shares it: a key or a
    // PAN made by one app is readable by another on the same PostgreSQL. No background jobs unless a
    // test asks: on a shared PostgreSQL they would deliver and expire other suites' work.
    config: { databaseUrl: testDatabaseUrl(), sandboxApiKey: `sk_boot_${randomBytes(12).toString('hex')}`, masterKey: TEST_MASTER_KEY, workers: false, ...options.config },
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  const baseUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;

  const signUp = async () => {
    const email = `dev-${randomBytes(6).toString('hex')}@example.com`;
    const signup = await send(baseUrl, 'POST', '/auth/signup', { body: { email, password: 'correct horse battery', organizationName: 'Test org' }, key: null }, '');
    if (signup.status !== 201) throw new Error(`signup failed: ${signup.text}`);
    const key = await send(baseUrl, 'POST', '/api-keys', { body: { name: 'tests' }, bearer: signup.body.data.token }, '');
    if (key.status !== 201) throw new Error(`api key failed: ${key.text}`);
    return { apiKey: key.body.data.key as string, organizationId: signup.body.data.organization.id as string };
  };
  const own = await signUp();

  const harness: Harness = {
    app,
    baseUrl,
    apiKey: own.apiKey,
    organizationId: own.organizationId,
    request: (method, path, requestOptions = {}) => send(baseUrl, method, path, requestOptions, own.apiKey),
    otherOrganization: signUp,
    async checkLedger() {
      const result = await ledger.check(app.ctx.db, onPostgres() ? own.organizationId : null);
      if (!result.ok) throw new Error(`ledger check failed:\n${result.problems.join('\n')}`);
    },
    async close() {
      await app.close();
    },
  };
  return harness;
}

// Real Paygen processes for the reliability suites (crash, outage, several instances, shutdown):
// `node --import tsx src/server.ts` or `src/worker.ts` on the test database, a TCP proxy in front
// of PostgreSQL that a test can cut, and the clean-up that ends whatever a suite started.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { migrate } from '../../src/platform/migrations.ts';
import { openDb } from '../../src/platform/db.ts';
import { send, testDatabaseUrl, TEST_MASTER_KEY, type Harness } from '../support/api.ts';

const HEALTH_POLL_MS = 100;
/** A process that does not answer /health within a minute is broken, not slow. */
const MAX_HEALTH_POLLS = 600;

export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  return typeof address === 'object' && address ? address.port : 0;
}

export interface PaygenProcess {
  child: ChildProcess;
  /** Base URL of a server; '' for a worker. */
  url: string;
  /** Everything the process wrote to stdout and stderr (JSON log lines). */
  output: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * A database of its own, migrated, for a suite whose processes run background jobs: a worker on
 * the shared test database would deliver and expire the other suites' work. Dropped by `drop`.
 */
export async function createOwnDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const shared = new URL(testDatabaseUrl());
  const name = `paygen_rel_${randomBytes(6).toString('hex')}`;
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: shared.toString(), connectionTimeoutMillis: 10_000 });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(shared);
  url.pathname = `/${name}`;
  const db = await openDb({ databaseUrl: url.toString(), dataDir: '', poolSize: 1 });
  try {
    await migrate(db);
  } finally {
    await db.close();
  }
  return { url: url.toString(), drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

/** Signs up an organization on a running server: a Harness for the fixtures (no app, no close). */
export async function clientFor(baseUrl: string): Promise<Harness> {
  const email = `rel-${randomBytes(6).toString('hex')}@example.com`;
  const signup = await send(baseUrl, 'POST', '/auth/signup', { body: { email, password: 'correct horse battery', organizationName: 'Reliability' }, key: null }, '');
  if (signup.status !== 201) throw new Error(`signup failed: ${signup.text}`);
  const key = await send(baseUrl, 'POST', '/api-keys', { body: { name: 'reliability' }, bearer: signup.body.data.token }, '');
  if (key.status !== 201) throw new Error(`api key failed: ${key.text}`);
  const apiKey: string = key.body.data.key;
  const unsupported = () => { throw new Error('not available on a spawned server'); };
  return {
    app: undefined as never, baseUrl, apiKey, organizationId: signup.body.data.organization.id,
    request: (method, path, options = {}) => send(baseUrl, method, path, options, apiKey),
    otherOrganization: unsupported, checkLedger: unsupported, close: async () => undefined,
  };
}

/** Environment of every spawned process: `databaseUrl`, the tests' master key, JSON logs. */
export function baseEnv(databaseUrl: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env, DATABASE_URL: databaseUrl, HOST: '127.0.0.1', PAYGEN_MASTER_KEY: TEST_MASTER_KEY,
    PAYGEN_SANDBOX_OPENING_BALANCE: '0', PAYGEN_RATE_LIMIT_PER_MINUTE: '1000000', LOG_LEVEL: 'warn', LOG_FORMAT: 'json',
    PAYGEN_SANDBOX_API_KEY: '', PAYGEN_DATABASE_POOL_SIZE: '5', ...extra,
  };
}

function spawnPaygen(entry: string, env: NodeJS.ProcessEnv): PaygenProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  const collect = (chunk: Buffer) => { output.push(...chunk.toString('utf8').split('\n').filter(Boolean)); };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  return { child, url: '', output, exited };
}

/** A server on `port` (a free one by default), answering once /health does. */
export async function startServer(databaseUrl: string, extra: Record<string, string> = {}, port?: number): Promise<PaygenProcess> {
  const p = port ?? await freePort();
  const server = spawnPaygen('src/server.ts', baseEnv(databaseUrl, { PAYGEN_WORKERS: 'false', PORT: String(p), ...extra }));
  server.url = `http://127.0.0.1:${p}`;
  for (let poll = 0; poll < MAX_HEALTH_POLLS; poll++) {
    if (server.child.exitCode !== null) throw new Error(`the server exited with ${server.child.exitCode}: ${server.output.join('\n')}`);
    const up = await fetch(`${server.url}/health`).then((r) => r.ok, () => false);
    if (up) return server;
    await sleep(HEALTH_POLL_MS);
  }
  await kill(server);
  throw new Error('the server never answered /health');
}

/** A worker process (`src/worker.ts`), once it logged that its jobs run. */
export async function startWorker(databaseUrl: string, extra: Record<string, string> = {}): Promise<PaygenProcess> {
  const worker = spawnPaygen('src/worker.ts', baseEnv(databaseUrl, { LOG_LEVEL: 'info', ...extra }));
  for (let poll = 0; poll < MAX_HEALTH_POLLS; poll++) {
    if (worker.output.some((line) => line.includes('worker started'))) return worker;
    if (worker.child.exitCode !== null) throw new Error(`the worker exited with ${worker.child.exitCode}: ${worker.output.join('\n')}`);
    await sleep(HEALTH_POLL_MS);
  }
  await kill(worker);
  throw new Error('the worker never started');
}

/** SIGKILL, and wait for the exit. */
export async function kill(p: PaygenProcess) {
  if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  await p.exited;
}

/** Polls `check` until it returns true, at most `polls` times `pauseMs` apart. */
export async function eventually(what: string, check: () => Promise<boolean>, polls = 200, pauseMs = 50) {
  for (let i = 0; i < polls; i++) {
    if (await check()) return;
    await sleep(pauseMs);
  }
  throw new Error(`${what}: still not true after ${polls} polls`);
}

/**
 * A TCP proxy in front of PostgreSQL that a test can cut. Cut, it destroys every open connection
 * and holds new ones without answering (a database that does not answer, not one that refuses),
 * so that only the client's connect timeout ends the wait; restored, it forwards again.
 */
export interface DbProxy {
  /** DATABASE_URL through the proxy. */
  databaseUrl: string;
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

export async function startDbProxy(): Promise<DbProxy> {
  const target = new URL(testDatabaseUrl());
  const sockets = new Set<Socket>();
  let up = true;
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  const server: Server = createServer((client) => {
    track(client);
    if (!up) return; // held: neither answered nor closed
    const upstream = connect(Number(target.port || 5432), target.hostname);
    track(upstream);
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const url = new URL(testDatabaseUrl());
  url.hostname = '127.0.0.1';
  url.port = String(typeof address === 'object' && address ? address.port : 0);
  const destroyAll = () => { for (const socket of sockets) socket.destroy(); sockets.clear(); };
  return {
    databaseUrl: url.toString(),
    cut() { up = false; destroyAll(); },
    restore() { up = true; destroyAll(); },
    close: () => new Promise<void>((resolve) => { destroyAll(); server.close(() => resolve()); }),
  };
}

// `npm run test:pg`: the suites of `npm test` whose outcome depends on the database engine, plus
// the concurrency suites of test/postgres/, on a fresh database of the local PostgreSQL, dropped
// afterwards (on failure and Ctrl-C too). Suites listed in NOT_ON_POSTGRES are left out: they run
// on the embedded database whatever the runner says, or check nothing the engine decides.
// Exits with the test runner's exit code.
//
//   npm run test:pg                                   every suite
//   npm run test:pg -- test/postgres/x.pg-test.ts     only the files given
//
// PAYGEN_TEST_ADMIN_DATABASE_URL names the server and the database to connect to for CREATE and
// DROP DATABASE (default postgres://postgres@127.0.0.1:5432/test).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import pg from 'pg';
import { openDb } from '../../src/platform/db.ts';
import { migrate } from '../../src/platform/migrations.ts';

const ADMIN_URL = process.env.PAYGEN_TEST_ADMIN_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
const TEST_ROOT = 'test';
/** `npm test`'s files, plus the suites that only make sense on PostgreSQL. */
const TEST_FILE = /\.test\.ts$/;
const POSTGRES_ONLY_FILE = /\.pg-test\.ts$/;
const TEST_CONCURRENCY = 2;
/**
 * `npm test` suites that would only repeat themselves here (CI time is the price). Each says why;
 * anything that reads or writes application data through SQL stays in.
 */
const NOT_ON_POSTGRES = new Map<string, string>([
  ['test/card-reveal/rotation.test.ts', 'restarts apps on an embedded data directory, always PGlite'],
  ['test/platform/persistence.test.ts', 'checks the embedded data directory, always PGlite'],
  ['test/platform/server.test.ts', 'starts `npm start` on the embedded database, always PGlite'],
  ['test/platform/pglite-data-dir.test.ts', 'makes embedded data directories, always PGlite'],
  ['test/platform/pglite-statements.test.ts', 'checks the PGlite adapter, always PGlite'],
  ['test/platform/openapi.test.ts', 'lints the OpenAPI document; no engine involved'],
  ['test/docs/guides.test.ts', 'parses the guides; no engine involved'],
  ['test/docs/guides-run.test.ts', 'the guides run flows the HTTP suites already cover on PostgreSQL'],
  ['test/fuzz/openapi-fuzz.test.ts', 'test/postgres/openapi-fuzz.pg-test.ts is its longer PostgreSQL run'],
]);
/** A hung suite must not eat CI's whole budget: the run is stopped (and fails) after this. */
const RUN_TIMEOUT_MS = 20 * 60 * 1000;
/** How long the test runner gets to finish after SIGTERM before it is killed. */
const KILL_GRACE_MS = 10 * 1000;
const CONNECT_TIMEOUT_MS = 10 * 1000;

/** Test files under test/, sorted, found without shell globs (Node 20's --test does not expand them). */
function findTestFiles(dir: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...findTestFiles(path));
    else if (POSTGRES_ONLY_FILE.test(entry.name)) files.push(path);
    else if (TEST_FILE.test(entry.name) && !NOT_ON_POSTGRES.has(path.split(sep).join('/'))) files.push(path);
  }
  return files.sort();
}

function databaseUrl(name: string): string {
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * Migrates once before the suites start. Every suite's app migrates on start-up as well (then
 * finds nothing to do); doing it here first keeps several apps from racing on an empty database.
 */
async function migrateOnce(url: string) {
  const db = await openDb({ databaseUrl: url, dataDir: '', poolSize: 1 });
  try {
    await migrate(db);
  } finally {
    await db.close();
  }
}

/** Set by SIGINT/SIGTERM: the run stops, and the database is still dropped. */
let interruptedBy: NodeJS.Signals | null = null;
let onInterrupt: (signal: NodeJS.Signals) => void = () => undefined;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    interruptedBy ??= signal;
    onInterrupt(signal);
  });
}

function runTests(files: string[], url: string): Promise<number> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--test', `--test-concurrency=${TEST_CONCURRENCY}`, ...files], {
    stdio: 'inherit',
    env: { ...process.env, PAYGEN_TEST_DATABASE_URL: url },
  });
  let stopped: string | null = null;
  const stop = (reason: string, signal: NodeJS.Signals) => {
    stopped ??= reason;
    child.kill(signal);
    setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS).unref();
  };
  const timer = setTimeout(() => stop(`timed out after ${RUN_TIMEOUT_MS / 60_000} minutes`, 'SIGTERM'), RUN_TIMEOUT_MS);
  onInterrupt = (signal) => stop(`stopped by ${signal}`, signal);
  return new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      onInterrupt = () => undefined;
      if (stopped) console.error(`run-on-postgres: test run ${stopped}`);
      if (!stopped && code !== null) resolve(code);
      else resolve(interruptedBy ? exitCodeOf(interruptedBy) : code || (signal ? exitCodeOf(signal) : 1));
    });
    child.on('error', (error) => {
      console.error(`run-on-postgres: could not start the test runner: ${error.message}`);
      resolve(1);
    });
  });
}

/** The shell's convention: 128 + the signal number. */
function exitCodeOf(signal: NodeJS.Signals): number {
  return signal === 'SIGINT' ? 130 : signal === 'SIGTERM' ? 143 : 1;
}

async function main(): Promise<number> {
  const requested = process.argv.slice(2);
  const files = requested.length ? requested : findTestFiles(TEST_ROOT);
  if (!requested.length) {
    for (const [file, why] of NOT_ON_POSTGRES) console.log(`run-on-postgres: not here: ${file} (${why})`);
  }
  if (!files.length) {
    console.error(`run-on-postgres: no test files under ${TEST_ROOT}/`);
    return 1;
  }
  // Lowercase letters, digits and underscores only: a plain identifier, no quoting surprises.
  const name = `paygen_test_${process.pid}_${Date.now()}_${randomBytes(3).toString('hex')}`;
  const url = databaseUrl(name);
  try {
    await admin((client) => client.query(`CREATE DATABASE ${name}`));
  } catch (error) {
    console.error(`run-on-postgres: cannot create a database on ${ADMIN_URL}: ${(error as Error).message}`);
    console.error('Is PostgreSQL running? (pg_isready -h 127.0.0.1 -p 5432)');
    return 1;
  }
  console.log(`run-on-postgres: database ${name}, ${files.length} test files: ${files.map((f) => relative('.', f)).join(' ')}`);
  try {
    await migrateOnce(url);
    if (interruptedBy) return exitCodeOf(interruptedBy);
    return await runTests(files, url);
  } catch (error) {
    console.error(`run-on-postgres: ${(error as Error).stack ?? error}`);
    return 1;
  } finally {
    // FORCE ends connections a killed suite may have left open.
    await admin((client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`))
      .then(() => console.log(`run-on-postgres: dropped database ${name}`))
      .catch((error) => console.error(`run-on-postgres: could not drop database ${name}: ${error.message}`));
  }
}

process.exitCode = await main();

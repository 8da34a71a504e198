// `npm start` as a developer meets it: a real server process that says where the docs are once it
// listens, and a log that is pretty on a terminal and JSON lines anywhere else, redacted in both.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, describe, test } from 'node:test';
import { loadConfig } from '../../src/config.ts';
import { chooseLogFormat } from '../../src/platform/logging.ts';
import { startHarness, TEST_MASTER_KEY } from '../support/api.ts';

/** A guard against a server that never starts, not a measure: a start takes a few seconds. */
const START_TIMEOUT_MS = 120_000;
const BANNER_END = /^API base URL: (\S+)$/m;
const MAX_FLUSH_TURNS = 100;

describe('the log format', () => {
  test('is pretty on a terminal and JSON lines otherwise, unless LOG_FORMAT says', () => {
    assert.equal(chooseLogFormat(undefined, true), 'pretty');
    assert.equal(chooseLogFormat(undefined, false), 'json');
    assert.equal(chooseLogFormat('json', true), 'json');
    assert.equal(chooseLogFormat('pretty', false), 'pretty');
    assert.equal(loadConfig({ LOG_FORMAT: 'pretty' }).logFormat, 'pretty');
    assert.equal(loadConfig({}).logFormat, undefined);
    const invalid = (error: { code?: string }) => error.code === 'invalid_configuration';
    assert.throws(() => loadConfig({ LOG_FORMAT: 'xml' }), invalid);
  });

  test('pretty text is redacted like JSON lines', async () => {
    let captured = '';
    const stream = new Writable({
      write(chunk, _encoding, done) { captured += chunk.toString(); done(); },
    });
    const api = await startHarness({
      logger: { stream, format: 'pretty' }, config: { logLevel: 'info' },
    });
    try {
      const pan = '4111111111111111';
      const password = `pretty-${randomBytes(6).toString('hex')}`;
      const answer = await api.request('GET', '/accounts');
      assert.equal(answer.status, 200, answer.text);
      const secrets = { card: { pan }, login: { password }, req: { headers: { 'x-api-key': api.apiKey } } };
      api.app.log.info(secrets, 'pretty probe');
      // pino-pretty writes on a later turn of the event loop; a bounded number of turns, no timer.
      for (let i = 0; i < MAX_FLUSH_TURNS && !captured.includes('pretty probe'); i++) {
        await new Promise((resolve) => setImmediate(resolve));
      }
      assert.match(captured, /pretty probe/);
      assert.match(captured, /incoming request/);
      assert.throws(() => JSON.parse(captured.split('\n')[0]), 'pretty text, not JSON');
      for (const secret of [pan, password, api.apiKey]) {
        assert.equal(captured.includes(secret), false, `${secret} is in the pretty log`);
      }
      assert.match(captured, /\[redacted\]/);
      await api.checkLedger();
    } finally {
      await api.close();
    }
  });
});

describe('npm start', () => {
  let child: ChildProcess | undefined;
  const dataDir = mkdtempSync(join(tmpdir(), 'paygen-start-'));
  after(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('prints the docs, OpenAPI and API URLs once it listens, and logs JSON lines to a pipe', async () => {
    const env: NodeJS.ProcessEnv = {
      ...process.env, PORT: '0', HOST: '127.0.0.1', DATABASE_URL: 'memory://', PAYGEN_DATA_DIR: dataDir,
      PAYGEN_MASTER_KEY: TEST_MASTER_KEY, PAYGEN_WORKERS: 'false', LOG_LEVEL: 'info',
    };
    delete env.LOG_FORMAT;
    // The same process as `npm start` (tsx src/server.ts), with stdout a pipe, as under a log collector.
    const stdio: ['ignore', 'pipe', 'pipe'] = ['ignore', 'pipe', 'pipe'];
    child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], { env, stdio });
    let stdout = '';
    let stderr = '';
    child.stderr?.on('data', (chunk) => { stderr += chunk; });
    const exited = new Promise<number | null>((resolve) => child?.on('exit', resolve));
    const banner = await new Promise<RegExpExecArray | null>((resolve) => {
      const guard = setTimeout(() => resolve(null), START_TIMEOUT_MS);
      child?.stdout?.on('data', (chunk) => {
        stdout += chunk;
        const match = BANNER_END.exec(stdout);
        if (match) { clearTimeout(guard); resolve(match); }
      });
      child?.on('exit', () => { clearTimeout(guard); resolve(null); });
    });
    assert.ok(banner, `no start-up banner; stdout:\n${stdout}\nstderr:\n${stderr}`);

    const base = banner[1];
    assert.match(base, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.notEqual(base, 'http://127.0.0.1:0', 'the real port, not the configured 0');
    assert.match(stdout, new RegExp(`^Docs: ${base}/docs$`, 'm'));
    assert.match(stdout, new RegExp(`^OpenAPI: ${base}/openapi\\.json$`, 'm'));
    assert.match(stdout, new RegExp(`^Dashboard: ${base}/dashboard/( \\(not built: run npm run build\\))?$`, 'm'));
    assert.match(stdout, /^Sandbox API key \(shown once\): \S+$/m);
    assert.equal((await fetch(`${base}/docs`)).status, 200);
    const openapi = await fetch(`${base}/openapi.json`);
    assert.equal(openapi.status, 200);
    assert.match(String((await openapi.json()).openapi), /^3\./);
    assert.equal((await fetch(`${base}/health`)).status, 200);

    child.kill('SIGTERM');
    assert.equal(await exited, 0, stderr);
    const printed = /^(Docs|Dashboard|OpenAPI|API base URL|Sandbox API key \(shown once\)): /;
    const logLines = stdout.split('\n').filter((line) => line.trim() && !printed.test(line));
    assert.ok(logLines.length >= 2, `too few log lines:\n${stdout}`);
    const entries = logLines.map((line) => JSON.parse(line));
    assert.ok(entries.some((entry) => /^Server listening at /.test(entry.msg)), stdout);
    assert.ok(entries.some((entry) => entry.msg === 'shutting down'), stdout);
  });
});

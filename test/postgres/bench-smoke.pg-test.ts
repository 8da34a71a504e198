// The production build and the benchmark, end to end: `npm run build` makes a server that plain
// `node` starts and that answers /health, and `npm run bench -- --quick` drives that build on a
// fresh PostgreSQL database through two scenarios with no error response and the ledger checks
// passing (the bench exits non-zero otherwise).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TEST_MASTER_KEY } from '../support/api.ts';
import { POSTGRES_ONLY } from './support.ts';

const START_TIMEOUT_MS = 60_000;
const BENCH_TIMEOUT_MS = 120_000;

describe('npm run build and npm run bench', { skip: POSTGRES_ONLY }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'paygen-bench-smoke-'));
  before(() => {
    const build = spawnSync('npm', ['run', 'build'], { encoding: 'utf8' });
    assert.equal(build.status, 0, `npm run build failed:\n${build.stdout}\n${build.stderr}`);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('the built server starts with plain node (no tsx) and answers /health', async () => {
    const child = spawn(process.execPath, ['dist/server.js'], {
      env: {
        ...process.env, PORT: '0', HOST: '127.0.0.1', DATABASE_URL: process.env.PAYGEN_TEST_DATABASE_URL,
        PAYGEN_DATA_DIR: dir, PAYGEN_MASTER_KEY: TEST_MASTER_KEY, PAYGEN_WORKERS: 'false', LOG_LEVEL: 'warn',
        // Not the loader the tests run under: the build must run on its own.
        NODE_OPTIONS: '',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let output = '';
      const base = await new Promise<string | null>((resolve) => {
        const guard = setTimeout(() => resolve(null), START_TIMEOUT_MS);
        const onData = (chunk: Buffer) => {
          output += chunk;
          const match = /API base URL: (http:\/\/\S+)/.exec(output);
          if (match) { clearTimeout(guard); resolve(match[1]); }
        };
        child.stdout.on('data', onData);
        child.stderr.on('data', onData);
        child.on('exit', () => { clearTimeout(guard); resolve(null); });
      });
      assert.ok(base, `the built server did not start:\n${output}`);
      const health = await fetch(`${base}/health`);
      assert.equal(health.status, 200);
      assert.equal((await health.json()).data.status, 'ok');
    } finally {
      child.kill('SIGTERM');
    }
  });

  test('the quick bench runs authorizations and issuance with no error and a balanced ledger', { timeout: BENCH_TIMEOUT_MS }, () => {
    const out = join(dir, 'results.json');
    // Two connections for three seconds: even on a busy machine some requests complete in the
    // window (the bench fails a scenario in which none did).
    const bench = spawnSync(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--quick', '--scenario', 'a,c',
      '--duration', '3', '--connections', '2', '--no-build', '--no-pgbench', '--out', out], { encoding: 'utf8', timeout: BENCH_TIMEOUT_MS });
    assert.equal(bench.status, 0, `the bench failed:\n${bench.stdout}\n${bench.stderr}`);
    assert.match(bench.stdout, /ledger check after scenario a: ok/);
    assert.match(bench.stdout, /ledger check after scenario c: ok/);
    const results = JSON.parse(readFileSync(out, 'utf8'));
    assert.equal(results.ok, true);
    assert.deepEqual(results.scenarios.map((s: any) => s.scenario), ['a', 'c']);
    for (const s of results.scenarios) {
      assert.ok(s.requests > 0, `scenario ${s.scenario} sent no request`);
      assert.equal(s.non2xx, 0, `scenario ${s.scenario}: ${s.non2xx} non-2xx`);
      assert.equal(s.errors, 0, `scenario ${s.scenario}: ${s.errors} errors`);
      assert.deepEqual(s.problems, [], `scenario ${s.scenario}`);
      assert.ok(s.maxRssMb > 0, 'the server RSS was sampled');
    }
    assert.ok(results.startupMs.postgres > 0, 'the start-up time was measured');
  });
});

// The embedded database's directory: the cluster is made once (in a child process, under a scratch
// name renamed into place), is reopened with its data, and runs with PGlite's memory settings.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { openDb, PGLITE_SHARED_BUFFERS } from '../../src/platform/db.ts';

const root = mkdtempSync(join(tmpdir(), 'paygen-pglite-dir-'));
after(() => rmSync(root, { recursive: true, force: true }));

const open = (dataDir: string) => openDb({ databaseUrl: undefined, dataDir, poolSize: 1 });

test('a fresh data dir gets a cluster that keeps its data across a reopen, with the memory settings applied', async () => {
  const dataDir = join(root, 'fresh');
  const first = await open(dataDir);
  try {
    const [setting] = await first.query<{ shared_buffers: string }>('SHOW shared_buffers');
    assert.equal(setting.shared_buffers, PGLITE_SHARED_BUFFERS);
    await first.exec('CREATE TABLE kept (n integer); INSERT INTO kept VALUES (42)');
  } finally {
    await first.close();
  }
  assert.deepEqual(readdirSync(dataDir), ['pgdata'], 'no scratch directory is left behind');

  const second = await open(dataDir);
  try {
    assert.deepEqual(await second.query('SELECT n FROM kept'), [{ n: 42 }]);
  } finally {
    await second.close();
  }
});

test('an interrupted first start (a scratch cluster, an empty pgdata) is made again from scratch', async () => {
  const dataDir = join(root, 'interrupted');
  mkdirSync(join(dataDir, 'pgdata'), { recursive: true });
  mkdirSync(join(dataDir, 'pgdata.creating'));
  writeFileSync(join(dataDir, 'pgdata.creating', 'PG_VERSION'), 'half made');
  const db = await open(dataDir);
  try {
    assert.deepEqual(await db.query('SELECT 1 AS one'), [{ one: 1 }]);
  } finally {
    await db.close();
  }
  assert.ok(existsSync(join(dataDir, 'pgdata', 'PG_VERSION')));
  assert.equal(existsSync(join(dataDir, 'pgdata.creating')), false);
});

// Several API processes starting at once on one empty PostgreSQL (DESIGN §1, scale-out): all of
// them must come up, and the migrations must run exactly once. Each run uses an empty schema of
// its own (search_path), so the shared test database is not disturbed.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { buildApp } from '../../src/app.ts';
import { testDatabaseUrl } from '../support/api.ts';
import { POSTGRES_ONLY } from './support.ts';

const INSTANCES = 4;
const ATTEMPTS = 3;

function urlWithSearchPath(schema: string) {
  const url = new URL(testDatabaseUrl());
  url.searchParams.set('options', `-c search_path=${schema}`);
  return url.toString();
}

describe('API instances starting together on an empty database', { skip: POSTGRES_ONLY }, () => {
  const schemas: string[] = [];
  after(async () => {
    const client = new pg.Client({ connectionString: testDatabaseUrl() });
    await client.connect();
    try {
      for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    } finally {
      await client.end();
    }
  });

  test(`${INSTANCES} instances at once all start, and each migration is recorded once`, async () => {
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const schema = `startup_${randomBytes(6).toString('hex')}`;
      schemas.push(schema);
      const admin = new pg.Client({ connectionString: testDatabaseUrl() });
      await admin.connect();
      await admin.query(`CREATE SCHEMA ${schema}`);
      const url = urlWithSearchPath(schema);
      const started = await Promise.allSettled(Array.from({ length: INSTANCES }, () =>
        buildApp({ logger: false, config: { databaseUrl: url, sandboxApiKey: `sk_boot_${randomBytes(12).toString('hex')}`, databasePoolSize: 2, workers: false } })));
      const apps = started.filter((s): s is PromiseFulfilledResult<FastifyInstance> => s.status === 'fulfilled').map((s) => s.value);
      await Promise.all(apps.map((app) => app.close()));
      try {
        const failures = started.filter((s): s is PromiseRejectedResult => s.status === 'rejected').map((s) => String(s.reason?.message ?? s.reason));
        assert.deepEqual(failures, [], `attempt ${attempt}: ${failures.length} of ${INSTANCES} instances failed to start`);
        const rows = await admin.query(`SELECT version, count(*)::int AS n FROM ${schema}.schema_migrations GROUP BY version`);
        assert.ok(rows.rows.length > 0);
        for (const row of rows.rows) assert.equal(row.n, 1, `${row.version} recorded ${row.n} times`);
      } finally {
        await admin.end();
      }
    }
  });
});

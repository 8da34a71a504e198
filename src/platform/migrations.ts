// Forward-only SQL migrations from ./migrations, applied at start-up and recorded.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Db } from './db.ts';

/**
 * The project's migrations/ folder: the nearest one above this module. The source runs from
 * src/platform/, the build (npm run build) from dist/ or dist/scripts/, so the depth varies.
 */
function findMigrationsDir(from: string): string {
  for (let dir = dirname(from); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'migrations', '001_foundation.sql'))) return join(dir, 'migrations') + '/';
    if (dirname(dir) === dir) throw new Error(`no migrations/ folder above ${from}`);
  }
}

const MIGRATIONS_DIR = findMigrationsDir(fileURLToPath(import.meta.url));

/** What PostgreSQL answers when two processes create the same table at the same moment. */
const CONCURRENT_CREATE_CODES = new Set(['23505', '42P07', '42710']);
const CREATE_ATTEMPTS = 5;
const CREATE_RETRY_DELAY_MS = 50;

async function ensureMigrationsTable(db: Db) {
  for (let attempt = 1; ; attempt++) {
    try {
      await db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version text PRIMARY KEY,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
      return;
    } catch (error) {
      // IF NOT EXISTS is not atomic: the loser of a race sees the winner's catalog rows.
      const code = (error as { code?: string }).code;
      if (attempt >= CREATE_ATTEMPTS || !code || !CONCURRENT_CREATE_CODES.has(code)) throw error;
      await new Promise((resolve) => setTimeout(resolve, CREATE_RETRY_DELAY_MS * attempt));
    }
  }
}

export async function migrate(db: Db): Promise<string[]> {
  await ensureMigrationsTable(db);
  const files = readdirSync(MIGRATIONS_DIR).filter((f) => /^\d+_.*\.sql$/.test(f)).sort();
  const applied: string[] = [];
  for (const file of files) {
    const ran = await db.transaction(async (tx) => {
      // Two processes starting together: the table lock makes the second wait and then skip.
      if (db.kind === 'postgres') await tx.query('LOCK TABLE schema_migrations IN EXCLUSIVE MODE');
      const done = await tx.query('SELECT 1 FROM schema_migrations WHERE version = $1', [file]);
      if (done.length) return false;
      const sql = readFileSync(MIGRATIONS_DIR + file, 'utf8');
      for (const statement of splitStatements(sql)) await tx.query(statement);
      await tx.query('INSERT INTO schema_migrations (version) VALUES ($1)', [file]);
      return true;
    });
    if (ran) applied.push(file);
  }
  return applied;
}

/** Migrations are plain statements separated by semicolons at line ends (a function body on one line). */
function splitStatements(sql: string): string[] {
  return sql
    .replace(/--.*$/gm, '')
    .split(/;\s*$/m)
    .map((s) => s.trim())
    .filter(Boolean);
}

// Seeding for the benchmark. What a scenario measures is made through the HTTP API; bulk data
// around it (10,000 or 1,000,000 cards) is copied in SQL from one card the API issued, so the
// copies have exactly the shape the app writes (every column of the template, whatever later
// migrations add), each with its own id, ledger account and PAN hash.
import { randomBytes } from 'node:crypto';
import type pg from 'pg';

export interface Api {
  baseUrl: string;
  key: string;
  organizationId: string;
}

export async function call(api: Pick<Api, 'baseUrl'> & { key?: string }, method: string, path: string, body?: unknown, bearer?: string): Promise<any> {
  const headers: Record<string, string> = {};
  if (bearer) headers.authorization = `Bearer ${bearer}`;
  else if (api.key) headers['x-api-key'] = api.key;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(api.baseUrl + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 500)}`);
  return JSON.parse(text).data;
}

/** A new organization with its own API key: each scenario works in its own tenant. */
export async function signUp(baseUrl: string): Promise<Api> {
  const email = `bench-${randomBytes(6).toString('hex')}@example.com`;
  const signup = await call({ baseUrl }, 'POST', '/auth/signup', { email, password: 'correct horse battery', organizationName: 'Bench org' });
  const key = await call({ baseUrl }, 'POST', '/api-keys', { name: 'bench' }, signup.token);
  return { baseUrl, key: key.key, organizationId: signup.organization.id };
}

/** A USD account holding `amount` (one simulated deposit on top of the opening balance). */
export async function fundedAccount(api: Api, amount: number): Promise<{ id: string }> {
  const account = await call(api, 'POST', '/accounts', {
    ownerType: 'business', ownerId: 'bench', name: 'Bench wallet', type: 'checking', category: 'fiat', currency: 'USD',
  });
  if (amount > 0) await call(api, 'POST', `/simulator/accounts/${account.id}/deposits`, { amount });
  return account;
}

export async function program(api: Api): Promise<{ id: string }> {
  return call(api, 'POST', '/card-programs', {
    name: `Bench program ${randomBytes(4).toString('hex')}`, brand: 'Visa', bin: '45990000', currency: 'USD',
    allowNameOnlyIssuance: true, requiresVerifiedCardHolder: false,
  });
}

export const cardBody = (accountId: string, programId: string, amount: number) => ({
  debitAccountId: accountId, firstName: 'Ada', lastName: 'Lovelace', type: 'virtual', currency: 'USD', typeId: programId, amount,
});

/** Runs `count` calls of `fn` with at most `concurrency` in flight. */
export async function inParallel(count: number, concurrency: number, fn: (i: number) => Promise<unknown>) {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, async () => {
    while (next < count) await fn(next++);
  }));
}

/** `INSERT INTO table (every column) SELECT …`: each column from `alias` unless overridden. */
async function copyingInsert(db: pg.Client, table: string, alias: string, overrides: Record<string, string>) {
  const { rows } = await db.query<{ column_name: string }>(
    `SELECT column_name FROM information_schema.columns
      WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`, [table],
  );
  const columns = rows.map((r) => r.column_name);
  for (const name of Object.keys(overrides)) if (!columns.includes(name)) throw new Error(`${table} has no column ${name}`);
  const values = columns.map((c) => overrides[c] ?? `${alias}.${c}`);
  return `INSERT INTO ${table} (${columns.join(', ')}) SELECT ${values.join(', ')}`;
}

/**
 * Copies card `templateId` `copies` times: a ledger account per copy (same counters as the
 * template's, so funded copies need `fundCopies`) and a card row with a fresh id and PAN hash,
 * every other column as the template's (whatever later migrations add). Ids keep the template's
 * time prefix and a counter, so they are valid, ordered ids. Returns the copies' ids.
 */
export async function cloneCards(db: pg.Client, templateId: string, copies: number, batch = 200_000): Promise<string[]> {
  // The copy's id: card_ + the template's 10 time characters + a 16-digit counter.
  const suffix = `substr(c.id, 6, 10) || lpad(g::text, 16, '0')`;
  const accounts = await copyingInsert(db, 'ledger_accounts', 'l', { id: `'la_' || ${suffix}`, owner_id: `'card_' || ${suffix}` });
  const cards = await copyingInsert(db, 'cards', 'c', {
    id: `'card_' || ${suffix}`, ledger_account_id: `'la_' || ${suffix}`, pan_hash: 'md5(c.pan_hash || g::text)',
  });
  // The copies point at rows that exist (the template's organization, program and accounts, and
  // the ledger accounts inserted just before): as a superuser the bench skips the per-row
  // foreign-key checks, which take about half the time of a million copies.
  const [{ rolsuper: superuser }] = (await db.query<{ rolsuper: boolean }>(
    'SELECT rolsuper FROM pg_roles WHERE rolname = current_user')).rows;
  const ids: string[] = [];
  for (let from = 1; from <= copies; from += batch) {
    const to = Math.min(copies, from + batch - 1);
    await db.query('BEGIN');
    if (superuser) await db.query('SET LOCAL session_replication_role = replica');
    await db.query(`${accounts} FROM cards c JOIN ledger_accounts l ON l.id = c.ledger_account_id,
      generate_series($2::int, $3::int) g WHERE c.id = $1`, [templateId, from, to]);
    const inserted = await db.query<{ id: string }>(`${cards} FROM cards c, generate_series($2::int, $3::int) g
      WHERE c.id = $1 RETURNING id`, [templateId, from, to]);
    await db.query('COMMIT');
    for (const row of inserted.rows) ids.push(row.id);
  }
  return ids;
}

/**
 * Gives every copy of `templateId` the template's initial funding: one transfer per copy from
 * the template's debit account (a copy of the template's funding transfer) and the debit
 * account's counter raised by the sum, in one transaction. Copies must hold what the template
 * was funded with (cloneCards copies the counters).
 */
export async function fundCopies(db: pg.Client, templateId: string, copyIds: string[]) {
  await db.query('BEGIN');
  const [funding] = (await db.query(
    `SELECT t.* FROM ledger_transfers t JOIN cards c ON c.id = t.reference_id AND c.ledger_account_id = t.credit_account_id
      WHERE c.id = $1 AND t.code = 'card_funding'`, [templateId],
  )).rows;
  if (!funding) throw new Error(`card ${templateId} has no funding transfer to copy`);
  const debit = await db.query(
    `UPDATE ledger_accounts SET debits_posted = debits_posted + $2::bigint * $3::bigint WHERE id = $1
     RETURNING credits_posted - debits_posted - debits_pending AS available`,
    [funding.debit_account_id, funding.amount, copyIds.length],
  );
  const availableAfterAll = Number(debit.rows[0].available);
  const transfers = await copyingInsert(db, 'ledger_transfers', 't', {
    id: `'tr_' || substr(t.id, 4, 10) || lpad(x.n::text, 16, '0')`,
    credit_account_id: 'c.ledger_account_id', reference_id: 'c.id',
    // As if the copies had been funded one after another, the last leaving what is left now.
    debit_available_after: '$3::bigint + (x.total - x.n) * t.amount',
  });
  await db.query(
    `${transfers} FROM ledger_transfers t,
       (SELECT id, row_number() OVER (ORDER BY id) AS n, count(*) OVER () AS total FROM unnest($2::text[]) AS u(id)) x
       JOIN cards c ON c.id = x.id
      WHERE t.id = $1`,
    [funding.id, copyIds, availableAfterAll],
  );
  await db.query('COMMIT');
}

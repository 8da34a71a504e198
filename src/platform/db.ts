// One database port, two adapters: PGlite (embedded, default) and PostgreSQL (pooled).
// The same SQL runs on both. Services own transactions through `db.transaction`, which retries
// the whole command on serialization failures and deadlocks (DESIGN §3, step 4).
import { AsyncLocalStorage } from 'node:async_hooks';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import pg from 'pg';
import { PGlite, protocol, types, type messages } from '@electric-sql/pglite';

export interface Queryable {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
}

export interface TransactionOptions {
  /** Fail fast instead of queueing behind a hot row (authorization path). */
  lockTimeoutMs?: number;
}

/** What a transaction's function works with: its statements, and an early COMMIT. */
export interface Transaction extends Queryable {
  /**
   * Sends COMMIT at once, behind the statements already sent and before their answers are back
   * (PostgreSQL pipelining): the row locks they took are released as soon as the database has run
   * them, not a round trip through this process later, when its event loop gets to it (a hot
   * account's lock, DESIGN §3). Every statement sent before it must FAIL IN SQL whenever the
   * command must not commit: a failed statement turns this COMMIT into a rollback, while a refusal
   * found in JavaScript after the answers would come too late. The function awaits its
   * statements' answers after this call, and sends no statement after it. Where nothing is to be
   * won or a statement must come first (PGlite; a keyed request's marker, idempotency.ts) it sends
   * nothing and the commit happens when the function returns, as usual.
   */
  commitEarly(): void;
}

export interface Db extends Queryable {
  readonly kind: 'pglite' | 'postgres';
  transaction<T>(fn: (tx: Transaction) => Promise<T>, options?: TransactionOptions): Promise<T>;
  /** Runs a script of several statements (migrations). */
  exec(sql: string): Promise<void>;
  /** The pool's connections (PostgreSQL): open, idle, and callers waiting for one (GET /metrics). */
  poolStats?(): { total: number; idle: number; waiting: number };
  /**
   * LISTEN on a channel until close(). PostgreSQL: over a connection of its own, made again after
   * a loss (and onLost says so). PGlite: in its one session, which hears every write.
   */
  listen?(channel: string, handlers: ChannelHandlers): Promise<void>;
  close(): Promise<void>;
}

export interface ChannelHandlers {
  /** LISTEN succeeded (again): from now on every notification on the channel is heard. */
  onListening(): void;
  onNotification(payload: string): void;
  /** The connection was lost or closed: nothing is heard until onListening() again. */
  onLost(error?: Error): void;
}

/** First wait before a lost LISTEN connection is made again: doubled per failure, with jitter. */
const RELISTEN_DELAY_MS = 500;
const RELISTEN_MAX_DELAY_MS = 30_000;
/**
 * A listening connection checks every so often that it still hears its channel: it sends a
 * notification of its own through the pool and must hear it before the next check. A connection
 * dropped silently (a NAT or load balancer forgetting it, a failover) or one that cannot hear at
 * all (a transaction-mode pooler in between) is then treated as lost within two intervals.
 */
const HEARTBEAT_MS = 5_000;
const HEARTBEAT_PREFIX = 'heartbeat:';
/**
 * LISTEN and the first echo of its own notification (start-up waits for both), and TCP keepalive
 * on the listening connection.
 */
const LISTEN_TIMEOUT_MS = 10_000;
const LISTEN_KEEPALIVE_DELAY_MS = 10_000;

/**
 * A last statement that the code running a request adds to each of its transactions, so that it
 * commits or rolls back with the command's effect (the idempotency key's `committed` marker).
 * It receives what the transaction's function returned.
 */
export type BeforeCommit = (tx: Queryable, result: unknown) => Promise<void>;

/** The current request's BeforeCommit, if any (set around a route handler by idempotency.ts). */
export const beforeCommitHook = new AsyncLocalStorage<BeforeCommit>();

/** Runs the transaction's function, then the request's last statement, on the same connection. */
async function runWithHook<T>(fn: (tx: Transaction) => Promise<T>, tx: Transaction): Promise<T> {
  const result = await fn(tx);
  await beforeCommitHook.getStore()?.(tx, result);
  return result;
}

export const MAX_TRANSACTION_ATTEMPTS = 8;
const RETRY_BASE_DELAY_MS = 5;
const INT8_OID = 20;
const NUMERIC_OID = 1700;

/** SQLSTATEs after which the whole transaction may safely run again. */
const RETRYABLE = new Set(['40001', '40P01']);

/** Unique violations on these constraints mean "lost a race for a counter": retry as well. */
const RETRYABLE_CONSTRAINTS = new Set(['events_resource_sequence_key']);

/** Why a transaction ran again, for GET /metrics (paygen_db_transaction_retries_total). */
export type RetryReason = 'deadlock' | 'serialization_failure' | 'unique_race' | 'stale_statement';

/** Why the whole transaction may safely run again after `error`; undefined when it may not. */
function retryReason(error: unknown): RetryReason | undefined {
  const e = error as { code?: string; constraint?: string };
  if (!e || typeof e !== 'object') return undefined;
  if (e.code && RETRYABLE.has(e.code)) return e.code === '40P01' ? 'deadlock' : 'serialization_failure';
  if (isStalePreparedStatement(error)) return 'stale_statement';
  return e.code === '23505' && !!e.constraint && RETRYABLE_CONSTRAINTS.has(e.constraint) ? 'unique_race' : undefined;
}

export function isRetryable(error: unknown): boolean {
  return retryReason(error) !== undefined;
}

/**
 * Named (prepared) statements: PostgreSQL parses and plans a statement once per connection instead
 * of on every call (on the authorization path planning cost as much as execution). The name comes
 * from the SQL text, so every connection prepares the same text under the same name. Only
 * statements with parameters are named (a text without any may hold several statements, which the
 * extended protocol refuses). The texts are templates of the repos, a bounded set; the cap only
 * guards against a generator of unbounded texts: past it, statements run unnamed as before.
 */
const MAX_NAMED_STATEMENTS = 2_000;
const statementNames = new Map<string, string | null>();

function statementName(sql: string, params: unknown[]): string | undefined {
  if (params.length === 0) return undefined;
  let name = statementNames.get(sql);
  if (name === undefined) {
    if (statementNames.size >= MAX_NAMED_STATEMENTS) return undefined;
    name = `paygen_${statementNames.size + 1}`;
    statementNames.set(sql, name);
  }
  return name ?? undefined;
}

/** SQLSTATE feature_not_supported, raised for a prepared `SELECT *` whose table changed shape. */
const STALE_PLAN = /cached plan must not change result type/;

/**
 * A statement prepared before a migration changed its table's columns (another process ran it) is
 * refused once per connection. Its text then runs unnamed from here on, and the command runs
 * again (isRetryable): nothing of the refused transaction was committed.
 */
function isStalePreparedStatement(error: unknown): boolean {
  const e = error as { code?: string; message?: string };
  return !!e && typeof e === 'object' && e.code === '0A000' && STALE_PLAN.test(e.message ?? '');
}

function forgetStatement(error: unknown, sql: string) {
  if (isStalePreparedStatement(error)) statementNames.set(sql, null);
}

/** A query for node-postgres: named when it may be (statementName), otherwise as it was. */
async function run(client: pg.Pool | pg.PoolClient, sql: string, params: unknown[]) {
  const name = statementName(sql, params);
  try {
    return name ? await client.query({ name, text: sql, values: params }) : await client.query(sql, params);
  } catch (error) {
    forgetStatement(error, sql);
    throw error;
  }
}

/**
 * The database could not be reached, or the connection broke mid-request (a stopped server, a cut
 * network, a full pool past its wait): not a bug and not bad input. errors.ts answers it with 503
 * service_unavailable. A transaction whose connection broke rolled back, unless COMMIT itself was
 * lost in flight: an Idempotency-Key makes the retry safe either way.
 */
export class DatabaseUnavailableError extends Error {
  constructor(override readonly cause: unknown) {
    super(`the database is unreachable: ${(cause as Error)?.message ?? String(cause)}`);
    this.name = 'DatabaseUnavailableError';
  }
}

/** Node socket errors, and SQLSTATEs of a server going away or refusing connections. */
const CONNECTION_ERROR_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN',
  '57P01', '57P02', '57P03', '53300',
]);
/** node-postgres and pg-pool errors that carry no code. */
const CONNECTION_ERROR_MESSAGES =
  /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Client was closed|Connection ended)/i;

export function isConnectionFailure(error: unknown): boolean {
  if (error instanceof DatabaseUnavailableError) return true;
  const e = error as { code?: unknown; message?: unknown } | null;
  if (!e || typeof e !== 'object') return false;
  // SQLSTATE class 08: connection exceptions.
  if (typeof e.code === 'string' && (CONNECTION_ERROR_CODES.has(e.code) || /^08/.test(e.code))) return true;
  return typeof e.message === 'string' && CONNECTION_ERROR_MESSAGES.test(e.message);
}

/** A connection failure becomes DatabaseUnavailableError; any other error is passed on as it is. */
function classify(error: unknown): unknown {
  return isConnectionFailure(error) && !(error instanceof DatabaseUnavailableError) ? new DatabaseUnavailableError(error) : error;
}

/** Integers in the ledger are bounded by MAX_SAFE_INTEGER, so numbers are exact. */
function parseInteger(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new Error(`integer out of safe range: ${value}`);
  return n;
}

const retries: Record<RetryReason, number> = { deadlock: 0, serialization_failure: 0, unique_race: 0, stale_statement: 0 };

/** Transactions run again in this process since it started, by reason. */
export function transactionRetries(): Readonly<Record<RetryReason, number>> {
  return { ...retries };
}

async function withRetries<T>(run: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (error) {
      const reason = retryReason(error);
      if (!reason || attempt >= MAX_TRANSACTION_ATTEMPTS) throw error;
      retries[reason]++;
      const delay = RETRY_BASE_DELAY_MS * 2 ** (attempt - 1) * (0.5 + Math.random());
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

/** A statement PGlite has parsed once, kept under a name: its parameter types and result columns. */
interface PgliteStatement {
  name: string;
  paramTypes: number[];
  fields: { name: string; dataTypeID: number }[];
}

/**
 * How many distinct statements PGlite keeps prepared. Each holds its plan in the WASM heap, which
 * never shrinks; the authorization path uses a few dozen, and SQL built with a varying shape past
 * this many runs unnamed, as PGlite's own query does.
 */
const PGLITE_MAX_PREPARED = 200;

/**
 * PGlite through its wire protocol. PGlite's own `query` makes six calls into the WASM module per
 * statement (parse, describe, bind, describe, execute, sync) and parses and plans the SQL every
 * time: on the authorization path that JS and the planning were most of the server's CPU. Here a
 * statement is parsed once under a name (parameter and result types kept), and then each run is
 * one call: bind, execute, sync. Values and results go through PGlite's own serializers and
 * parsers, as in its `query`.
 */
class PgliteDb implements Db {
  readonly kind = 'pglite' as const;
  private readonly statements = new Map<string, PgliteStatement>();
  private statementCount = 0;
  private readonly closers: Array<() => Promise<void>> = [];
  constructor(private readonly pg: PGlite) {}

  query<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    // The transaction lock first, as PGlite's query takes it: a statement outside a transaction
    // waits for a running one to end instead of landing in the middle of it.
    return this.pg._runExclusiveTransaction(async () => {
      const rows = await this.run<T>(sql, params);
      await this.pg.syncToFs(); // as PGlite's query does outside a transaction (a no-op on Node's file system)
      return rows;
    });
  }

  transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T> {
    // PGlite has one connection: transactions already run one at a time, so there is nothing
    // to time out on (nor a round trip to save with an early COMMIT); retries are kept for the
    // shared code path.
    return withRetries(() => this.pg._runExclusiveTransaction(() => this.runTransaction(fn)));
  }

  private async runTransaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T> {
    await this.simple('BEGIN');
    let result: T;
    try {
      result = await runWithHook(fn, { query: <R>(sql: string, params: unknown[] = []) => this.run<R>(sql, params), commitEarly: () => undefined });
    } catch (error) {
      // A failed ROLLBACK must not hide the error that caused it.
      await this.simple('ROLLBACK').catch(() => undefined);
      throw error;
    }
    // A COMMIT of a transaction in which a statement failed (an error the function swallowed)
    // rolls back: that must not read as success.
    if ((await this.simple('COMMIT')) === 'ROLLBACK') throw new Error('the transaction was aborted and rolled back: one of its statements failed');
    await this.pg.syncToFs();
    return result;
  }

  /** One statement with no parameters, by the simple protocol; returns its command tag. */
  private simple(sql: string): Promise<string | undefined> {
    return this.pg._runExclusiveQuery(async () => {
      const messages = await this.pg.execProtocolStream(protocol.serialize.query(sql), { syncToFs: false });
      const complete = messages.find((m) => m.name === 'commandComplete') as messages.CommandCompleteMessage | undefined;
      return complete?.text;
    });
  }

  private run<T>(sql: string, params: unknown[]): Promise<T[]> {
    return this.pg._runExclusiveQuery(async () => {
      try {
        return await this.execute<T>(await this.prepare(sql), params);
      } catch (error) {
        // The table changed under the named statement (DDL): parse it again.
        if (!isStalePreparedStatement(error)) throw error;
        this.statements.delete(sql);
        // Inside a transaction the error has aborted it: the transaction runs again (isRetryable)
        // and this statement is parsed anew.
        if (this.pg.isInTransaction()) throw error;
        return this.execute<T>(await this.prepare(sql), params);
      }
    });
  }

  /** Parses the statement (once, when it can be kept) and learns its parameter and column types. */
  private async prepare(sql: string): Promise<PgliteStatement> {
    const known = this.statements.get(sql);
    if (known) return known;
    const keep = this.statements.size < PGLITE_MAX_PREPARED;
    const name = keep ? `paygen_${++this.statementCount}` : '';
    const { serialize } = protocol;
    const replies = await this.pg.execProtocolStream(concat([
      serialize.parse({ name, text: sql }), serialize.describe({ type: 'S', name }), serialize.sync(),
    ]), { syncToFs: false });
    const params = replies.find((m) => m.name === 'parameterDescription') as messages.ParameterDescriptionMessage | undefined;
    const row = replies.find((m) => m.name === 'rowDescription') as messages.RowDescriptionMessage | undefined;
    const statement = {
      name,
      paramTypes: params?.dataTypeIDs ?? [],
      fields: row?.fields.map((f) => ({ name: f.name, dataTypeID: f.dataTypeID })) ?? [],
    };
    if (keep) this.statements.set(sql, statement);
    return statement;
  }

  private async execute<T>(statement: PgliteStatement, params: unknown[]): Promise<T[]> {
    const { serialize } = protocol;
    const values = params.map((value, i) => this.serialize(value, statement.paramTypes[i]));
    const replies = await this.pg.execProtocolStream(concat([
      serialize.bind({ statement: statement.name, values }), serialize.execute({}), serialize.sync(),
    ]), { syncToFs: false });
    const rows: T[] = [];
    const { fields } = statement;
    const parsers = this.pg.parsers;
    for (const message of replies) {
      if (message.name !== 'dataRow') continue;
      const cells = (message as messages.DataRowMessage).fields;
      const row: Record<string, unknown> = {};
      for (let i = 0; i < fields.length; i++) row[fields[i].name] = types.parseType(cells[i], fields[i].dataTypeID, parsers);
      rows.push(row as T);
    }
    return rows;
  }

  /** As PGlite's query does: the serializer of the parameter's type, else the value's text. */
  private serialize(value: unknown, oid: number | undefined): string | null {
    if (value === null || value === undefined) return null;
    const serializer = oid === undefined ? undefined : this.pg.serializers[oid];
    return serializer ? serializer(value) : String(value);
  }

  async exec(sql: string): Promise<void> {
    await this.pg.exec(sql);
  }

  /**
   * PGlite is one session that no other process can reach: every write, a trigger's NOTIFY
   * included, happens here, and PGlite hands each notification to its listeners as it reads the
   * statement's answer. The channel is heard until close().
   */
  async listen(channel: string, handlers: ChannelHandlers): Promise<void> {
    const unlisten = await this.pg.listen(channel, (payload) => handlers.onNotification(payload));
    this.closers.push(async () => {
      handlers.onLost();
      await unlisten().catch(() => undefined);
    });
    handlers.onListening();
  }

  async close(): Promise<void> {
    for (const close of this.closers.splice(0)) await close();
    await this.pg.close();
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/**
 * Statements sent in the same tick leave in one socket write: node-postgres writes each statement
 * on its own (a system call each), so a transaction's pipelined statements are corked until the
 * tick ends and go out together.
 */
function corker(client: pg.PoolClient) {
  const stream = (client as unknown as { connection?: { stream?: Partial<Socket> } }).connection?.stream;
  let corked = false;
  return () => {
    if (corked || !stream?.cork || !stream.uncork) return;
    stream.cork();
    corked = true;
    process.nextTick(() => {
      corked = false;
      stream.uncork!();
    });
  };
}

class PostgresDb implements Db {
  readonly kind = 'postgres' as const;
  private readonly closers: Array<() => Promise<void>> = [];
  constructor(private readonly pool: pg.Pool, private readonly listenerConfig: pg.ClientConfig) {}

  async query<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    try {
      return (await run(this.pool, sql, params)).rows as T[];
    } catch (error) {
      // Outside a transaction a statement refused as stale runs once more, unnamed.
      if (isStalePreparedStatement(error)) return this.query(sql, params);
      throw classify(error);
    }
  }

  transaction<T>(fn: (tx: Transaction) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    return withRetries(async () => {
      const client = await this.pool.connect().catch((error) => { throw classify(error); });
      // A checked-out client whose connection dies emits 'error'; unheard, it would crash the
      // process. The query in flight fails with the same error, which is what this reports.
      let broken: Error | undefined;
      const onError = (error: Error) => { broken ??= error; };
      client.on('error', onError);
      const corkThisTick = corker(client);
      try {
        // A query without parameters may carry several statements. BEGIN is not awaited: it goes
        // out with the transaction's first statement (pipelined, one round trip less). PostgreSQL
        // fails BEGIN only with its connection, and then the statement behind it fails as well.
        corkThisTick();
        const begun = client.query(options.lockTimeoutMs
          ? `BEGIN; SET LOCAL lock_timeout = ${Math.floor(options.lockTimeoutMs)}`
          : 'BEGIN');
        begun.catch(() => undefined);
        let early: Promise<pg.QueryResult> | undefined;
        const result = await runWithHook(fn, {
          query: async <R>(sql: string, params: unknown[] = []) => {
            if (early) throw new Error('a statement after commitEarly()');
            corkThisTick();
            const answer = run(client, sql, params);
            answer.catch(() => undefined);
            await begun;
            return (await answer).rows as R[];
          },
          commitEarly: () => {
            // A keyed request's marker must still run before COMMIT, with the function's result.
            if (early || beforeCommitHook.getStore()) return;
            early = client.query('COMMIT');
            // Observed below, after the function; a failed statement before it rejects first.
            early.catch(() => undefined);
          },
        }).catch(async (error) => {
          // A statement failed (or the function threw) after an early COMMIT: the database turned
          // that COMMIT into a rollback, unless nothing failed in SQL, which commitEarly forbids.
          const ended = early && await early.catch(() => undefined);
          if (ended?.command === 'COMMIT') throw new Error('committed, yet the transaction failed after commitEarly()', { cause: error });
          throw error;
        });
        await begun;
        // A COMMIT of a transaction in which a statement failed (an error the function swallowed)
        // rolls back: that must not read as success (as on PGlite).
        const ended = early ? await early : await client.query('COMMIT');
        if (ended.command !== 'COMMIT') throw new Error('the transaction was aborted and rolled back: one of its statements failed');
        return result;
      } catch (error) {
        if (isConnectionFailure(error)) {
          // The connection is gone: no ROLLBACK to send, and the client must leave the pool.
          broken = error as Error;
          throw classify(error);
        }
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.removeListener('error', onError);
        client.release(broken);
      }
    });
  }

  async exec(sql: string): Promise<void> {
    await this.pool.query(sql);
  }

  poolStats() {
    return { total: this.pool.totalCount, idle: this.pool.idleCount, waiting: this.pool.waitingCount };
  }

  async listen(channel: string, handlers: ChannelHandlers): Promise<void> {
    if (!/^[a-z_][a-z0-9_]*$/.test(channel)) throw new Error(`not a channel name: ${channel}`);
    const echo = `${HEARTBEAT_PREFIX}${randomUUID()}`;
    const state: {
      closed: boolean; failures: number; client?: pg.Client; retry?: NodeJS.Timeout; heartbeat?: NodeJS.Timeout; wake?: () => void;
    } = { closed: false, failures: 0 };
    const connect = async () => {
      const client = new pg.Client({
        ...this.listenerConfig, keepAlive: true, keepAliveInitialDelayMillis: LISTEN_KEEPALIVE_DELAY_MS, query_timeout: LISTEN_TIMEOUT_MS,
      });
      state.client = client;
      // Caching starts only once this connection has heard its own notification: LISTEN through
      // a transaction-mode pooler succeeds and then hears nothing.
      let echoed = false;
      // Ends the wait for the first echo: the echo arrived, or the connection is gone.
      let wake!: () => void;
      const firstEcho = new Promise<void>((resolve) => { wake = resolve; });
      state.wake = () => wake();
      const lost = (error: Error) => {
        if (state.client !== client) return;
        state.client = undefined;
        wake();
        clearInterval(state.heartbeat);
        handlers.onLost(error);
        client.end().catch(() => undefined);
        if (state.closed) return;
        const delay = Math.min(RELISTEN_MAX_DELAY_MS, RELISTEN_DELAY_MS * 2 ** state.failures++) * (0.5 + Math.random() / 2);
        state.retry = setTimeout(() => void connect(), delay).unref();
      };
      client.on('error', lost);
      client.on('end', () => lost(new Error('the LISTEN connection ended')));
      client.on('notification', (message) => {
        if (message.channel !== channel || state.client !== client) return;
        const payload = message.payload ?? '';
        if (payload === echo) {
          echoed = true;
          wake();
        } else if (!payload.startsWith(HEARTBEAT_PREFIX)) handlers.onNotification(payload);
      });
      const heartbeat = () => this.pool.query('SELECT pg_notify($1, $2)', [channel, echo]).catch(() => undefined);
      let timer: NodeJS.Timeout | undefined;
      try {
        await client.connect();
        await client.query(`LISTEN ${channel}`);
        void heartbeat();
        await Promise.race([firstEcho, new Promise((resolve) => { timer = setTimeout(resolve, LISTEN_TIMEOUT_MS).unref(); })]);
      } catch (error) {
        return lost(error as Error);
      } finally {
        clearTimeout(timer);
      }
      if (state.client !== client) return;
      if (!echoed) return lost(new Error(`its own notification on ${channel} was not heard within ${LISTEN_TIMEOUT_MS} ms of LISTEN`));
      state.failures = 0;
      handlers.onListening();
      state.heartbeat = setInterval(() => {
        if (!echoed) return lost(new Error(`its own notification on ${channel} was not heard within ${HEARTBEAT_MS} ms`));
        echoed = false;
        void heartbeat();
      }, HEARTBEAT_MS).unref();
    };
    this.closers.push(async () => {
      state.closed = true;
      clearTimeout(state.retry);
      clearInterval(state.heartbeat);
      const client = state.client;
      state.client = undefined;
      state.wake?.();
      if (client) handlers.onLost();
      await client?.end().catch(() => undefined);
    });
    await connect();
  }

  async close(): Promise<void> {
    for (const close of this.closers.splice(0)) await close();
    await this.pool.end();
  }
}

export interface DbOptions {
  databaseUrl: string | undefined;
  dataDir: string;
  poolSize: number;
  /** Longest wait for a connection before DatabaseUnavailableError (PostgreSQL). */
  connectTimeoutMs?: number;
  /** An idle pooled connection died (server restart, failover): log it; the pool replaces it. */
  onIdleError?: (error: Error) => void;
}

/**
 * PGlite's buffer cache. Its default (128MB) is touched at start-up and stays resident in the
 * process (the WASM memory never shrinks): 16MB takes the idle server from ~500MB to ~380MB RSS,
 * and the embedded database's files stay in the OS page cache anyway.
 */
export const PGLITE_SHARED_BUFFERS = '16MB';
const PGLITE_START_PARAMS = [...PGlite.defaultStartParams, '-c', `shared_buffers=${PGLITE_SHARED_BUFFERS}`];

/**
 * Makes the cluster (initdb) in a child process. Made in this process, initdb's second WASM instance
 * and the malloc arenas its compilation used stayed resident long after it closed: a server on a
 * fresh directory idled at 365-720 MB (when the collector ran decided which), against 260 MB on an
 * existing one. The child's memory ends with it. It starts with our parameters, so its memory
 * is sized as ours is.
 */
const PGLITE_CREATE_SCRIPT = `
const [url, dir, params] = process.argv.slice(1);
const { PGlite } = await import(url);
const db = await PGlite.create(dir, { startParams: JSON.parse(params) });
await db.close();
`;

function runPgliteInitdb(dir: string): Promise<void> {
  const args = ['--input-type=module', '--eval', PGLITE_CREATE_SCRIPT,
    import.meta.resolve('@electric-sql/pglite'), dir, JSON.stringify(PGLITE_START_PARAMS)];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => { stderr = (stderr + chunk.toString()).slice(-10_000); });
    child.on('error', reject);
    child.on('exit', (code, signal) => code === 0
      ? resolve()
      : reject(new Error(`creating the embedded database in ${dir} failed (${code ?? signal}): ${stderr}`)));
  });
}

/**
 * A data directory without a cluster gets one, made under a scratch name and renamed into place:
 * a first start that is interrupted leaves no half-made cluster that later starts would open.
 * A directory that holds files but no cluster is left to PGlite, as before.
 */
async function ensurePgliteCluster(pgdata: string): Promise<void> {
  if (existsSync(pgdata) && readdirSync(pgdata).length > 0) return;
  const scratch = `${pgdata}.creating`;
  rmSync(scratch, { recursive: true, force: true });
  await runPgliteInitdb(scratch);
  rmSync(pgdata, { recursive: true, force: true }); // an empty directory: rename needs it gone
  renameSync(scratch, pgdata);
}

/**
 * V8 setting for a process that embeds PGlite, which shares the process's 300 MB budget with the
 * API (a server on PostgreSQL peaks near 190 MB on its own): PGlite's WASM runs on the baseline
 * compiler (Liftoff) only. The optimizing tier recompiles hot Postgres functions on background
 * threads, and the malloc arenas those threads used stayed resident: under scenario f, max RSS
 * 308-340 MB with it against 219-276 MB without, for about 10 % more CPU per authorization (same
 * machine, alternating runs). Set before the module is first compiled (a flag read when
 * compiling); it concerns WebAssembly only. (The JS heap's growth: src/server.ts.)
 */
function tunePgliteProcessMemory(): void {
  setFlagsFromString('--liftoff-only');
}

export async function openDb(options: DbOptions): Promise<Db> {
  const url = options.databaseUrl;
  if (url && /^postgres(ql)?:\/\//.test(url)) {
    const types = {
      getTypeParser: (oid: number, format?: 'text' | 'binary') =>
        oid === INT8_OID || oid === NUMERIC_OID ? parseInteger : pg.types.getTypeParser(oid, format),
    };
    const pool = new pg.Pool({
      connectionString: url,
      // Statements sent without waiting for the previous answer go out at once (commitEarly); a
      // caller that awaits each statement, as nearly every one does, sees no difference.
      pipeline: true,
      max: options.poolSize,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
      idleTimeoutMillis: 30_000,
      types: types as pg.CustomTypesConfig,
    });
    // Without a listener, an idle client's error (e.g. 57P01 on a server restart) would crash the process.
    pool.on('error', (error) => options.onIdleError?.(error));
    return new PostgresDb(pool, { connectionString: url, connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000 });
  }
  tunePgliteProcessMemory();
  const pgliteOptions = { parsers: { [INT8_OID]: parseInteger, [NUMERIC_OID]: parseInteger }, startParams: PGLITE_START_PARAMS };
  if (url === 'memory://') return new PgliteDb(await PGlite.create(pgliteOptions));
  if (url) throw new Error(`DATABASE_URL must start with postgres:// or be memory://, got ${url}`);
  mkdirSync(options.dataDir, { recursive: true });
  const pgdata = join(options.dataDir, 'pgdata');
  await ensurePgliteCluster(pgdata);
  return new PgliteDb(await PGlite.create(pgdata, pgliteOptions));
}

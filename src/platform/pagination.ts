// Cursor pagination shared by every list: keyset on the time-ordered id, so a page costs the same
// on page 1 and page 10,000.
import { createHash } from 'node:crypto';
import { Type, type Static, type TProperties } from '@sinclair/typebox';
import type { Queryable } from './db.ts';
import { ApiError } from './errors.ts';

export const MAX_PAGE_SIZE = 100;
export const DEFAULT_PAGE_SIZE = 20;

const listQueryProperties = {
  limit: Type.Integer({ minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE }),
  cursor: Type.Optional(Type.String({ maxLength: 200, description: 'meta.nextCursor of the previous page' })),
  sort: Type.Union([Type.Literal('createdAt'), Type.Literal('-createdAt')], { default: '-createdAt' }),
  // Every date-time format is bounded to years 0001–9999 (validation-messages.ts): PostgreSQL
  // refuses year 0000, which used to reach it from these filters and answer 500.
  createdFrom: Type.Optional(Type.String({ format: 'date-time', description: 'Created at or after this instant; ISO 8601, years 0001–9999.' })),
  createdTo: Type.Optional(Type.String({ format: 'date-time', description: 'Created before this instant; ISO 8601, years 0001–9999.' })),
};

/** The list query string of a resource: the common paging fields plus its own filters. */
export function listQuery<T extends TProperties>(filters: T) {
  return Type.Object({ ...listQueryProperties, ...filters }, { additionalProperties: false });
}

export const BaseListQuery = Type.Object(listQueryProperties);
export type ListQuery = Static<typeof BaseListQuery>;

export interface Page<Row> {
  rows: Row[];
  meta: { limit: number; hasMore: boolean; nextCursor: string | null; sort: string; filters: Record<string, unknown> };
}

/**
 * A cursor names the list it was made for (a digest of the table expression) and its sort, so
 * that a cursor handed to another list or another order is refused instead of skipping rows.
 */
const listTags = new Map<string, string>();
function listTag(table: string) {
  // Table expressions are a handful of constants of the repos: digest each once, not per request.
  let tag = listTags.get(table);
  if (tag === undefined) {
    tag = createHash('sha256').update(table).digest('base64url').slice(0, 8);
    listTags.set(table, tag);
  }
  return tag;
}

function encodeCursor(table: string, sort: string, id: string): string {
  return Buffer.from(`${listTag(table)}|${sort}|${id}`).toString('base64url');
}

function decodeCursor(cursor: string, table: string, sort: string): string {
  const [tag, cursorSort, id, ...rest] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  if (tag !== listTag(table) || cursorSort !== sort || !id || rest.length || !/^[a-z]+_[0-9a-z]+$/.test(id)) {
    throw new ApiError(422, 'invalid_cursor', 'The cursor is malformed or was made for another list or sort order.', [{ field: 'cursor', message: 'invalid cursor' }]);
  }
  return id;
}

/**
 * Runs a keyset-paginated SELECT. `filters` maps column names (trusted, from the repo) to the
 * values the caller asked for; undefined values are ignored.
 */
export async function paginate<Row extends { id: string }>(
  db: Queryable,
  spec: {
    table: string;
    /**
     * The select list over `table`, every column by default. It is not part of the cursor (the
     * table expression is), so narrowing it keeps the cursors already handed out valid.
     */
    columns?: string;
    /** What a cursor is bound to: the table expression by default (see listTag). */
    cursorScope?: string;
    organizationId: string;
    /** column → value; undefined values are ignored. */
    filters: Record<string, unknown>;
    /** extra conditions whose `?` is bound to the value, e.g. ['(a = ? OR b = ?)', id]. */
    conditions?: Array<[string, unknown]>;
    query: ListQuery;
    publicFilters: Record<string, unknown>;
  },
): Promise<Page<Row>> {
  const { query } = spec;
  const scope = spec.cursorScope ?? spec.table;
  const params: unknown[] = [spec.organizationId];
  const where = ['organization_id = $1'];
  for (const [column, value] of Object.entries(spec.filters)) {
    if (value === undefined) continue;
    params.push(value);
    where.push(`${column} = $${params.length}`);
  }
  for (const [sql, value] of spec.conditions ?? []) {
    params.push(value);
    where.push(sql.replaceAll('?', `$${params.length}`));
  }
  if (query.createdFrom) { params.push(query.createdFrom); where.push(`created_at >= $${params.length}`); }
  if (query.createdTo) { params.push(query.createdTo); where.push(`created_at < $${params.length}`); }
  const descending = query.sort !== 'createdAt';
  if (query.cursor) {
    params.push(decodeCursor(query.cursor, scope, query.sort));
    where.push(`id ${descending ? '<' : '>'} $${params.length}`);
  }
  params.push(query.limit + 1);
  const rows = await db.query<Row>(
    `SELECT ${spec.columns ?? '*'} FROM ${spec.table} WHERE ${where.join(' AND ')} ORDER BY id ${descending ? 'DESC' : 'ASC'} LIMIT $${params.length}`,
    params,
  );
  const hasMore = rows.length > query.limit;
  const page = hasMore ? rows.slice(0, query.limit) : rows;
  const last = page[page.length - 1];
  const filters = Object.fromEntries(Object.entries(spec.publicFilters).filter(([, v]) => v !== undefined));
  return {
    rows: page,
    meta: {
      limit: query.limit,
      hasMore,
      nextCursor: hasMore && last ? encodeCursor(scope, query.sort, last.id) : null,
      sort: query.sort,
      filters,
    },
  };
}

import type { Queryable } from '../../platform/db.ts';
import { paginate, type ListQuery } from '../../platform/pagination.ts';

export interface EventRow {
  id: string;
  organization_id: string;
  type: string;
  resource: string;
  resource_id: string;
  sequence: number;
  data: unknown;
  previous_attributes: unknown;
  created_at: Date;
}

/**
 * The per-resource sequence is max + 1; two writers racing get a unique violation and retry.
 * `alsoRun`, when given, is a data-modifying statement that reads the new row from a CTE named
 * `event` (the webhook fan-out): it runs in the same statement, so in the same round trip.
 */
export async function insertEvent(db: Queryable, row: Omit<EventRow, 'sequence'>, alsoRun?: string): Promise<EventRow> {
  const insert = insertEventSql(1);
  const [inserted] = await db.query<EventRow>(
    alsoRun ? `WITH event AS (${insert}), also AS (${alsoRun}) SELECT * FROM event` : insert,
    eventParams(row),
  );
  return inserted;
}

/**
 * The event's INSERT over parameters $first to $first+7 (eventParams), for insertEvent and for a
 * caller that folds the event into its own statement; with `onlyIf` (SQL), nothing is inserted
 * unless it holds (card issuance: only when the card's own insert happened); `merge` (SQL, a jsonb
 * object) overrides fields of the data with what only the statement knows.
 */
export function insertEventSql(first: number, onlyIf?: string, merge?: string) {
  const $ = (i: number) => `$${first + i - 1}`;
  const data = merge ? `${$(6)}::jsonb || ${merge}` : $(6);
  return `INSERT INTO events (id, organization_id, type, resource, resource_id, sequence, data, previous_attributes, created_at)
     SELECT ${$(1)}, ${$(2)}, ${$(3)}, ${$(4)}, ${$(5)}, COALESCE(MAX(sequence), 0) + 1, ${data}, ${$(7)}, ${$(8)}
       FROM events WHERE organization_id = ${$(2)} AND resource_id = ${$(5)}${onlyIf ? `\n     HAVING ${onlyIf}` : ''}
     RETURNING *`;
}

export function eventParams(row: Omit<EventRow, 'sequence'>) {
  return [row.id, row.organization_id, row.type, row.resource, row.resource_id, JSON.stringify(row.data),
    row.previous_attributes === null ? null : JSON.stringify(row.previous_attributes), row.created_at];
}

export async function findEvent(db: Queryable, organizationId: string, id: string) {
  const [row] = await db.query<EventRow>('SELECT * FROM events WHERE organization_id = $1 AND id = $2', [organizationId, id]);
  return row;
}

export function listEvents(db: Queryable, organizationId: string, query: ListQuery & { type?: string; resourceId?: string }) {
  return paginate<EventRow>(db, {
    table: 'events',
    organizationId,
    filters: { type: query.type, resource_id: query.resourceId },
    query,
    publicFilters: { type: query.type, resourceId: query.resourceId },
  });
}

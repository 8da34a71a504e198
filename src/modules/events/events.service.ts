// Events are the outbox (DESIGN §4): every service records its event in the same transaction as
// the change, so an event exists if and only if the change committed.
import type { Ctx } from '../../platform/context.ts';
import type { Queryable } from '../../platform/db.ts';
import type { StatementPart } from '../../platform/statement-part.ts';
import { notFound } from '../../platform/errors.ts';
import { newId } from '../../platform/ids.ts';
import type { ListQuery } from '../../platform/pagination.ts';
import { EVENT_CATALOG, type EventType } from './events.catalog.ts';
import * as repo from './events.repo.ts';
import { fanOutStatement } from '../webhooks/fan-out.ts';

/** The fan-out runs in the event's own INSERT statement (a data-modifying CTE): one round trip. */
const FAN_OUT = fanOutStatement('event');

export interface RecordEvent {
  organizationId: string;
  type: EventType;
  resourceId: string;
  data: unknown;
  previousAttributes?: Record<string, unknown> | null;
  at: Date;
}

function newRow(event: RecordEvent): Omit<repo.EventRow, 'sequence'> {
  return {
    id: newId('evt', event.at.getTime()),
    organization_id: event.organizationId,
    type: event.type,
    resource: EVENT_CATALOG[event.type].resource,
    resource_id: event.resourceId,
    data: event.data,
    previous_attributes: event.previousAttributes ?? null,
    created_at: event.at,
  };
}

export async function recordEvent(tx: Queryable, event: RecordEvent) {
  // Deliveries to matching webhook endpoints commit with the event or not at all (the outbox).
  const row = await repo.insertEvent(tx, newRow(event), FAN_OUT);
  return present(row);
}

/**
 * recordEvent for a caller that folds the event into its own statement (one round trip less): the
 * CTEs of the event and its fan-out, which insert nothing unless the CTE `source` has a row.
 * `merge(source)`: SQL of a jsonb object whose fields replace the data's, for what only the
 * statement knows (read from `source`).
 */
export function recordEventPart(event: RecordEvent, merge?: (source: string) => string): StatementPart {
  return {
    params: repo.eventParams(newRow(event)),
    sql: (source, first) => {
      const insert = repo.insertEventSql(first, `EXISTS (SELECT 1 FROM ${source})`, merge?.(source));
      return `event AS (${insert}), event_fan_out AS (${FAN_OUT})`;
    },
  };
}

export function present(row: repo.EventRow) {
  return {
    id: row.id,
    type: row.type,
    createdAt: row.created_at.toISOString(),
    resource: row.resource,
    resourceId: row.resource_id,
    sequence: row.sequence,
    data: row.data as Record<string, unknown>,
    previousAttributes: (row.previous_attributes ?? null) as Record<string, unknown> | null,
  };
}

export async function getEvent(ctx: Ctx, organizationId: string, id: string) {
  const row = await repo.findEvent(ctx.db, organizationId, id);
  if (!row) throw notFound('Event');
  return present(row);
}

export async function listEvents(ctx: Ctx, organizationId: string, query: ListQuery & { type?: string; resourceId?: string }) {
  const page = await repo.listEvents(ctx.db, organizationId, query);
  return { data: page.rows.map(present), meta: page.meta };
}

export function catalog() {
  return Object.entries(EVENT_CATALOG).map(([type, entry]) => ({ type, ...entry }));
}

/** Attributes of `before` that differ in `after`, with their old values (previousAttributes). */
export function changedAttributes(before: Record<string, unknown>, after: Record<string, unknown>) {
  const changed: Record<string, unknown> = {};
  for (const key of Object.keys(after)) {
    if (JSON.stringify(before[key]) !== JSON.stringify(after[key])) changed[key] = before[key];
  }
  return changed;
}

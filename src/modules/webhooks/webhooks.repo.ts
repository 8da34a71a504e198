// Parameterized SQL of webhook endpoints, deliveries and attempts.
//
// Deliveries made several at a time (fan-out, resend, replay) get their ids in SQL from two
// app-made, time-ordered ids: `dlv_` + the body of one (the event's for a fan-out, a fresh id for
// a resend or replay) + the body of the other side (endpoint or event). The result is unique per
// pair, sorts by time like every id, and costs one statement instead of one per row.
import type { Queryable } from '../../platform/db.ts';
import { paginate, type ListQuery } from '../../platform/pagination.ts';

export interface EndpointRow {
  id: string;
  organization_id: string;
  url: string;
  description: string | null;
  event_types: string[];
  enabled: boolean;
  secret_sealed: string;
  previous_secret_sealed: string | null;
  previous_secret_expires_at: Date | null;
  created_at: Date;
  updated_at: Date;
  deleted_at: Date | null;
}

export interface DeliveryRow {
  id: string;
  organization_id: string;
  endpoint_id: string;
  event_id: string;
  event_type: string;
  reason: 'event' | 'test' | 'resend' | 'replay';
  status: 'pending' | 'sending' | 'succeeded' | 'failed' | 'cancelled';
  attempt_count: number;
  due_at: Date | null;
  last_status_code: number | null;
  last_error: string | null;
  created_at: Date;
  updated_at: Date;
  completed_at: Date | null;
}

export interface AttemptRow {
  organization_id: string;
  delivery_id: string;
  attempt_number: number;
  attempted_at: Date;
  succeeded: boolean;
  status_code: number | null;
  latency_ms: number;
  response_excerpt: string | null;
  error: string | null;
  next_attempt_at: Date | null;
}

/** The body of an id: what follows its prefix. */
export const idBody = (id: string) => id.slice(id.indexOf('_') + 1);

/** SQL: the endpoint `w` takes events of type `type`. */
const MATCHES = (type: string) => `('*' = ANY(w.event_types) OR ${type} = ANY(w.event_types))`;
/** The event type that is only ever sent on request (POST /webhooks/:id/test). */
export const TEST_EVENT_TYPE = 'webhook.test';

// ----- endpoints ----------------------------------------------------------------------------

export async function insertEndpoint(db: Queryable, row: Omit<EndpointRow, 'deleted_at'>) {
  await db.query(
    `INSERT INTO webhook_endpoints (id, organization_id, url, description, event_types, enabled, secret_sealed,
       previous_secret_sealed, previous_secret_expires_at, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
    [row.id, row.organization_id, row.url, row.description, row.event_types, row.enabled, row.secret_sealed,
      row.previous_secret_sealed, row.previous_secret_expires_at, row.created_at, row.updated_at],
  );
}

/** A live (not deleted) endpoint; `lock` serializes changes to one endpoint. */
export async function findEndpoint(db: Queryable, organizationId: string, id: string, lock = false) {
  const [row] = await db.query<EndpointRow>(
    `SELECT * FROM webhook_endpoints WHERE organization_id = $1 AND id = $2 AND deleted_at IS NULL${lock ? ' FOR UPDATE' : ''}`,
    [organizationId, id],
  );
  return row;
}

export async function countLiveEndpoints(db: Queryable, organizationId: string) {
  const [row] = await db.query<{ count: number }>(
    'SELECT count(*)::int AS count FROM webhook_endpoints WHERE organization_id = $1 AND deleted_at IS NULL',
    [organizationId],
  );
  return row.count;
}

export async function updateEndpoint(db: Queryable, row: EndpointRow) {
  await db.query(
    `UPDATE webhook_endpoints SET url = $3, description = $4, event_types = $5, enabled = $6, secret_sealed = $7,
            previous_secret_sealed = $8, previous_secret_expires_at = $9, updated_at = $10, deleted_at = $11
      WHERE organization_id = $1 AND id = $2`,
    [row.organization_id, row.id, row.url, row.description, row.event_types, row.enabled, row.secret_sealed,
      row.previous_secret_sealed, row.previous_secret_expires_at, row.updated_at, row.deleted_at],
  );
}

export function listEndpoints(db: Queryable, organizationId: string, query: ListQuery) {
  return paginate<EndpointRow>(db, {
    table: '(SELECT * FROM webhook_endpoints WHERE deleted_at IS NULL) AS live_webhook_endpoints',
    organizationId, filters: {}, query, publicFilters: {},
  });
}

// ----- deliveries ---------------------------------------------------------------------------

/**
 * The fan-out: one delivery per live, enabled endpoint of the organization that takes the event's
 * type, as SQL that reads its one event from a CTE named `eventCte` (id, organization_id, type,
 * created_at): a data-modifying CTE of the event's own INSERT, so that the event and its
 * deliveries are one statement (one round trip). The delivery id's body is idBody(event id)
 * followed by the endpoint id's body.
 */
export function fanOutFrom(eventCte: string) {
  return `INSERT INTO webhook_deliveries (id, organization_id, endpoint_id, event_id, event_type, reason, status, attempt_count, due_at, created_at, updated_at)
     SELECT 'dlv_' || substr(e.id, strpos(e.id, '_') + 1) || substr(w.id, 5), w.organization_id, w.id, e.id, e.type, 'event',
            'pending', 0, e.created_at, e.created_at, e.created_at
       FROM ${eventCte} e JOIN webhook_endpoints w ON w.organization_id = e.organization_id
      WHERE e.type <> '${TEST_EVENT_TYPE}' AND w.enabled AND w.deleted_at IS NULL AND ${MATCHES('e.type')}`;
}

export async function insertDelivery(db: Queryable, row: Pick<DeliveryRow, 'id' | 'organization_id' | 'endpoint_id' | 'event_id' | 'event_type' | 'reason'>, at: Date) {
  await db.query(
    `INSERT INTO webhook_deliveries (id, organization_id, endpoint_id, event_id, event_type, reason, status, attempt_count, due_at, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, 'pending', 0, $7, $7, $7)`,
    [row.id, row.organization_id, row.endpoint_id, row.event_id, row.event_type, row.reason, at],
  );
}

/** Resend: to one endpoint, or to every live, enabled endpoint that takes the event's type. */
export async function insertResends(db: Queryable, event: { id: string; organization_id: string; type: string }, batchId: string, endpointId: string | null, at: Date) {
  return db.query<DeliveryRow>(
    `INSERT INTO webhook_deliveries (id, organization_id, endpoint_id, event_id, event_type, reason, status, attempt_count, due_at, created_at, updated_at)
     SELECT 'dlv_' || $2 || substr(w.id, 5), w.organization_id, w.id, $1, $3, 'resend', 'pending', 0, $4, $4, $4
       FROM webhook_endpoints w
      WHERE w.organization_id = $5 AND w.enabled AND w.deleted_at IS NULL
        AND (CASE WHEN $6::text IS NULL THEN ${MATCHES('$3')} ELSE w.id = $6 END)
     RETURNING *`,
    [event.id, idBody(batchId), event.type, at, event.organization_id, endpointId],
  );
}

const REPLAYABLE = `FROM events e
  WHERE e.organization_id = $1 AND e.created_at >= $2 AND e.type <> '${TEST_EVENT_TYPE}'
    AND ('*' = ANY($3::text[]) OR e.type = ANY($3::text[]))`;

/** How many events a replay would send, counting no further than `cap`. */
export async function countReplayable(db: Queryable, endpoint: EndpointRow, since: Date, cap: number) {
  const [row] = await db.query<{ count: number }>(
    `SELECT count(*)::int AS count FROM (SELECT 1 ${REPLAYABLE} LIMIT $4) AS replayable`,
    [endpoint.organization_id, since, endpoint.event_types, cap],
  );
  return row.count;
}

export async function insertReplays(db: Queryable, endpoint: EndpointRow, since: Date, batchId: string, at: Date) {
  const rows = await db.query<{ id: string }>(
    `INSERT INTO webhook_deliveries (id, organization_id, endpoint_id, event_id, event_type, reason, status, attempt_count, due_at, created_at, updated_at)
     SELECT 'dlv_' || $4 || substr(e.id, 5), e.organization_id, $5, e.id, e.type, 'replay', 'pending', 0, $6, $6, $6
     ${REPLAYABLE}
     RETURNING id`,
    [endpoint.organization_id, since, endpoint.event_types, idBody(batchId), endpoint.id, at],
  );
  return rows.length;
}

/** Pending deliveries of a disabled or deleted endpoint are not sent. */
export async function cancelPending(db: Queryable, organizationId: string, endpointId: string, reason: string, at: Date) {
  await db.query(
    `UPDATE webhook_deliveries SET status = 'cancelled', due_at = NULL, last_error = $3, updated_at = $4, completed_at = $4
      WHERE organization_id = $1 AND endpoint_id = $2 AND status = 'pending'`,
    [organizationId, endpointId, reason, at],
  );
}

export async function findDelivery(db: Queryable, organizationId: string, id: string) {
  const [row] = await db.query<DeliveryRow>('SELECT * FROM webhook_deliveries WHERE organization_id = $1 AND id = $2', [organizationId, id]);
  return row;
}

export function listDeliveries(db: Queryable, organizationId: string, by: { endpoint_id?: string; event_id?: string }, query: ListQuery & { status?: string }) {
  return paginate<DeliveryRow>(db, {
    table: 'webhook_deliveries',
    organizationId,
    filters: { ...by, status: query.status },
    query,
    publicFilters: { status: query.status },
  });
}

export async function attemptsOf(db: Queryable, organizationId: string, deliveryIds: string[]) {
  if (!deliveryIds.length) return [];
  return db.query<AttemptRow>(
    'SELECT * FROM webhook_attempts WHERE organization_id = $1 AND delivery_id = ANY($2::text[]) ORDER BY delivery_id, attempt_number',
    [organizationId, deliveryIds],
  );
}

// Parameterized SQL of the delivery job: claim due deliveries, record attempts, settle deliveries.
import type { Queryable } from '../../platform/db.ts';
import type { EventRow } from '../events/events.repo.ts';
import type { AttemptRow, DeliveryRow } from './webhooks.repo.ts';

export interface DueDelivery {
  id: string;
  organization_id: string;
  endpoint_id: string;
  event_id: string;
  status: 'pending' | 'sending';
  attempt_count: number;
  url: string;
  endpoint_live: boolean;
  secret_sealed: string;
  previous_secret_sealed: string | null;
  previous_secret_expires_at: Date | null;
}

/**
 * Locks up to `limit` due deliveries, oldest first, skipping rows another worker holds: a
 * pending delivery whose time has come, or a sending one whose worker's lease ran out.
 */
export function lockDue(tx: Queryable, now: Date, limit: number, organizationId: string | null = null) {
  return tx.query<DueDelivery>(
    `SELECT d.id, d.organization_id, d.endpoint_id, d.event_id, d.status, d.attempt_count, w.url,
            (w.enabled AND w.deleted_at IS NULL) AS endpoint_live,
            w.secret_sealed, w.previous_secret_sealed, w.previous_secret_expires_at
       FROM webhook_deliveries d JOIN webhook_endpoints w ON w.id = d.endpoint_id
      WHERE d.status IN ('pending', 'sending') AND d.due_at <= $1
        AND ($3::text IS NULL OR d.organization_id = $3)
      ORDER BY d.due_at
      LIMIT $2
      FOR UPDATE OF d SKIP LOCKED`,
    [now, limit, organizationId],
  );
}

/** Deliveries due now (pending, or sending past their lease): the job's queue depth. */
export async function countDue(db: Queryable, now: Date): Promise<number> {
  const rows = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM webhook_deliveries WHERE status IN ('pending', 'sending') AND due_at <= $1`, [now],
  );
  return rows[0]?.n ?? 0;
}

/** Claims locked deliveries for one attempt each: sending, attempt counted, leased until `leaseEnd`. */
export async function markSending(tx: Queryable, ids: string[], now: Date, leaseEnd: Date) {
  if (!ids.length) return;
  await tx.query(
    `UPDATE webhook_deliveries SET status = 'sending', attempt_count = attempt_count + 1, due_at = $2, updated_at = $3
      WHERE id = ANY($1::text[])`,
    [ids, leaseEnd, now],
  );
}

/**
 * Records one attempt. A worker whose lease ran out may report after another worker logged the
 * attempt as lost: its real outcome replaces that entry.
 */
export async function insertAttempt(db: Queryable, row: AttemptRow) {
  await db.query(
    `INSERT INTO webhook_attempts (organization_id, delivery_id, attempt_number, attempted_at, succeeded, status_code,
       latency_ms, response_excerpt, error, next_attempt_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
     ON CONFLICT (delivery_id, attempt_number) DO UPDATE SET
       attempted_at = EXCLUDED.attempted_at, succeeded = EXCLUDED.succeeded, status_code = EXCLUDED.status_code,
       latency_ms = EXCLUDED.latency_ms, response_excerpt = EXCLUDED.response_excerpt, error = EXCLUDED.error`,
    [row.organization_id, row.delivery_id, row.attempt_number, row.attempted_at, row.succeeded, row.status_code,
      row.latency_ms, row.response_excerpt, row.error, row.next_attempt_at],
  );
}

/**
 * Settles attempt `attempt` of a delivery: succeeded, failed, or pending again until `dueAt`.
 * `expectStatus` and `attempt` fence the update: a worker that lost its lease changes nothing.
 */
export async function settle(
  db: Queryable, id: string, attempt: number, expectStatus: 'sending' | 'pending',
  outcome: { status: DeliveryRow['status']; dueAt: Date | null; statusCode: number | null; error: string | null }, now: Date,
) {
  const rows = await db.query<{ id: string }>(
    `UPDATE webhook_deliveries SET status = $4, due_at = $5, last_status_code = $6, last_error = $7, updated_at = $8,
            completed_at = CASE WHEN $4 IN ('succeeded', 'failed', 'cancelled') THEN $8::timestamptz ELSE NULL END
      WHERE id = $1 AND attempt_count = $2 AND status = $3
     RETURNING id`,
    [id, attempt, expectStatus, outcome.status, outcome.dueAt, outcome.statusCode, outcome.error, now],
  );
  return rows.length === 1;
}

export function eventsByIds(db: Queryable, ids: string[]) {
  return db.query<EventRow>('SELECT * FROM events WHERE id = ANY($1::text[])', [ids]);
}

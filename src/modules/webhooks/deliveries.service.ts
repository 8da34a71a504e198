// Deliveries: made for every committed event that an enabled endpoint takes (the fan-out, inside the
// event's own transaction), and on request (test, resend, replay). The delivery job sends them.
import type { Ctx } from '../../platform/context.ts';
import type { Queryable } from '../../platform/db.ts';
import { unprocessable } from '../../platform/errors.ts';
import { newId } from '../../platform/ids.ts';
import type { ListQuery } from '../../platform/pagination.ts';
import { getEvent, recordEvent } from '../events/events.service.ts';
import * as repo from './webhooks.repo.ts';
import type { Delivery } from './webhooks.schemas.ts';
import { load as loadEndpoint } from './webhooks.service.ts';

/** Events one replay may queue: narrow `since` beyond that. */
export const MAX_REPLAY_EVENTS = 10_000;

const iso = (date: Date | null) => (date ? date.toISOString() : null);

function present(row: repo.DeliveryRow, attempts: repo.AttemptRow[]): Delivery {
  return {
    id: row.id, webhookId: row.endpoint_id, eventId: row.event_id, eventType: row.event_type, reason: row.reason,
    status: row.status, attemptCount: row.attempt_count, nextAttemptAt: row.status === 'pending' ? iso(row.due_at) : null,
    attempts: attempts.map((a) => ({
      attempt: a.attempt_number, attemptedAt: a.attempted_at.toISOString(), succeeded: a.succeeded, statusCode: a.status_code,
      latencyMs: a.latency_ms, responseExcerpt: a.response_excerpt, error: a.error, nextAttemptAt: iso(a.next_attempt_at),
    })),
    createdAt: row.created_at.toISOString(), updatedAt: row.updated_at.toISOString(), completedAt: iso(row.completed_at),
  };
}

async function presentAll(db: Queryable, organizationId: string, rows: repo.DeliveryRow[]) {
  const attempts = await repo.attemptsOf(db, organizationId, rows.map((r) => r.id));
  return rows.map((row) => present(row, attempts.filter((a) => a.delivery_id === row.id)));
}

async function requireLiveEnabled(tx: Queryable, organizationId: string, id: string) {
  const endpoint = await loadEndpoint(tx, organizationId, id);
  if (!endpoint.enabled) throw unprocessable('webhook_disabled', 'The webhook endpoint is disabled: enable it first (PATCH {"enabled": true}).');
  return endpoint;
}

/** A webhook.test event, delivered to this endpoint only. */
export function sendTest(ctx: Ctx, organizationId: string, webhookId: string) {
  return ctx.db.transaction(async (tx) => {
    const endpoint = await requireLiveEnabled(tx, organizationId, webhookId);
    const now = ctx.clock.now();
    const event = await recordEvent(tx, {
      organizationId, type: 'webhook.test', resourceId: endpoint.id, at: now,
      data: { webhookId: endpoint.id, url: endpoint.url, message: 'A test event sent through POST /webhooks/:id/test.' },
    });
    const id = newId('dlv', now.getTime());
    await repo.insertDelivery(tx, { id, organization_id: organizationId, endpoint_id: endpoint.id, event_id: event.id, event_type: event.type, reason: 'test' }, now);
    const [delivery] = await presentAll(tx, organizationId, [await repo.findDelivery(tx, organizationId, id)]);
    return delivery;
  });
}

/** The event again, to one endpoint or to every enabled endpoint that takes its type. */
export async function resend(ctx: Ctx, organizationId: string, eventId: string, webhookId: string | undefined) {
  const event = await getEvent(ctx, organizationId, eventId);
  return ctx.db.transaction(async (tx) => {
    if (webhookId) {
      const endpoint = await repo.findEndpoint(tx, organizationId, webhookId);
      if (!endpoint) throw unprocessable('webhook_not_found', 'The webhook named in the body does not exist or belongs to another organization.', 'webhookId');
      if (!endpoint.enabled) throw unprocessable('webhook_disabled', 'The webhook endpoint is disabled: enable it first (PATCH {"enabled": true}).', 'webhookId');
    }
    const now = ctx.clock.now();
    const rows = await repo.insertResends(tx, { id: event.id, organization_id: organizationId, type: event.type }, newId('dlv', now.getTime()), webhookId ?? null, now);
    return presentAll(tx, organizationId, rows.sort((a, b) => a.id.localeCompare(b.id)));
  });
}

/** Every event since `since` that the endpoint takes, queued again for it. */
export function replay(ctx: Ctx, organizationId: string, webhookId: string, since: string) {
  return ctx.db.transaction(async (tx) => {
    const endpoint = await requireLiveEnabled(tx, organizationId, webhookId);
    const now = ctx.clock.now();
    const from = new Date(since);
    if (from > now) throw unprocessable('invalid_replay_window', '`since` is in the future.', 'since');
    if (await repo.countReplayable(tx, endpoint, from, MAX_REPLAY_EVENTS + 1) > MAX_REPLAY_EVENTS) {
      throw unprocessable('replay_too_large', `More than ${MAX_REPLAY_EVENTS} events match: replay a shorter window (a later since).`, 'since');
    }
    const count = await repo.insertReplays(tx, endpoint, from, newId('dlv', now.getTime()), now);
    return { webhookId: endpoint.id, since: from.toISOString(), deliveries: count };
  });
}

export async function listForWebhook(ctx: Ctx, organizationId: string, webhookId: string, query: ListQuery & { status?: string }) {
  await loadEndpoint(ctx.db, organizationId, webhookId);
  const page = await repo.listDeliveries(ctx.db, organizationId, { endpoint_id: webhookId }, query);
  return { data: await presentAll(ctx.db, organizationId, page.rows), meta: page.meta };
}

export async function listForEvent(ctx: Ctx, organizationId: string, eventId: string, query: ListQuery & { status?: string }) {
  const event = await getEvent(ctx, organizationId, eventId);
  const page = await repo.listDeliveries(ctx.db, organizationId, { event_id: event.id }, query);
  return { data: await presentAll(ctx.db, organizationId, page.rows), meta: page.meta };
}

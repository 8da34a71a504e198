// Webhook endpoints: where events are delivered, which types, and the signing secrets. A secret
// is sealed by the vault at rest and shown once, at creation and at rotation.
import type { Ctx } from '../../platform/context.ts';
import type { Queryable } from '../../platform/db.ts';
import { ApiError, notFound, unprocessable } from '../../platform/errors.ts';
import { newId } from '../../platform/ids.ts';
import { checkOutboundUrl, OutboundError } from '../../platform/outbound-http.ts';
import type { ListQuery } from '../../platform/pagination.ts';
import { EVENT_CATALOG } from '../events/events.catalog.ts';
import { newSecret } from './webhook-signer.ts';
import * as repo from './webhooks.repo.ts';
import type { CreateWebhookBody, UpdateWebhookBody, Webhook } from './webhooks.schemas.ts';

/** Live endpoints per organization: every event costs one delivery per matching endpoint. */
export const MAX_WEBHOOKS_PER_ORGANIZATION = 16;
/** After a rotation, the old secret keeps signing (beside the new one) for this long. */
export const PREVIOUS_SECRET_VALIDITY_MS = 24 * 60 * 60 * 1000;

export function present(row: repo.EndpointRow, now: Date): Webhook {
  const previousValid = row.previous_secret_expires_at && row.previous_secret_expires_at > now;
  return {
    id: row.id, url: row.url, description: row.description, events: row.event_types, enabled: row.enabled,
    previousSecretExpiresAt: previousValid ? row.previous_secret_expires_at!.toISOString() : null,
    createdAt: row.created_at.toISOString(), updatedAt: row.updated_at.toISOString(),
  };
}

/** ["*"], or the listed catalog types without duplicates; an unknown type is a 422. */
export function normalizeEventTypes(types: string[]): string[] {
  if (types.includes('*')) return ['*'];
  const unknown = types.filter((t) => !(t in EVENT_CATALOG));
  if (unknown.length) {
    throw new ApiError(422, 'unknown_event_type', `Unknown event type${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')} (see GET /events/catalog).`,
      unknown.map((t) => ({ field: 'events', message: `${t} is not in the event catalog` })));
  }
  return [...new Set(types)];
}

/**
 * http(s), no credentials in the URL, and no private address literal (nor localhost) unless
 * allowed. Host names are checked again at every delivery, after DNS resolution (a name may
 * change its address), by the outbound HTTP client.
 */
export function checkUrl(ctx: Ctx, raw: string): string {
  try {
    return checkOutboundUrl(raw, ctx.config.webhookAllowPrivate).toString();
  } catch (error) {
    if (!(error instanceof OutboundError)) throw error;
    if (error.kind === 'refused_address') throw unprocessable('webhook_url_not_allowed', error.message, 'url');
    throw unprocessable('invalid_webhook_url', error.message, 'url');
  }
}

export async function load(db: Queryable, organizationId: string, id: string, lock = false) {
  const row = await repo.findEndpoint(db, organizationId, id, lock);
  if (!row) throw notFound('Webhook');
  return row;
}

export function createWebhook(ctx: Ctx, organizationId: string, body: CreateWebhookBody) {
  const url = checkUrl(ctx, body.url);
  const eventTypes = normalizeEventTypes(body.events);
  return ctx.db.transaction(async (tx) => {
    if (await repo.countLiveEndpoints(tx, organizationId) >= MAX_WEBHOOKS_PER_ORGANIZATION) {
      throw unprocessable('too_many_webhooks', `An organization has at most ${MAX_WEBHOOKS_PER_ORGANIZATION} webhook endpoints.`);
    }
    const now = ctx.clock.now();
    const secret = newSecret();
    const row: repo.EndpointRow = {
      id: newId('whk', now.getTime()), organization_id: organizationId, url, description: body.description ?? null,
      event_types: eventTypes, enabled: body.enabled ?? true, secret_sealed: ctx.vault.seal(secret),
      previous_secret_sealed: null, previous_secret_expires_at: null, created_at: now, updated_at: now, deleted_at: null,
    };
    await repo.insertEndpoint(tx, row);
    return { ...present(row, now), secret };
  });
}

export async function getWebhook(ctx: Ctx, organizationId: string, id: string) {
  return present(await load(ctx.db, organizationId, id), ctx.clock.now());
}

export async function listWebhooks(ctx: Ctx, organizationId: string, query: ListQuery) {
  const now = ctx.clock.now();
  const page = await repo.listEndpoints(ctx.db, organizationId, query);
  return { data: page.rows.map((row) => present(row, now)), meta: page.meta };
}

export function updateWebhook(ctx: Ctx, organizationId: string, id: string, body: UpdateWebhookBody) {
  const url = body.url === undefined ? undefined : checkUrl(ctx, body.url);
  const eventTypes = body.events === undefined ? undefined : normalizeEventTypes(body.events);
  return ctx.db.transaction(async (tx) => {
    const row = await load(tx, organizationId, id, true);
    const now = ctx.clock.now();
    const next: repo.EndpointRow = {
      ...row, url: url ?? row.url, event_types: eventTypes ?? row.event_types, enabled: body.enabled ?? row.enabled,
      description: body.description === undefined ? row.description : body.description,
    };
    const changed = JSON.stringify(present(next, now)) !== JSON.stringify(present(row, now));
    if (!changed) return present(row, now);
    await repo.updateEndpoint(tx, { ...next, updated_at: now });
    if (row.enabled && !next.enabled) await repo.cancelPending(tx, organizationId, id, 'the endpoint was disabled', now);
    return present({ ...next, updated_at: now }, now);
  });
}

export function deleteWebhook(ctx: Ctx, organizationId: string, id: string) {
  return ctx.db.transaction(async (tx) => {
    const row = await load(tx, organizationId, id, true);
    const now = ctx.clock.now();
    // Kept (soft-deleted) so that its delivery log stays readable per event.
    await repo.updateEndpoint(tx, { ...row, enabled: false, updated_at: now, deleted_at: now });
    await repo.cancelPending(tx, organizationId, id, 'the endpoint was deleted', now);
    return present({ ...row, enabled: false, updated_at: now }, now);
  });
}

export function rotateSecret(ctx: Ctx, organizationId: string, id: string) {
  return ctx.db.transaction(async (tx) => {
    const row = await load(tx, organizationId, id, true);
    const now = ctx.clock.now();
    const secret = newSecret();
    // A second rotation within the window drops the oldest secret: two are valid at most.
    const next: repo.EndpointRow = {
      ...row, secret_sealed: ctx.vault.seal(secret), previous_secret_sealed: row.secret_sealed,
      previous_secret_expires_at: new Date(now.getTime() + PREVIOUS_SECRET_VALIDITY_MS), updated_at: now,
    };
    await repo.updateEndpoint(tx, next);
    return { ...present(next, now), secret };
  });
}

// The webhook delivery job (DESIGN §4). One run:
//   1. claims up to a batch of due deliveries in one short transaction (FOR UPDATE SKIP LOCKED):
//      each is marked `sending` with its attempt counted and a lease, so that no other worker
//      takes it while it is in flight, and a worker that dies loses it when the lease ends;
//   2. POSTs them with no transaction open, each signed per Standard Webhooks and bounded by a
//      timeout;
//   3. records each attempt and settles its delivery (succeeded, pending again with the next
//      attempt's time, or failed) in one short transaction per delivery, fenced by the attempt
//      number so that a worker that lost its lease cannot overwrite a newer attempt.
import type { Ctx } from '../../platform/context.ts';
import type { Job } from '../../platform/jobs.ts';
import { present as presentEvent } from '../events/events.service.ts';
import type { EventRow } from '../events/events.repo.ts';
import * as repo from './delivery.repo.ts';
import { DELIVERY_LEASE_MS, DELIVERY_TIMEOUT_MS, MAX_DELIVERY_ATTEMPTS, retryDelayMs } from './retry-schedule.ts';
import { OutboundError, sendOutbound } from '../../platform/outbound-http.ts';
import { signatureHeaders } from './webhook-signer.ts';

/** Deliveries claimed (and sent side by side) per run. */
export const DELIVERY_BATCH_SIZE = 25;
/** Pause of the job loop when nothing was due. */
export const DELIVERY_IDLE_DELAY_MS = 250;
const USER_AGENT = 'Paygen-Webhooks/1.0';
/** Bytes of the receiver's answer that are read and kept in the delivery log. */
export const RESPONSE_EXCERPT_BYTES = 1024;

export interface DeliveryJobOptions {
  batchSize: number;
  timeoutMs: number;
  leaseMs: number;
  idleDelayMs: number;
  /** Only this organization's deliveries (a dedicated worker, or a test on a shared database). */
  organizationId?: string;
}

type Claimed = repo.DueDelivery & { attempt: number };

/** The body of a delivery: the event as GET /events/:id shows it, previousAttributes only when set. */
export function payloadOf(event: EventRow): string {
  const { previousAttributes, ...rest } = presentEvent(event);
  return JSON.stringify(previousAttributes ? { ...rest, previousAttributes } : rest);
}

/** Claims due deliveries; settles at once the ones that must not be sent. */
async function claim(ctx: Ctx, options: DeliveryJobOptions) {
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    const due = await repo.lockDue(tx, now, options.batchSize, options.organizationId ?? null);
    const toSend: Claimed[] = [];
    for (const delivery of due) {
      if (delivery.status === 'sending') {
        // The worker that claimed it stopped before recording the attempt (crash, kill).
        const last = delivery.attempt_count >= MAX_DELIVERY_ATTEMPTS;
        await repo.insertAttempt(tx, {
          organization_id: delivery.organization_id, delivery_id: delivery.id, attempt_number: delivery.attempt_count,
          attempted_at: now, succeeded: false, status_code: null, latency_ms: 0, response_excerpt: null,
          error: 'the worker stopped before the attempt finished (its lease expired)', next_attempt_at: last ? null : now,
        });
        if (last) {
          await repo.settle(tx, delivery.id, delivery.attempt_count, 'sending', { status: 'failed', dueAt: null, statusCode: null, error: 'lease expired on the last attempt' }, now);
          continue;
        }
      }
      if (!delivery.endpoint_live) {
        await repo.settle(tx, delivery.id, delivery.attempt_count, delivery.status, { status: 'cancelled', dueAt: null, statusCode: null, error: 'the endpoint is disabled or deleted' }, now);
        continue;
      }
      toSend.push({ ...delivery, attempt: delivery.attempt_count + 1 });
    }
    await repo.markSending(tx, toSend.map((d) => d.id), now, new Date(now.getTime() + options.leaseMs));
    return { handled: due.length, toSend };
  });
}

function secretsOf(ctx: Ctx, delivery: Claimed, now: Date): string[] {
  const secrets = [ctx.vault.open(delivery.secret_sealed)];
  if (delivery.previous_secret_sealed && delivery.previous_secret_expires_at && delivery.previous_secret_expires_at > now) {
    secrets.push(ctx.vault.open(delivery.previous_secret_sealed));
  }
  return secrets;
}

interface Outcome {
  statusCode: number | null;
  latencyMs: number;
  responseExcerpt: string | null;
  error: string | null;
}

/** One bounded POST; a failure without an answer (timeout, refused address, connection) is an outcome too. */
async function post(url: string, body: string, headers: Record<string, string>, timeoutMs: number, allowPrivate: boolean): Promise<Outcome> {
  try {
    const response = await sendOutbound({
      url, body, headers: { ...headers, 'content-type': 'application/json' }, timeoutMs, allowPrivate, maxResponseBytes: RESPONSE_EXCERPT_BYTES,
    });
    return { statusCode: response.status, latencyMs: response.latencyMs, responseExcerpt: response.body, error: null };
  } catch (error) {
    if (!(error instanceof OutboundError)) throw error;
    return { statusCode: null, latencyMs: error.latencyMs, responseExcerpt: null, error: `${error.kind}: ${error.message}` };
  }
}

async function attempt(ctx: Ctx, delivery: Claimed, event: EventRow, options: DeliveryJobOptions) {
  const attemptedAt = ctx.clock.now();
  const payload = payloadOf(event);
  // The signature's timestamp is the real time of sending: receivers check it against their clock.
  const headers = { ...signatureHeaders(secretsOf(ctx, delivery, attemptedAt), event.id, new Date(), payload), 'user-agent': USER_AGENT };
  const outcome = await post(delivery.url, payload, headers, options.timeoutMs, ctx.config.webhookAllowPrivate);
  const succeeded = outcome.statusCode !== null && outcome.statusCode >= 200 && outcome.statusCode < 300;
  const error = succeeded ? null : outcome.error ?? `the endpoint answered ${outcome.statusCode} (a 2xx is expected)`;
  const finishedAt = ctx.clock.now();
  const delay = succeeded ? null : retryDelayMs(delivery.attempt);
  const next = delay === null ? null : new Date(finishedAt.getTime() + delay);
  await ctx.db.transaction(async (tx) => {
    await repo.insertAttempt(tx, {
      organization_id: delivery.organization_id, delivery_id: delivery.id, attempt_number: delivery.attempt,
      attempted_at: attemptedAt, succeeded, status_code: outcome.statusCode, latency_ms: outcome.latencyMs,
      response_excerpt: outcome.responseExcerpt, error, next_attempt_at: next,
    });
    await repo.settle(tx, delivery.id, delivery.attempt, 'sending', {
      status: succeeded ? 'succeeded' : next ? 'pending' : 'failed', dueAt: next, statusCode: outcome.statusCode, error,
    }, finishedAt);
  });
  const lagSeconds = (attemptedAt.getTime() - new Date(event.created_at).getTime()) / 1000;
  ctx.metrics?.webhookDelivery(succeeded ? 'succeeded' : next ? 'retrying' : 'failed', lagSeconds);
}

export async function deliverDue(ctx: Ctx, options: DeliveryJobOptions): Promise<number> {
  const { handled, toSend } = await claim(ctx, options);
  if (!toSend.length) return handled;
  const events = new Map((await repo.eventsByIds(ctx.db, [...new Set(toSend.map((d) => d.event_id))])).map((e) => [e.id, e]));
  // Every claimed delivery gets its attempt recorded even if another one fails to record.
  const results = await Promise.allSettled(toSend.map((delivery) => {
    const event = events.get(delivery.event_id);
    if (!event) throw new Error(`delivery ${delivery.id} names a missing event ${delivery.event_id}`);
    return attempt(ctx, delivery, event, options);
  }));
  const failure = results.find((r) => r.status === 'rejected');
  if (failure) throw failure.reason;
  return handled;
}

export function createDeliveryJob(overrides: Partial<DeliveryJobOptions> = {}): Job {
  const options: DeliveryJobOptions = {
    batchSize: DELIVERY_BATCH_SIZE, timeoutMs: DELIVERY_TIMEOUT_MS, leaseMs: DELIVERY_LEASE_MS, idleDelayMs: DELIVERY_IDLE_DELAY_MS,
    ...overrides,
  };
  return {
    name: 'webhook-delivery', idleDelayMs: options.idleDelayMs, run: (ctx) => deliverDue(ctx, options),
    depth: (ctx) => repo.countDue(ctx.db, ctx.clock.now()),
  };
}

/** The job of JOBS (src/jobs.ts). */
export const deliveryJob = createDeliveryJob();

import { Type, type Static } from '@sinclair/typebox';
import { describeSchedule } from './retry-schedule.ts';

const DateTime = Type.String({ format: 'date-time' });
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

export const MAX_URL_LENGTH = 2048;
export const MAX_DESCRIPTION_LENGTH = 500;
export const MAX_EVENT_TYPES = 100;

const Url = Type.String({ minLength: 1, maxLength: MAX_URL_LENGTH, examples: ['https://example.com/paygen/webhooks'], description: 'http or https. Private, loopback and link-local addresses are refused unless PAYGEN_WEBHOOK_ALLOW_PRIVATE=true (the sandbox default); checked again at every delivery, after DNS resolution.' });
const EventTypes = Type.Array(Type.String({ minLength: 1, maxLength: 64 }), {
  minItems: 1, maxItems: MAX_EVENT_TYPES, examples: [['card.created', 'card.frozen'], ['*']],
  description: 'Event types from GET /events/catalog, or ["*"] for every type. An unknown type is a 422 unknown_event_type.',
});
const Description = Type.String({ maxLength: MAX_DESCRIPTION_LENGTH });

export const CreateWebhookBody = Type.Object({
  url: Url,
  events: EventTypes,
  description: Type.Optional(Nullable(Description)),
  enabled: Type.Optional(Type.Boolean({ default: true })),
}, {
  additionalProperties: false,
  examples: [{ url: 'https://example.com/paygen/webhooks', events: ['card.created', 'card.frozen', 'authorization.created'], description: 'Card events for the ledger service', enabled: true }],
});
export type CreateWebhookBody = Static<typeof CreateWebhookBody>;

export const UpdateWebhookBody = Type.Object({
  url: Type.Optional(Url),
  events: Type.Optional(EventTypes),
  description: Type.Optional(Nullable(Description)),
  enabled: Type.Optional(Type.Boolean({ description: 'A disabled endpoint gets no new deliveries; its pending ones are cancelled (replay them after enabling it again).' })),
}, {
  additionalProperties: false,
  minProperties: 1,
  examples: [{ url: 'https://example.com/paygen/webhooks/v2', events: ['*'], description: 'Every event, for the data warehouse', enabled: true }],
});
export type UpdateWebhookBody = Static<typeof UpdateWebhookBody>;

export const ReplayBody = Type.Object({
  since: { ...DateTime, description: 'Re-deliver the endpoint\'s matching events created at or after this time.' },
}, { additionalProperties: false, examples: [{ since: '2026-01-01T00:00:00.000Z' }] });
export type ReplayBody = Static<typeof ReplayBody>;

export const ResendBody = Type.Object({
  webhookId: Type.Optional(Type.String({ maxLength: 64, description: 'Resend to this endpoint only (it must be enabled; its event filter is not applied). Default: every enabled endpoint that matches the event\'s type.' })),
}, { additionalProperties: false, examples: [{ webhookId: 'whk_01jd0000000000000000000000' }] });
export type ResendBody = Static<typeof ResendBody>;

export const Webhook = Type.Object({
  id: Type.String({ examples: ['whk_01jd0000000000000000000000'] }),
  url: Type.String(),
  description: Nullable(Type.String()),
  events: Type.Array(Type.String()),
  enabled: Type.Boolean(),
  previousSecretExpiresAt: Nullable({ ...DateTime, description: 'After a rotation, deliveries are signed with the old secret too until this time.' }),
  createdAt: DateTime,
  updatedAt: DateTime,
}, { $id: 'Webhook', description: `A webhook endpoint. Deliveries are signed per Standard Webhooks (webhook-id = the event id, stable across retries; webhook-timestamp; webhook-signature). Retries: ${describeSchedule()}` });
export type Webhook = Static<typeof Webhook>;

export const WebhookWithSecret = Type.Object({
  ...Webhook.properties,
  secret: Type.String({ examples: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'], description: 'The signing secret, shown only here (at creation and rotation). Verify deliveries with it, e.g. new Webhook(secret).verify(body, headers) from the standardwebhooks package.' }),
});

export const DELIVERY_STATUSES = ['pending', 'sending', 'succeeded', 'failed', 'cancelled'] as const;
export const DELIVERY_REASONS = ['event', 'test', 'resend', 'replay'] as const;

const Attempt = Type.Object({
  attempt: Type.Integer({ minimum: 1 }),
  attemptedAt: DateTime,
  succeeded: Type.Boolean(),
  statusCode: Nullable(Type.Integer()),
  latencyMs: Type.Integer(),
  responseExcerpt: Nullable(Type.String({ description: 'The first characters of the answer (1,000 at most).' })),
  error: Nullable(Type.String({ description: 'Why the attempt failed: a non-2xx status, a timeout, a connection error or a refused address.' })),
  nextAttemptAt: Nullable({ ...DateTime, description: 'When the delivery is retried after this failure; null after a success or the last attempt.' }),
});

export const Delivery = Type.Object({
  id: Type.String({ examples: ['dlv_01jd0000000000000000000000'] }),
  webhookId: Type.String(),
  eventId: Type.String(),
  eventType: Type.String(),
  reason: Type.Union(DELIVERY_REASONS.map((r) => Type.Literal(r)), { description: 'event: fan-out of a new event; test, resend, replay: asked for through the API.' }),
  status: Type.Union(DELIVERY_STATUSES.map((s) => Type.Literal(s))),
  attemptCount: Type.Integer(),
  nextAttemptAt: Nullable({ ...DateTime, description: 'When a pending delivery is tried next.' }),
  attempts: Type.Array(Attempt),
  createdAt: DateTime,
  updatedAt: DateTime,
  completedAt: Nullable(DateTime),
}, { $id: 'WebhookDelivery' });
export type Delivery = Static<typeof Delivery>;

export const DeliveryListQuery = {
  status: Type.Optional(Type.Union(DELIVERY_STATUSES.map((s) => Type.Literal(s)))),
};

export const ReplayResult = Type.Object({
  webhookId: Type.String(),
  since: DateTime,
  deliveries: Type.Integer({ description: 'How many deliveries were queued.' }),
});

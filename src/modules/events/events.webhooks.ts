// What Paygen POSTs to receivers, for the OpenAPI document's `webhooks` section: the event
// envelope with each catalog type's `data` schema, and the real-time authorization decision call
// with its answer. EVENT_DATA must name a schema for every catalog type (the compiler checks), and
// a test checks every catalog sample against its schema.
import { Type, type TSchema } from '@sinclair/typebox';
import { Account, BookTransfer, Deposit } from '../accounts/accounts.schemas.ts';
import { Authorization } from '../authorizations/authorizations.schemas.ts';
import { DecisionAnswer, DecisionPayload } from '../authorizations/decision-webhook.ts';
import { Budget } from '../budgets/budgets.schemas.ts';
import { CardHolder, Document } from '../card-holders/card-holders.schemas.ts';
import { Program } from '../card-programs/card-programs.schemas.ts';
import { PinBlocked, PinStatus } from '../cards/card-pins.schemas.ts';
import { CardRevealed } from '../cards/card-reveal.schemas.ts';
import { Card } from '../cards/cards.schemas.ts';
import { ApiKey } from '../organizations/organizations.schemas.ts';
import { SigningKey } from '../signing-keys/signing-keys.schemas.ts';
import { Tokenization } from '../tokenizations/tokenizations.schemas.ts';
import { Transaction } from '../transactions/transactions.schemas.ts';
import { Dispute } from '../disputes/disputes.schemas.ts';
import { EVENT_CATALOG, type EventType } from './events.catalog.ts';
import * as samples from './events.samples.ts';

const account = Type.Ref(Account);
const cardHolder = Type.Ref(CardHolder);
const program = Type.Ref(Program);
const card = Type.Ref(Card);
const tokenization = Type.Ref(Tokenization);
const apiKey = Type.Ref(ApiKey);
const budget = Type.Ref(Budget);
const authorization = Type.Ref(Authorization);

/** The `data` of each event type. */
export const EVENT_DATA = {
  'account.created': account,
  'account.updated': account,
  'account.closed': account,
  'account.deposit_received': Deposit,
  'transfer.created': BookTransfer,
  'card_holder.created': cardHolder,
  'card_holder.updated': cardHolder,
  'card_holder.kyc_updated': cardHolder,
  'card_holder.document_added': Type.Object({ cardHolderId: Type.String(), document: Type.Ref(Document) }),
  'card_program.created': program,
  'card_program.updated': program,
  'card.created': card,
  'card.updated': card,
  'card.frozen': card,
  'card.unfrozen': card,
  'card.activated': card,
  'card.cancelled': card,
  'card.issued': card,
  'card.rejected': card,
  'card.shipped': card,
  'card.delivered': card,
  'card.expired': card,
  'card.suspended': card,
  'card.reinstated': card,
  'card.topped_up': card,
  'card.withdrawn': card,
  'card.replaced': card,
  'card.pin_updated': Type.Composite([PinStatus, Type.Object({
    source: Type.Union([Type.Literal('api'), Type.Literal('hosted_page')], {
      description: 'PUT /cards/:id/pin or the hosted PIN page.',
    }),
  })]),
  'card.pin_blocked': PinBlocked,
  'card.revealed': CardRevealed,
  'tokenization.created': tokenization,
  'tokenization.updated': tokenization,
  'api_key.created': apiKey,
  'api_key.revoked': apiKey,
  'signing_key.created': Type.Ref(SigningKey),
  'signing_key.deleted': Type.Ref(SigningKey),
  'budget.created': budget,
  'budget.updated': budget,
  'budget.closed': budget,
  'webhook.test': Type.Object({ webhookId: Type.String(), url: Type.String(), message: Type.String() }),
  'authorization.created': authorization,
  'authorization.incremented': authorization,
  'authorization.captured': authorization,
  'authorization.reversed': authorization,
  'authorization.expired': authorization,
  'transaction.created': Type.Ref(Transaction),
  'dispute.created': Type.Ref(Dispute),
  'dispute.evidence_added': Type.Ref(Dispute),
  'dispute.submitted': Type.Ref(Dispute),
  'dispute.won': Type.Ref(Dispute),
  'dispute.lost': Type.Ref(Dispute),
} satisfies Record<EventType, TSchema>;

/** The body of every event delivery (GET /events/:id shows the same event). */
export const WebhookEvent = Type.Object({
  id: Type.String({
    description: 'The event id; also the webhook-id header, stable across retries.',
    examples: ['evt_01jd0000000000000000000000'],
  }),
  type: Type.String({ description: 'A type of GET /events/catalog.', examples: ['card.created'] }),
  createdAt: Type.String({ format: 'date-time' }),
  resource: Type.String({ examples: ['card'] }),
  resourceId: Type.String({ examples: ['card_01jd0000000000000000000000'] }),
  sequence: Type.Integer({
    minimum: 1,
    description: 'Per resource, increasing: drop an update whose sequence is not newer than the last one applied.',
  }),
  data: Type.Record(Type.String(), Type.Unknown(), {
    description: 'The resource after the change; its schema depends on `type`.',
  }),
  previousAttributes: Type.Optional(Type.Record(Type.String(), Type.Unknown(), {
    description: 'Only when something changed: the changed attributes with their old values.',
  })),
}, { $id: 'WebhookEvent', description: 'An event as delivered to a webhook endpoint.' });

/** Standard Webhooks headers, on event deliveries and on the authorization decision call alike. */
const SIGNATURE_HEADERS = [
  {
    name: 'webhook-id',
    description: 'The message id (for events, the event id: stable across retries, so receivers can drop duplicates).',
    example: 'evt_01jd0000000000000000000000',
  },
  {
    name: 'webhook-timestamp',
    description: 'Unix time in seconds when the message was signed; refuse old ones to stop replays.',
    example: '1767225600',
  },
  {
    name: 'webhook-signature',
    description: 'Space-separated `v1,<base64 HMAC-SHA256>` signatures of `{webhook-id}.{webhook-timestamp}.{body}`, ' +
      'one per valid secret.',
    example: 'v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=',
  },
].map((header) => ({ ...header, in: 'header', required: true, schema: { type: 'string' } }));

type Json = Record<string, unknown>;

/**
 * TypeBox refs name the schema's $id; in the document they point into components. An $id is left
 * out: in OpenAPI 3.1 it would change the base that the schema's own refs resolve against.
 */
function toDocument(schema: TSchema): Json {
  return JSON.parse(JSON.stringify(schema), (key, value) => {
    if (key === '$id') return undefined;
    const named = key === '$ref' && typeof value === 'string' && !value.startsWith('#');
    return named ? `#/components/schemas/${value}` : value;
  });
}

function eventOperation(type: EventType): Json {
  const entry = EVENT_CATALOG[type];
  const payload = {
    allOf: [
      { $ref: '#/components/schemas/WebhookEvent' },
      {
        type: 'object',
        properties: { type: { const: type }, resource: { const: entry.resource }, data: toDocument(EVENT_DATA[type]) },
      },
    ],
  };
  const example = {
    id: 'evt_01jd0000000000000000000000', type, createdAt: '2026-01-01T00:00:00.000Z', resource: entry.resource,
    resourceId: (entry.sample as { id?: string }).id ?? 'res_01jd0000000000000000000000', sequence: 1,
    data: entry.sample,
  };
  return {
    post: {
      operationId: `webhookEvent${type.split(/[._]/).map((w) => w[0].toUpperCase() + w.slice(1)).join('')}`,
      summary: `Event ${type}`,
      description: `${entry.description} Sent to every enabled endpoint subscribed to \`${type}\` or \`*\`; ` +
        'answer 2xx within the timeout, or the delivery is retried with backoff.',
      tags: ['Webhooks'],
      parameters: SIGNATURE_HEADERS,
      requestBody: { required: true, content: { 'application/json': { schema: payload, example } } },
      responses: {
        '200': {
          description: 'Received: any 2xx ends the delivery. Anything else, or no answer in time, is retried.',
        },
      },
    },
  };
}

const decisionExample = {
  id: 'msg_5f1c0a7b3e9d2c4a6b81d0e2', type: 'authorization.request', createdAt: '2026-01-01T00:00:00.000Z',
  data: {
    authorizationId: samples.authorization.id, cardId: samples.card.id, programId: samples.program.id, amount: 1250,
    currency: 'USD', entryMode: 'contactless', partialApprovalSupported: true,
    merchant: { name: 'Blue Bottle Coffee', mcc: '5812', city: 'San Francisco', country: 'US', id: 'mch_12345' },
    card: {
      status: 'active', lastFour: '1234', type: 'virtual', brand: 'Visa', bin: '45320100',
      expiry: { month: 1, year: 2029 }, cardHolderId: samples.cardHolder.id, budgetId: null, label: null,
    },
  },
};

function decisionOperation(): Json {
  return {
    post: {
      operationId: 'webhookAuthorizationRequest',
      summary: 'Real-time authorization decision',
      description: [
        'Sent to the card program\'s `authorizationWebhook.url` when a card payment passes the program\'s rules,',
        'before any money is held, signed with the program\'s webhook secret. Answer within the program\'s',
        '`timeoutMs` with `{approved, amount?, reason?}`: an `amount` below the requested one is a partial',
        'approval when `partialApprovalSupported`, and a decline otherwise. A timeout, an error, a non-2xx',
        'answer or a malformed body applies the program\'s fallback (approve or decline).',
      ].join(' '),
      tags: ['Authorizations'],
      parameters: SIGNATURE_HEADERS,
      requestBody: {
        required: true,
        content: {
          'application/json': { schema: { $ref: '#/components/schemas/AuthorizationRequest' }, example: decisionExample },
        },
      },
      responses: {
        '200': {
          description: 'The decision. Any 2xx status is read; extra fields are ignored.',
          content: {
            'application/json': {
              schema: { $ref: '#/components/schemas/AuthorizationDecision' },
              example: { approved: true, amount: 1000, reason: 'partial approval: daily limit' },
            },
          },
        },
      },
    },
  };
}

/** The `webhooks` section and the component schemas it references. */
export function webhooksSection(): { webhooks: Json; schemas: Json } {
  const webhooks: Json = { 'authorization.request': decisionOperation() };
  for (const type of Object.keys(EVENT_DATA) as EventType[]) webhooks[type] = eventOperation(type);
  return {
    webhooks,
    schemas: {
      WebhookEvent: toDocument(WebhookEvent),
      AuthorizationRequest: toDocument(DecisionPayload),
      AuthorizationDecision: toDocument(DecisionAnswer),
    },
  };
}

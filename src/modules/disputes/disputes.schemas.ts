import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Amount } from '../../platform/money.ts';

export const DISPUTE_STATUSES = ['unsubmitted', 'submitted', 'won', 'lost'] as const;
export type DisputeStatus = (typeof DISPUTE_STATUSES)[number];
export const DISPUTE_REASONS = ['fraudulent', 'not_received', 'duplicate', 'canceled', 'not_as_described', 'other'] as const;
export type DisputeReason = (typeof DISPUTE_REASONS)[number];
/** The multipart file fields of evidence, which are also the evidence file kinds. */
export const EVIDENCE_FILE_KINDS = ['receipt', 'merchantCommunication', 'shippingDocumentation', 'additionalDocumentation'] as const;
export type EvidenceFileKind = (typeof EVIDENCE_FILE_KINDS)[number];

/** A union of string literals that keeps the literal types (a mapped array would widen them). */
const literals = <T extends readonly string[]>(values: T, options: Record<string, unknown> = {}) =>
  Type.Unsafe<T[number]>(Type.Union(values.map((v) => Type.Literal(v)), options));

const Id = Type.String({ minLength: 1, maxLength: 64 });
/** One line of printable text (the card-holder pattern): no control or text-direction characters. */
const PLAIN_TEXT = '^(?=.*\\S)[^\\u0000-\\u001F\\u007F-\\u009F\\u202A-\\u202E\\u2066-\\u2069]+$';
/** Free text over several lines: tab, line feed and carriage return allowed, other controls not. */
const MULTILINE_TEXT = '^(?=[\\s\\S]*\\S)[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F\\u202A-\\u202E\\u2066-\\u2069]+$';
export const MAX_EXPLANATION_LENGTH = 5000;

const text = {
  explanation: Type.String({
    minLength: 1, maxLength: MAX_EXPLANATION_LENGTH, pattern: MULTILINE_TEXT,
    description: 'The card holder\'s account of what happened (several lines allowed).',
    examples: ['I cancelled the subscription on 2 January and was charged again on 5 January.'],
  }),
  productDescription: Type.String({ minLength: 1, maxLength: 1000, pattern: MULTILINE_TEXT, examples: ['Annual plan, Pro tier'] }),
  merchantContactedAt: Type.String({ format: 'date-time', description: 'When the card holder asked the merchant to fix it.', examples: ['2026-01-06T09:30:00Z'] }),
  trackingNumber: Type.String({ minLength: 1, maxLength: 100, pattern: PLAIN_TEXT, description: 'A return or shipment tracking number.', examples: ['1Z999AA10123456784'] }),
  canceledAt: Type.String({ format: 'date-time', description: 'When the order or subscription was cancelled.', examples: ['2026-01-02T18:00:00Z'] }),
  returnedAt: Type.String({ format: 'date-time', description: 'When the goods were sent back.', examples: ['2026-01-07T12:00:00Z'] }),
};
export const EVIDENCE_TEXT_FIELDS = Object.keys(text) as Array<keyof typeof text>;
export type EvidenceText = { [K in keyof typeof text]?: string };

export const CreateDisputeBody = Type.Object({
  transactionId: { ...Id, description: 'The capture or force capture disputed, of one of the organization\'s cards.' },
  reason: literals(DISPUTE_REASONS),
  amount: Type.Optional({
    ...Amount,
    description: 'Minor units disputed; at most the transaction amount less its refunds and won dispute credits, which is the default.',
  }),
  explanation: text.explanation,
}, {
  additionalProperties: false,
  examples: [{ transactionId: 'txn_01jd0000000000000000000000', reason: 'canceled', amount: 400, explanation: 'I cancelled the ride before it started.' }],
});
export type CreateDisputeBody = Static<typeof CreateDisputeBody>;

/** How the file fields appear in the OpenAPI document; as JSON text they are refused. */
const file = (description: string) => Type.Optional(Type.String({
  format: 'binary', description: `${description} JPEG, PNG or PDF (checked by content), at most 10 MiB. multipart/form-data only.`,
}));

export const EvidenceBody = Type.Object({
  explanation: Type.Optional(text.explanation),
  productDescription: Type.Optional(text.productDescription),
  merchantContactedAt: Type.Optional(text.merchantContactedAt),
  trackingNumber: Type.Optional(text.trackingNumber),
  canceledAt: Type.Optional(text.canceledAt),
  returnedAt: Type.Optional(text.returnedAt),
  receipt: file('The receipt or invoice.'),
  merchantCommunication: file('Messages exchanged with the merchant.'),
  shippingDocumentation: file('Proof of shipment, return or non-delivery.'),
  additionalDocumentation: file('Anything else that supports the dispute.'),
}, {
  additionalProperties: false,
  examples: [{ explanation: 'I cancelled the ride before it started; the driver never arrived.', merchantContactedAt: '2026-01-06T09:30:00Z', trackingNumber: '1Z999AA10123456784' }],
});
export type EvidenceBody = Static<typeof EvidenceBody>;

export const ResolveDisputeBody = Type.Object({
  outcome: literals(['won', 'lost'] as const, { description: 'won credits the disputed amount to the card; lost leaves the charge.' }),
  reason: Type.Optional(Type.String({ minLength: 1, maxLength: 255, pattern: PLAIN_TEXT, description: 'Why the network decided so.', examples: ['merchant_accepted'] })),
}, { additionalProperties: false, examples: [{ outcome: 'won', reason: 'merchant_accepted' }] });
export type ResolveDisputeBody = Static<typeof ResolveDisputeBody>;

export const DisputeListQuery = {
  status: Type.Optional(literals(DISPUTE_STATUSES)),
  reason: Type.Optional(literals(DISPUTE_REASONS)),
  transactionId: Type.Optional(Id),
  cardId: Type.Optional(Id),
};

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
const DateTime = Type.String({ format: 'date-time' });

export const EvidenceFile = Type.Object({
  id: Type.String({ examples: ['doc_01jd0000000000000000000000'] }),
  kind: literals(EVIDENCE_FILE_KINDS),
  fileName: Type.String({ description: 'Display name only: path, control and bidi characters removed, at most 255 bytes.' }),
  contentType: literals(['image/jpeg', 'image/png', 'application/pdf'] as const, { description: 'Decided from the file content.' }),
  sizeBytes: Type.Integer(),
  sha256: Type.String({ description: 'Hex SHA-256 of the file content.' }),
  createdAt: DateTime,
}, { $id: 'DisputeEvidenceFile' });
export type EvidenceFile = Static<typeof EvidenceFile>;

export const Dispute = Type.Object({
  id: Type.String({ examples: ['dsp_01jd0000000000000000000000'] }),
  transactionId: Type.String(),
  cardId: Type.String(),
  status: literals(DISPUTE_STATUSES, { description: 'unsubmitted → submitted → won or lost.' }),
  reason: literals(DISPUTE_REASONS),
  amount: Type.Integer({ description: 'Minor units disputed.' }),
  creditedAmount: Type.Integer({
    description: 'What the won dispute credited to the card: the amount less what refunds of the transaction returned before the ' +
      'resolution (a refund and a dispute never pay the same money twice). 0 until won.',
  }),
  currency: Type.String(),
  evidence: Type.Object({
    explanation: Type.String(),
    productDescription: Nullable(Type.String()),
    merchantContactedAt: Nullable(DateTime),
    trackingNumber: Nullable(Type.String()),
    canceledAt: Nullable(DateTime),
    returnedAt: Nullable(DateTime),
    files: Type.Array(Type.Ref(EvidenceFile)),
  }),
  resolutionReason: Nullable(Type.String()),
  createdAt: DateTime,
  updatedAt: DateTime,
  submittedAt: Nullable(DateTime),
  resolvedAt: Nullable(DateTime),
}, { $id: 'Dispute' });
export type Dispute = Static<typeof Dispute>;

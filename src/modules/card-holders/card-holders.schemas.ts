import { Type, type Static, type TString } from '@sinclair/typebox';
import { SpendControls } from '../card-programs/card-programs.schemas.ts';

/** in_review: every document the holder's program demands is in; the KYC review decides. */
export const KYC_STATUSES = ['pending', 'needs_information', 'in_review', 'verified', 'rejected'] as const;
export type KycStatus = (typeof KYC_STATUSES)[number];
export const KycStatusSchema = Type.Union(KYC_STATUSES.map((s) => Type.Literal(s)));

/** The multipart file fields, which are also the document kinds. */
export const DOCUMENT_KINDS = ['idDocumentFront', 'idDocumentBack', 'proofOfAddress', 'selfie'] as const;
export type DocumentKind = (typeof DOCUMENT_KINDS)[number];

/**
 * Free text: at least one visible character; no control characters and no bidi embedding or
 * override characters, which could make a name or address display differently from what it is.
 */
const PLAIN_TEXT = '^(?=.*\\S)[^\\u0000-\\u001F\\u007F-\\u009F\\u202A-\\u202E\\u2066-\\u2069]+$';
const text = (maxLength: number, examples: string[]) => Type.String({ minLength: 1, maxLength, pattern: PLAIN_TEXT, examples });
const Alpha2 = (description: string) => Type.String({ pattern: '^[A-Z]{2}$', description, examples: ['US'] });

const fields = {
  firstName: text(100, ['Jane']),
  lastName: text(100, ['Doe']),
  email: Type.String({ format: 'email', maxLength: 254, examples: ['jane.doe@example.com'] }),
  phoneNumber: Type.String({ pattern: '^\\+[1-9]\\d{1,14}$', description: 'E.164: + and up to 15 digits.', examples: ['+14155550100'] }),
  dateOfBirth: Type.String({ format: 'date', pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'YYYY-MM-DD; the holder must be at least 18.', examples: ['1990-07-14'] }),
  nationality: Alpha2('ISO 3166-1 alpha-2 (upper case).'),
  addressLine1: text(100, ['123 Main St']),
  addressLine2: text(100, ['Apt 4']),
  city: text(100, ['San Francisco']),
  state: text(50, ['CA']),
  postalCode: Type.String({ pattern: '^[A-Za-z0-9](?:[A-Za-z0-9 -]{0,14}[A-Za-z0-9])?$', description: 'Letters, digits, spaces and hyphens; 1–16 characters.', examples: ['94105'] }),
  country: Alpha2('ISO 3166-1 alpha-2 (upper case). Required, with state for US, for a verified holder.'),
};

const ProgramId = Type.String({
  minLength: 1, maxLength: 64, examples: ['prg_01jd0000000000000000000000'],
  description: 'The card program the holder applies for. When it demands documents (requiredDocuments), the holder ' +
    'stays pending until they are uploaded, then in_review until the KYC review decides.',
});

/** How the file fields appear in the OpenAPI document; as JSON text they are refused. */
const file = (description: string) => Type.Optional(Type.String({ format: 'binary', description: `${description} JPEG, PNG or PDF (checked by content), at most 10 MiB. multipart/form-data only.` }));
const files = {
  idDocumentFront: file('Front of the identity document.'),
  idDocumentBack: file('Back of the identity document.'),
  proofOfAddress: file('Proof of address.'),
  selfie: file('A selfie of the holder.'),
};

export const CreateCardHolderBody = Type.Object({
  firstName: fields.firstName,
  lastName: fields.lastName,
  email: Type.Optional(fields.email),
  phoneNumber: Type.Optional(fields.phoneNumber),
  dateOfBirth: Type.Optional(fields.dateOfBirth),
  nationality: Type.Optional(fields.nationality),
  addressLine1: Type.Optional(fields.addressLine1),
  addressLine2: Type.Optional(fields.addressLine2),
  city: Type.Optional(fields.city),
  state: Type.Optional(fields.state),
  postalCode: Type.Optional(fields.postalCode),
  country: Type.Optional(fields.country),
  spendControls: Type.Optional(Type.Union([Type.Ref(SpendControls), Type.Null()], { description: 'JSON bodies only.' })),
  programId: Type.Optional(ProgramId),
  ...files,
}, {
  additionalProperties: false,
  examples: [{
    firstName: 'Jane', lastName: 'Doe', email: 'jane.doe@example.com', phoneNumber: '+14155550100', dateOfBirth: '1990-07-14',
    nationality: 'US', addressLine1: '123 Main St', addressLine2: 'Apt 4', city: 'San Francisco', state: 'CA', postalCode: '94105',
    country: 'US', spendControls: { limits: [{ amount: 100000, interval: 'daily' }], blockedCategories: ['7995'] },
  }],
});
export type CreateCardHolderBody = Static<typeof CreateCardHolderBody>;

/** A field that JSON may clear with null (multipart sends strings only). */
const clearable = (schema: TString) => Type.Optional(Type.Unsafe<string | null>({ ...schema, type: ['string', 'null'] }));

export const UpdateCardHolderBody = Type.Object({
  firstName: Type.Optional(fields.firstName),
  lastName: Type.Optional(fields.lastName),
  email: clearable(fields.email),
  phoneNumber: clearable(fields.phoneNumber),
  dateOfBirth: clearable(fields.dateOfBirth),
  nationality: clearable(fields.nationality),
  addressLine1: clearable(fields.addressLine1),
  addressLine2: clearable(fields.addressLine2),
  city: clearable(fields.city),
  state: clearable(fields.state),
  postalCode: clearable(fields.postalCode),
  country: clearable(fields.country),
  spendControls: Type.Optional(Type.Union([Type.Ref(SpendControls), Type.Null()], { description: 'JSON bodies only; null clears them.' })),
  programId: Type.Optional(ProgramId),
  ...files,
}, {
  additionalProperties: false,
  examples: [{ email: 'jane.doe@example.org', phoneNumber: '+14155550199', addressLine1: '500 Howard St', addressLine2: null, city: 'San Francisco', state: 'CA', postalCode: '94105' }],
});
export type UpdateCardHolderBody = Static<typeof UpdateCardHolderBody>;

export const AddDocumentsBody = Type.Object(files, {
  additionalProperties: false,
  examples: [{ idDocumentFront: '(the bytes of passport-front.jpg)', proofOfAddress: '(the bytes of utility-bill.pdf)' }],
});

/** The text fields a card holder has (the body keys that are not files). */
export const HOLDER_FIELDS = Object.keys(fields) as Array<keyof typeof fields>;
export type HolderFields = { [K in keyof typeof fields]?: string | null };

export const CardHolderListQuery = {
  kycStatus: Type.Optional(KycStatusSchema),
  email: Type.Optional(Type.String({ maxLength: 254, description: 'Exact match, case-insensitive.' })),
};

export const KycBody = Type.Object({
  status: KycStatusSchema,
  reason: Type.Optional(Type.String({ minLength: 1, maxLength: 255, pattern: PLAIN_TEXT, examples: ['document_unreadable'] })),
}, { additionalProperties: false, examples: [{ status: 'needs_information', reason: 'document_unreadable' }] });
export type KycBody = Static<typeof KycBody>;

const Nullable = <T extends TString>(schema: T) => Type.Union([schema, Type.Null()]);
const DateTime = Type.String({ format: 'date-time' });

export const Document = Type.Object({
  id: Type.String({ examples: ['doc_01jd0000000000000000000000'] }),
  cardHolderId: Type.String(),
  kind: Type.Union(DOCUMENT_KINDS.map((k) => Type.Literal(k))),
  fileName: Type.String({ description: 'Display name only: path, control and bidi characters removed, at most 255 bytes. Escape it before putting it in HTML.' }),
  contentType: Type.Union([Type.Literal('image/jpeg'), Type.Literal('image/png'), Type.Literal('application/pdf')], { description: 'Decided from the file content.' }),
  sizeBytes: Type.Integer(),
  sha256: Type.String({ description: 'Hex SHA-256 of the file content.' }),
  createdAt: DateTime,
}, { $id: 'Document' });
export type Document = Static<typeof Document>;

export const CardHolder = Type.Object({
  id: Type.String({ examples: ['ch_01jd0000000000000000000000'] }),
  firstName: Type.String(),
  lastName: Type.String(),
  email: Nullable(Type.String()),
  phoneNumber: Nullable(Type.String()),
  dateOfBirth: Nullable(Type.String()),
  nationality: Nullable(Type.String()),
  addressLine1: Nullable(Type.String()),
  addressLine2: Nullable(Type.String()),
  city: Nullable(Type.String()),
  state: Nullable(Type.String()),
  postalCode: Nullable(Type.String()),
  country: Nullable(Type.String()),
  spendControls: Type.Union([Type.Ref(SpendControls), Type.Null()]),
  programId: Type.Union([Type.String(), Type.Null()], { description: 'The program the holder applied for, if given.' }),
  kycStatus: KycStatusSchema,
  kycReason: Nullable(Type.String({ description: 'Why the status is not verified (missing fields, or the reviewer\'s reason).' })),
  documents: Type.Array(Type.Ref(Document)),
  createdAt: DateTime,
  updatedAt: DateTime,
}, { $id: 'CardHolder' });
export type CardHolder = Static<typeof CardHolder>;

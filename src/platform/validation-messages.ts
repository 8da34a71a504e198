// Validation messages in plain words: a client reads "type must be one of: virtual, physical" or
// "phoneNumber must be an E.164 number such as +14155550123", never Ajv's wording or a regex.
// Also the one place date formats are bounded to the years PostgreSQL and JavaScript share.
import type { ErrorDetail } from './errors.ts';

export interface AjvError {
  keyword: string;
  instancePath: string;
  schemaPath: string;
  message?: string;
  params?: Record<string, unknown>;
}

/**
 * Every `pattern` used by a request schema, in words. The schemas test checks that each pattern
 * of the OpenAPI document is listed here; an unlisted one falls back to UNKNOWN_PATTERN.
 */
export const PATTERN_MESSAGES: Record<string, string> = {
  '^\\d{4}$': 'must be exactly 4 digits, such as 5812',
  '^[A-Z]{2}$': 'must be an ISO 3166-1 alpha-2 country code in capitals, such as US',
  '^[A-Za-z]{3}$': 'must be a three-letter ISO 4217 currency code, such as USD',
  '^\\d{6,8}$': 'must be 6 to 8 digits, such as 45990000',
  '^([Vv][Ii][Ss][Aa]|[Mm][Aa][Ss][Tt][Ee][Rr][Cc][Aa][Rr][Dd])$': 'must be Visa or Mastercard',
  '^[\\p{L} .\\-]+$': 'may contain only letters, spaces, hyphens and periods',
  '^\\+\\d+\\s?\\d{1,16}$': 'must be a phone number in international form, such as +14155550123',
  '^\\+[1-9]\\d{1,14}$': 'must be an E.164 number such as +14155550123',
  '^\\d{4}-\\d{2}-\\d{2}$': 'must be a date written YYYY-MM-DD, such as 1990-07-14',
  '^[A-Za-z0-9](?:[A-Za-z0-9 -]{0,14}[A-Za-z0-9])?$':
    'must be 1 to 16 letters, digits, spaces or hyphens, starting and ending with a letter or digit, such as 94105',
  '^(?=.*\\S)[^\\u0000-\\u001F\\u007F-\\u009F\\u202A-\\u202E\\u2066-\\u2069]+$':
    'must be printable text with at least one visible character (no control or text-direction characters)',
  '^(?=[\\s\\S]*\\S)[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F\\u202A-\\u202E\\u2066-\\u2069]+$':
    'must be text with at least one visible character; line breaks and tabs are allowed, other control and text-direction characters are not',
  '^(\\*|[a-z-]+:(read|write|\\*))$': 'must be * or a scope such as cards:read, cards:write or cards:*',
  '^[\\x21-\\x7e]+$': 'must be printable ASCII without spaces, such as backend-2026',
  '^[\\x20-\\x7e]+$': 'must be printable ASCII characters (space to ~)',
};
export const UNKNOWN_PATTERN = 'is not in the expected format';

const FORMAT_MESSAGES: Record<string, string> = {
  'date-time': 'must be an ISO 8601 date-time with a time zone, years 0001 to 9999 in UTC, no leap second, such as 2026-01-31T23:59:59Z',
  date: 'must be a date written YYYY-MM-DD, years 0001 to 9999, such as 1990-07-14',
  email: 'must be an email address, such as ada@example.com',
  uri: 'must be an absolute URL, such as https://example.com/webhooks',
};

const TYPE_WORDS: Record<string, string> = {
  integer: 'a whole number', number: 'a number', string: 'a string', boolean: 'true or false',
  object: 'an object', array: 'an array', null: 'null',
};

const typeWords = (type: unknown) => [type].flat().map((t) => TYPE_WORDS[String(t)] ?? String(t)).join(' or ');
const characters = (n: unknown) => `${n} character${n === 1 ? '' : 's'}`;
const items = (n: unknown) => `${n} item${n === 1 ? '' : 's'}`;

/** One Ajv error in words, without the field name. */
function reasonOf(error: AjvError): string {
  const p = error.params ?? {};
  switch (error.keyword) {
    case 'required': return 'is required';
    case 'additionalProperties': return 'is not a known field';
    case 'type': return `must be ${typeWords(p.type)}`;
    case 'const': return `must be ${String(p.allowedValue)}`;
    case 'enum': return `must be one of: ${(p.allowedValues as unknown[]).join(', ')}`;
    case 'pattern': return PATTERN_MESSAGES[String(p.pattern)] ?? UNKNOWN_PATTERN;
    case 'format': return FORMAT_MESSAGES[String(p.format)] ?? `must be a valid ${String(p.format)}`;
    case 'minLength': return `must be at least ${characters(p.limit)} long`;
    case 'maxLength': return `must be at most ${characters(p.limit)} long`;
    case 'minimum': return `must be ${p.limit} or more`;
    case 'maximum': return `must be ${p.limit} or less`;
    case 'exclusiveMinimum': return `must be more than ${p.limit}`;
    case 'exclusiveMaximum': return `must be less than ${p.limit}`;
    case 'minItems': return `must have at least ${items(p.limit)}`;
    case 'maxItems': return `must have at most ${items(p.limit)}`;
    case 'minProperties': return `must have at least ${p.limit} fields`;
    case 'maxProperties': return `must have at most ${p.limit} fields`;
    case 'uniqueItems': return 'must not repeat an item';
    case 'multipleOf': return `must be a multiple of ${p.multipleOf}`;
    default: return 'is invalid';
  }
}

/** The name of the field an error is about, with dots: `limits.0.amount`, `querystring.status`. */
export function fieldOf(error: AjvError, context: string | undefined): string {
  const path = error.instancePath.replace(/^\//, '').replace(/\//g, '.');
  const extra = (error.params?.missingProperty ?? error.params?.additionalProperty) as string | undefined;
  const field = [path, extra].filter(Boolean).join('.');
  return context && context !== 'body' ? `${context}.${field}` : field;
}

const ALTERNATIVE_KEYWORDS = new Set(['type', 'const', 'enum']);

/**
 * A union (TypeBox Union, Ajv anyOf) fails with one error per branch. When a branch's type
 * matched but a constraint failed (a label too long in string|null), that constraint is the
 * reason; otherwise the reason lists the alternatives: "must be one of: virtual, physical".
 */
function unionReason(errors: AjvError[]): string {
  const branches = errors.filter((e) => !isUnion(e));
  const constraint = branches.find((e) => !ALTERNATIVE_KEYWORDS.has(e.keyword));
  if (constraint) return reasonOf(constraint);
  const values = branches.flatMap((e) => e.keyword === 'const' ? [String(e.params?.allowedValue)] : e.keyword === 'enum' ? (e.params?.allowedValues as unknown[]).map(String) : []);
  const types = branches.filter((e) => e.keyword === 'type').map((e) => typeWords(e.params?.type));
  if (types.length === 0) return `must be one of: ${[...new Set(values)].join(', ')}`;
  return `must be ${[...new Set([...values, ...types])].join(' or ')}`;
}

const isUnion = (e: AjvError) => e.keyword === 'anyOf' || e.keyword === 'oneOf';

/**
 * Whether a branch of the union failed deeper inside the value (a bad amount inside a nullable
 * object): then that deeper error is the reason, and "must be null" would only mislead.
 */
function failedDeeper(union: AjvError, errors: AjvError[]): boolean {
  // Instance paths, not schema paths: a branch that is a $ref reports schema paths of its own.
  return errors.some((e) => e.instancePath.startsWith(`${union.instancePath}/`));
}

/** One detail per field, in the order Ajv found them. */
export function plainDetails(errors: AjvError[], context: string | undefined): ErrorDetail[] {
  const byField = new Map<string, AjvError[]>();
  for (const error of errors) {
    const field = fieldOf(error, context);
    byField.set(field, [...(byField.get(field) ?? []), error]);
  }
  const details: ErrorDetail[] = [];
  for (const [field, group] of byField) {
    const union = group.find(isUnion);
    if (union && failedDeeper(union, errors)) continue;
    const reason = union ? unionReason(group) : reasonOf(group[0]);
    details.push({ field, message: `${field || context || 'body'} ${reason}` });
  }
  return details;
}

// ---------------------------------------------------------------------------------------------
// Dates: ajv-formats accepts year 0000 and leap seconds. PostgreSQL refuses year 0000 ("date/time
// field value out of range") and JavaScript has no leap second (new Date() is Invalid Date, which
// the database driver throws on): both were 500s. Every date and date-time of every schema is
// bounded here, once, to instants from year 0001 to 9999 in UTC.

interface FormatAjv {
  formats: Record<string, unknown>;
  addFormat(name: string, format: { type: 'string'; validate: (value: string) => boolean; compare?: unknown }): unknown;
}

const EARLIEST_INSTANT = Date.parse('0001-01-01T00:00:00.000Z');
const LATEST_INSTANT = Date.parse('9999-12-31T23:59:59.999Z');

/** Strings reach PostgreSQL as written, so year 0000 is refused even when its offset moves it to 0001. */
const YEAR_ZERO = /^0000/;

const withinYears = (value: string) => {
  const instant = Date.parse(value);
  return !YEAR_ZERO.test(value) && instant >= EARLIEST_INSTANT && instant <= LATEST_INSTANT;
};

function bounded(format: unknown) {
  const validate = typeof format === 'function' ? format : (format as { validate: (v: string) => boolean }).validate;
  const compare = typeof format === 'object' ? (format as { compare?: unknown }).compare : undefined;
  return { type: 'string' as const, validate: (value: string) => validate(value) && withinYears(value), compare };
}

/** `onCreate` of the Ajv compiler: runs after ajv-formats has added its formats. */
export function addBoundedDateFormats(ajv: FormatAjv) {
  for (const name of ['date', 'date-time']) {
    if (ajv.formats[name]) ajv.addFormat(name, bounded(ajv.formats[name]));
  }
}

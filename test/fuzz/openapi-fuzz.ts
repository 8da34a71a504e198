// Fuzzing from the OpenAPI document (issue 13). The body shared by the short PGlite run
// (openapi-fuzz.test.ts, in `npm test`) and the longer PostgreSQL run
// (test/postgres/openapi-fuzz.pg-test.ts): it reads /openapi.json from a real app, walks every
// operation and, with fast-check (a fixed seed, a bounded number of runs per operation), sends
// valid, boundary and invalid requests over a raw socket: wrong types, missing and extra fields,
// huge strings and numbers, NUL and other control characters, lone surrogates as raw bytes,
// invalid UTF-8, ids of other kinds and of another organization, bad headers (Content-Type,
// Idempotency-Key, credentials, digests, signatures) and bad multipart bodies.
//
// Every answer must be: below 500 (a 503 only where the operation documents it); a status the
// operation documents (or one the document promises for every operation: 404 route_not_found,
// 405, 429), with a Content-Type it documents, and a body valid against the documented schema
// of that status; a 4xx in the error envelope with a code of the catalogue that the operation
// lists for that status. A request that is not valid HTTP (a control character in a header)
// never reaches an operation: it must still answer a 4xx envelope with a catalogue code.
// Afterwards the ledger invariants hold.
//
//   PAYGEN_FUZZ_SEED   the seed (default 1302); a failure prints the seed and path to replay it
//   PAYGEN_FUZZ_RUNS   requests per operation (default: the caller's)
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AjvCompiler } from '@fastify/ajv-compiler';
import fc from 'fast-check';
import { AJV_OPTIONS } from '../../src/app.ts';
import { ERROR_CODES } from '../../src/platform/errors.ts';
import { startHarness, type Harness } from '../support/api.ts';
import { createAccount, createCardHolder, createProgram, issueNameOnlyCard } from '../support/fixtures.ts';
import { percentEncode, rawRequest, wtf8, type RawResponse } from './raw-http.ts';

// The document is plain JSON: its nodes are walked, not typed.
type Node = Record<string, any>;

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'options'];
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC', 'base64');
/** Larger than any upload the API takes (10 MiB) and than any JSON body (1 MiB). */
const HUGE_FILE = Buffer.alloc(10 * 1024 * 1024 + 1, 0x41);
const HUGE_JSON_STRING = 'x'.repeat(1024 * 1024 + 1);

/** A value sent as the raw JSON text it holds (numbers JSON.stringify cannot write, raw bytes). */
class Raw {
  constructor(readonly text: string) {}
}

/** JSON text that keeps lone surrogates and Raw tokens as they are (JSON.stringify escapes them). */
function serialize(value: unknown): string {
  if (value instanceof Raw) return value.text;
  if (value === undefined) return 'null';
  if (Array.isArray(value)) return `[${value.map(serialize).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.entries(value).map(([k, v]) => `${serialize(k)}:${serialize(v)}`).join(',')}}`;
  }
  if (typeof value === 'string') {
    // Escapes what JSON requires, leaving surrogates raw, so that the bytes are WTF-8.
    return `"${value.replace(/["\\\u0000-\u001f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}"`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** Resources made before the run, by the kind of id a path parameter or body field names. */
interface Pools {
  ids: Record<string, string[]>;
  /** Ids of another organization: each must answer exactly like an id that does not exist. */
  foreign: string[];
  otherKey: string;
  revokedKey: string;
}

/** Path segment before a parameter (or the parameter) → pool. */
const POOL_OF_SEGMENT: Record<string, string> = {
  accounts: 'acc', 'card-programs': 'prg', 'card-holders': 'ch', cards: 'card', budgets: 'bud', webhooks: 'whk',
  authorizations: 'auth', transactions: 'txn', events: 'evt', 'signing-keys': 'sk', 'api-keys': 'key',
  'card-pin': 'pinToken', 'card-reveal': 'revealToken', docId: 'doc',
};
/** Body field → pool. */
const POOL_OF_FIELD: Record<string, string> = {
  debitAccountId: 'acc', accountId: 'acc', fromAccountId: 'acc', toAccountId: 'acc', cardHolderId: 'ch',
  customerId: 'ch', typeId: 'prg', programId: 'prg', cardId: 'card', budgetId: 'bud', authorizationId: 'auth',
  transactionId: 'txn', webhookId: 'whk', resourceId: 'card',
};

const CONTROL_STRINGS = [
  '', ' ', '\u0000', 'a\u0000b', '\u0001\u0002\u001f\u007f', '\t\r\n', '\u2028\u2029', '\u202e', '\ufeff', '\ufffe',
  '\ud800', '\udfff', 'a\udc00b', '\ud83d', '\u{1f4b3}', 'é'.normalize('NFD'), '%00', '%ED%A0%80', '../../etc/passwd',
  '\'; DROP TABLE cards; --', '${7*7}{{7*7}}', '<script>alert(1)</script>', 'null', 'true', '0', '-0', '1e308', 'NaN',
  'Infinity', '__proto__', 'constructor', 'acc_', 'acc_00000000000000000000000000', 'x'.repeat(65), 'x'.repeat(5000),
];
const EXTREME_NUMBERS = [
  0, -0, 1, -1, 0.5, 1e12, 1e12 + 1, 2 ** 31, 2 ** 53 - 1, 2 ** 53, 2 ** 53 + 1, -(2 ** 53) - 1, 1e308, -1e308,
  Number.MIN_VALUE, 1e15,
];
const RAW_NUMBERS = ['1e400', '-1e400', '1e-400', '-0', '-0.0', '123456789012345678901234567890', '1.0', '1E3', '0x10', '01'];

const nastyString = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...CONTROL_STRINGS) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 3 }) },
  { weight: 1, arbitrary: fc.string({ unit: fc.integer({ min: 0, max: 0x1f }).map((c) => String.fromCharCode(c)), maxLength: 5 }) },
);
const nastyNumber = fc.oneof(
  fc.constantFrom(...EXTREME_NUMBERS),
  fc.constantFrom(...RAW_NUMBERS).map((text) => new Raw(text)),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);
/** Any JSON-ish value, of the wrong type for most fields. */
const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  nastyString, nastyNumber, fc.boolean(), fc.constant(null), fc.constant([]), fc.constant({}),
  fc.constant([1, 'a', null]), fc.constant({ nested: { deeper: ['x'] } }),
  fc.constant(new Raw('[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]')),
);

interface Context {
  doc: Node;
  pools: Pools;
}

function resolve(doc: Node, schema: Node | undefined): Node {
  let node = schema ?? {};
  for (let i = 0; i < 10 && typeof node.$ref === 'string'; i++) {
    node = doc.components.schemas[node.$ref.replace('#/components/schemas/', '')] ?? {};
  }
  return node;
}

function idFor(ctx: Context, pool: string | undefined): fc.Arbitrary<string> {
  const all = Object.values(ctx.pools.ids).flat();
  const own = pool ? ctx.pools.ids[pool] ?? [] : [];
  return fc.oneof(
    { weight: own.length ? 6 : 0, arbitrary: own.length ? fc.constantFrom(...own) : fc.constant('x') },
    { weight: 2, arbitrary: fc.constantFrom(...all) },
    { weight: 2, arbitrary: fc.constantFrom(...ctx.pools.foreign) },
    { weight: 1, arbitrary: nastyString },
    { weight: 1, arbitrary: fc.stringMatching(/^[a-z]{2,6}_[0-9a-z]{26}$/) },
  );
}

/** A value the schema accepts, mostly; boundaries included (minimum, maximum, maxLength). */
function valid(ctx: Context, schema: Node | undefined, name = '', depth = 0): fc.Arbitrary<unknown> {
  const s = resolve(ctx.doc, schema);
  if (s.const !== undefined) return fc.constant(s.const);
  if (Array.isArray(s.enum)) return fc.constantFrom(...s.enum);
  const union = s.anyOf ?? s.oneOf;
  if (Array.isArray(union)) return fc.oneof(...union.map((u: Node) => valid(ctx, u, name, depth)));
  const type = Array.isArray(s.type) ? s.type[0] : s.type;
  if (POOL_OF_FIELD[name] && type === 'string') return idFor(ctx, POOL_OF_FIELD[name]);
  const examples: unknown[] = Array.isArray(s.examples) ? s.examples : s.example !== undefined ? [s.example] : [];
  const fromExamples = examples.length ? [fc.constantFrom(...examples)] : [];
  switch (type) {
    case 'string': {
      if (s.format === 'date-time') return fc.oneof(...fromExamples, fc.date({ min: new Date(0), max: new Date(4e12), noInvalidDate: true }).map((d) => d.toISOString()));
      if (s.format === 'date') return fc.oneof(...fromExamples, fc.date({ min: new Date(-1e12), max: new Date(2e12), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10)));
      if (s.format === 'email') return fc.oneof(...fromExamples, fc.emailAddress());
      if (s.format === 'uri') return fc.oneof(...fromExamples, fc.webUrl());
      if (s.format === 'binary') return fc.constant('binary');
      if (typeof s.pattern === 'string') {
        let matching: fc.Arbitrary<string> | undefined;
        try {
          matching = fc.stringMatching(new RegExp(s.pattern)).filter((v) => v.length <= (s.maxLength ?? 200));
        } catch {
          matching = undefined;
        }
        return fc.oneof(...fromExamples, ...(matching ? [matching] : []), fc.constant('USD'));
      }
      const min = s.minLength ?? 0;
      const max = Math.min(s.maxLength ?? 40, 200);
      return fc.oneof(
        { weight: 3, arbitrary: fc.string({ minLength: min, maxLength: Math.max(min, max) }) },
        { weight: 1, arbitrary: fc.constant('y'.repeat(Math.max(min, max))) },
        ...fromExamples.map((arbitrary) => ({ weight: 3, arbitrary })),
      );
    }
    case 'integer': case 'number': {
      const min = s.minimum ?? (s.exclusiveMinimum !== undefined ? s.exclusiveMinimum + 1 : -(2 ** 31));
      const max = s.maximum ?? (s.exclusiveMaximum !== undefined ? s.exclusiveMaximum - 1 : 2 ** 31);
      return fc.oneof(fc.integer({ min: Math.max(min, -(2 ** 53 - 1)), max: Math.min(max, 2 ** 53 - 1) }),
        fc.constantFrom(min, max), ...fromExamples);
    }
    case 'boolean': return fc.boolean();
    case 'null': return fc.constant(null);
    case 'array': {
      if (depth > 3) return fc.constant([]);
      return fc.array(valid(ctx, s.items, name, depth + 1), { minLength: s.minItems ?? 0, maxLength: Math.min(s.maxItems ?? 3, 3) });
    }
    case 'object': case undefined: {
      if (!s.properties || depth > 3) return fc.constant({});
      const required = new Set<string>(s.required ?? []);
      const fields: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [key, prop] of Object.entries<Node>(s.properties)) fields[key] = valid(ctx, prop, key, depth + 1);
      return fc.record(fields, { requiredKeys: [...required] });
    }
    default: return anyValue;
  }
}

/** Replaces the documented example's placeholder ids (`acc_01jd…`) by real ones of this run. */
function fillExample(ctx: Context, example: unknown): unknown {
  return JSON.parse(JSON.stringify(example ?? {}), (_key, v) => {
    const match = typeof v === 'string' ? /^([a-z]+)_01jd0*(\d*)$/.exec(v) : null;
    const pool = match ? ctx.pools.ids[match[1] === 'cus' ? 'ch' : match[1]] : undefined;
    return pool?.length ? pool[Number(match![2] || 0) % pool.length] : v;
  });
}

const ABSENT = Symbol('absent');

/**
 * A body object: the example with some fields kept, some replaced by valid values, some by
 * values of the wrong type or extreme ones, some dropped, and sometimes an unknown field.
 */
function objectBody(ctx: Context, schema: Node, example: unknown): fc.Arbitrary<Record<string, unknown>> {
  const s = resolve(ctx.doc, schema);
  const base = (example && typeof example === 'object' ? example : {}) as Record<string, unknown>;
  const fields: Record<string, fc.Arbitrary<unknown>> = {};
  for (const [key, prop] of Object.entries<Node>(s.properties ?? {})) {
    const kept = key in base ? [{ weight: 6, arbitrary: fc.constant(base[key]) }] : [];
    fields[key] = fc.oneof(
      ...kept,
      { weight: key in base ? 1 : 4, arbitrary: fc.constant(ABSENT) },
      { weight: 2, arbitrary: valid(ctx, prop, key) },
      { weight: 1, arbitrary: anyValue },
    );
  }
  const extra = fc.option(fc.tuple(fc.constantFrom('unknownField', '__proto__', 'constructor', 'id', 'organizationId', '\u0000'), anyValue), { freq: 6 });
  return fc.tuple(fc.record(fields), extra).map(([record, more]) => {
    const body: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(record)) if (value !== ABSENT) body[key] = value;
    if (more) Object.defineProperty(body, more[0], { value: more[1], enumerable: true, configurable: true, writable: true });
    return body;
  });
}

/**
 * The example with exactly one field changed: a boundary or valid value, a value of the wrong type
 * or an extreme one, or the field dropped. Everything else being valid, this reaches the rules and
 * the ledger with one odd value at a time.
 */
function oneFieldChanged(ctx: Context, schema: Node, example: unknown): fc.Arbitrary<Record<string, unknown>> {
  const s = resolve(ctx.doc, schema);
  const base = (example && typeof example === 'object' ? example : {}) as Record<string, unknown>;
  const keys = Object.keys(s.properties ?? {});
  if (keys.length === 0) return fc.constant(base);
  return fc.constantFrom(...keys).chain((key) => fc.oneof(
    { weight: 3, arbitrary: valid(ctx, s.properties[key], key) },
    { weight: 2, arbitrary: nastyNumber as fc.Arbitrary<unknown> },
    { weight: 2, arbitrary: anyValue },
    { weight: 1, arbitrary: fc.constant(ABSENT) },
  ).map((value) => {
    const body = { ...base };
    if (value === ABSENT) delete body[key];
    else body[key] = value;
    return body;
  }));
}

interface Request {
  label: string;
  method: string;
  target: string;
  headers: Array<[string, string | Buffer]>;
  body?: Buffer;
  /** Not valid HTTP: answered before any route (a 4xx envelope, whatever the operation). */
  malformed?: boolean;
  /** Sent twice under one fresh Idempotency-Key: a 2xx must replay as the same answer. */
  replay?: boolean;
}

/** A multipart body from the form's fields and files, or a broken one. */
function multipartBodies(ctx: Context, media: Node): fc.Arbitrary<{ contentType: string; body: Buffer; label: string }> {
  const schema = resolve(ctx.doc, media.schema);
  const props = Object.entries<Node>(schema.properties ?? {});
  const fileFields = props.filter(([, p]) => p.format === 'binary').map(([k]) => k);
  const textFields = props.filter(([, p]) => p.format !== 'binary').map(([k]) => k);
  const example = fillExample(ctx, media.example) as Record<string, unknown>;
  const boundary = 'fuzzBoundary7MA4YWxkTrZu0gW';
  const part = (name: string, value: Buffer | string, file?: { type: string; name: string }) => Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"`
      + (file ? `; filename="${file.name}"\r\nContent-Type: ${file.type}` : '') + '\r\n\r\n', 'latin1'),
    typeof value === 'string' ? wtf8(value) : value, Buffer.from('\r\n'),
  ]);
  const close = Buffer.from(`--${boundary}--\r\n`);
  const fieldsArb = fc.record(Object.fromEntries(textFields.map((k) => [k, fc.oneof(
    { weight: 4, arbitrary: fc.constant(String(example[k] ?? 'x')) },
    { weight: 1, arbitrary: fc.constant(ABSENT as unknown as string) },
    { weight: 1, arbitrary: nastyString },
  )])));
  const fileArb = fc.record({
    field: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...(fileFields.length ? fileFields : ['file'])) }, { weight: 1, arbitrary: fc.constantFrom('wrongField', '', 'firstName') }),
    content: fc.oneof({ weight: 4, arbitrary: fc.constant(PNG) }, { weight: 1, arbitrary: fc.constantFrom(Buffer.alloc(0), Buffer.from('not an image'), Buffer.from('%PDF-1.4 truncated')) }),
    type: fc.constantFrom('image/png', 'image/png', 'application/pdf', 'text/plain', ''),
    name: fc.constantFrom('front.png', '', '../../x.png', 'a\u0000b.png', 'é.png'),
  });
  const wellFormed = fc.tuple(fieldsArb, fc.array(fileArb, { maxLength: 2 })).map(([fields, files]) => {
    const parts = Object.entries(fields).filter(([, v]) => (v as unknown) !== ABSENT).map(([k, v]) => part(k, v));
    for (const f of files) parts.push(part(f.field, f.content, { type: f.type, name: f.name }));
    return { contentType: `multipart/form-data; boundary=${boundary}`, body: Buffer.concat([...parts, close]), label: 'multipart' };
  });
  const ok = Buffer.concat([...textFields.slice(0, 3).map((k) => part(k, String(example[k] ?? 'x'))), ...(fileFields[0] ? [part(fileFields[0], PNG, { type: 'image/png', name: 'a.png' })] : []), close]);
  const broken = fc.constantFrom(
    { label: 'truncated multipart', contentType: `multipart/form-data; boundary=${boundary}`, body: ok.subarray(0, Math.floor(ok.length / 2)) },
    { label: 'no closing boundary', contentType: `multipart/form-data; boundary=${boundary}`, body: ok.subarray(0, ok.length - close.length) },
    { label: 'no boundary parameter', contentType: 'multipart/form-data', body: ok },
    { label: 'other boundary', contentType: 'multipart/form-data; boundary=somethingElse', body: ok },
    { label: 'empty multipart', contentType: `multipart/form-data; boundary=${boundary}`, body: Buffer.alloc(0) },
    { label: 'huge text part', contentType: `multipart/form-data; boundary=${boundary}`, body: Buffer.concat([part(textFields[0] ?? 'firstName', 'z'.repeat(70_000)), close]) },
    { label: 'huge file part', contentType: `multipart/form-data; boundary=${boundary}`, body: Buffer.concat([part(fileFields[0] ?? 'file', HUGE_FILE, { type: 'image/png', name: 'big.png' }), close]) },
    { label: 'five files', contentType: `multipart/form-data; boundary=${boundary}`, body: Buffer.concat([...[1, 2, 3, 4, 5].map(() => part(fileFields[0] ?? 'file', PNG, { type: 'image/png', name: 'a.png' })), close]) },
    { label: 'field twice', contentType: `multipart/form-data; boundary=${boundary}`, body: Buffer.concat([part('firstName', 'A'), part('firstName', 'B'), close]) },
    { label: 'part without a name', contentType: `multipart/form-data; boundary=${boundary}`, body: Buffer.from(`--${boundary}\r\nContent-Disposition: form-data\r\n\r\nx\r\n--${boundary}--\r\n`) },
  );
  return fc.oneof({ weight: 3, arbitrary: wellFormed }, { weight: 2, arbitrary: broken });
}

/** The request body and its Content-Type: valid-ish JSON, broken JSON, raw bytes, multipart. */
function bodies(ctx: Context, op: Node): fc.Arbitrary<{ contentType?: string; body?: Buffer; label: string }> {
  const content: Node = op.requestBody?.content ?? {};
  const json = content['application/json'];
  const choices: Array<{ weight: number; arbitrary: fc.Arbitrary<{ contentType?: string; body?: Buffer; label: string }> }> = [];
  const asJson = (value: unknown, label: string) => ({ contentType: 'application/json', body: wtf8(serialize(value)), label });
  if (json) {
    const example = fillExample(ctx, json.example ?? Object.values<Node>(json.examples ?? {})[0]?.value);
    const schema = resolve(ctx.doc, json.schema);
    choices.push({ weight: 5, arbitrary: objectBody(ctx, schema, example).map((b) => asJson(b, 'json body')) });
    choices.push({ weight: 5, arbitrary: oneFieldChanged(ctx, schema, example).map((b) => asJson(b, 'one field changed')) });
    choices.push({ weight: 2, arbitrary: valid(ctx, schema).map((b) => asJson(b, 'schema-valid body')) });
    choices.push({ weight: 1, arbitrary: fc.constant(asJson(example, 'example')) });
  }
  const raw = (text: string | Buffer, label: string, contentType = 'application/json') =>
    ({ contentType, body: typeof text === 'string' ? Buffer.from(text, 'latin1') : text, label });
  choices.push({
    weight: json ? 2 : 1,
    arbitrary: fc.oneof(
      anyValue.map((v) => asJson(v, 'not an object')),
      fc.constantFrom(
        raw('{"a":', 'truncated json'), raw('{"a":"\u0000"}', 'raw NUL in a string'), raw('\xff\xfe{}', 'invalid utf-8'),
        raw('{"name":"\xed\xa0\x80"}', 'raw lone surrogate bytes'), raw('{"name":"\xc0\x80"}', 'overlong NUL'),
        raw(`{"name":"${HUGE_JSON_STRING}"}`, 'body over 1 MiB'), raw('{"__proto__":{"admin":true}}', 'proto pollution'),
        raw('{"constructor":{"prototype":{"x":1}}}', 'constructor pollution'), raw('{"a":1,"a":2}', 'duplicate key'),
        raw('', 'empty body'), raw('{}', 'empty object'), raw('null', 'null'), raw(' ', 'blank'),
        raw('a=1&b=2', 'form body', 'application/x-www-form-urlencoded'), raw('{}', 'text/plain', 'text/plain'),
        raw('{}', 'utf-16 charset', 'application/json; charset=utf-16'), raw('{}', 'no content-type', ''),
        raw('{}', 'odd media type', 'application/json, text/plain'), raw('{}', 'bad media type', 'a/b/c'),
        raw(`${'['.repeat(5000)}${']'.repeat(5000)}`, 'deep nesting'),
      ),
    ),
  });
  const multipart = content['multipart/form-data'];
  choices.push({ weight: multipart ? 5 : 1, arbitrary: multipartBodies(ctx, multipart ?? { schema: { properties: { firstName: { type: 'string' } } } }) });
  if (content['application/x-www-form-urlencoded']) {
    choices.push({ weight: 3, arbitrary: fc.tuple(nastyString, fc.constantFrom('4826', '1234', '00000000000000000')).map(([a, b]) => raw(
      `pin=${percentEncode(b)}&pinConfirmation=${percentEncode(a)}`, 'urlencoded', 'application/x-www-form-urlencoded')) });
  }
  if (!op.requestBody) choices.push({ weight: 4, arbitrary: fc.constant({ label: 'no body' }) });
  return fc.oneof(...choices);
}

function pathArb(ctx: Context, path: string): fc.Arbitrary<string> {
  const segments = path.split('/');
  return fc.tuple(...segments.map((segment, i) => {
    const param = /^\{(\w+)\}$/.exec(segment);
    if (!param) return fc.constant(segment);
    const pool = POOL_OF_SEGMENT[param[1]] ?? POOL_OF_SEGMENT[segments[i - 1]];
    return fc.oneof(
      { weight: 8, arbitrary: idFor(ctx, pool) },
      { weight: 1, arbitrary: fc.constantFrom('x'.repeat(101), '%', '%zz', '%C0%AF', '.', '..', '%2F', ' ') .map((v) => new Raw(v)) },
    ).map((v) => (v instanceof Raw ? v.text : percentEncode(v || 'e')));
  })).map((parts) => parts.join('/'));
}

function queryArb(ctx: Context, op: Node): fc.Arbitrary<string> {
  const params = (op.parameters ?? []).filter((p: Node) => p.in === 'query');
  if (params.length === 0) {
    return fc.oneof({ weight: 5, arbitrary: fc.constant('') }, { weight: 1, arbitrary: nastyString.map((v) => `?x=${percentEncode(v)}`) });
  }
  const fields: Record<string, fc.Arbitrary<unknown>> = {};
  for (const p of params) {
    fields[p.name] = fc.oneof(
      { weight: 4, arbitrary: fc.constant(ABSENT) },
      { weight: 3, arbitrary: valid(ctx, p.schema, p.name) },
      { weight: 1, arbitrary: nastyString },
      { weight: 1, arbitrary: nastyNumber.map((n) => (n instanceof Raw ? n.text : String(n))) },
    );
  }
  return fc.tuple(fc.record(fields), fc.boolean()).map(([values, repeat]) => {
    const pairs = Object.entries(values).filter(([, v]) => v !== ABSENT).map(([k, v]) => `${k}=${percentEncode(String(v))}`);
    if (repeat && pairs.length) pairs.push(pairs[0]);
    return pairs.length ? `?${pairs.join('&')}` : '';
  });
}

function headersArb(ctx: Context, apiKey: string): fc.Arbitrary<{ headers: Array<[string, string | Buffer]>; malformed: boolean }> {
  const { otherKey, revokedKey } = ctx.pools;
  const auth = fc.oneof(
    { weight: 12, arbitrary: fc.constant<Array<[string, string]>>([['x-api-key', apiKey]]) },
    { weight: 1, arbitrary: fc.constant<Array<[string, string]>>([]) },
    { weight: 1, arbitrary: fc.constantFrom<Array<[string, string]>>(
      [['x-api-key', otherKey]], [['x-api-key', revokedKey]], [['x-api-key', 'sk_test_wrong']], [['x-api-key', 'k'.repeat(600)]],
      [['authorization', 'Bearer ']], [['authorization', 'Bearer not-a-token']], [['authorization', `Basic ${apiKey}`]],
      [['x-api-key', ''], ['authorization', `Bearer ${apiKey}`]], [['x-api-key', apiKey], ['x-api-key', otherKey]],
    ) },
  );
  const printable = fc.string({ unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 40 });
  const idempotency = fc.oneof(
    { weight: 6, arbitrary: fc.constant<Array<[string, string]>>([]) },
    { weight: 2, arbitrary: printable.map((k) => [['Idempotency-Key', k]] as Array<[string, string]>) },
    { weight: 1, arbitrary: fc.constantFrom<Array<[string, string]>>(
      [['Idempotency-Key', '']], [['Idempotency-Key', 'k'.repeat(300)]], [['Idempotency-Key', '"quoted-key"']],
      [['Idempotency-Key', '"unterminated']], [['Idempotency-Key', 'fuzz-shared-key']], [['Idempotency-Key', '\xc3\xa9t\xc3\xa9']],
      [['Idempotency-Key', 'a\tb']], [['Idempotency-Key', 'one'], ['Idempotency-Key', 'two']],
    ) },
  );
  const extra = fc.oneof(
    { weight: 8, arbitrary: fc.constant<Array<[string, string]>>([]) },
    { weight: 1, arbitrary: fc.constantFrom<Array<[string, string]>>(
      [['Content-Digest', 'sha-256=:AAAA:']], [['Content-Digest', 'garbage']], [['Content-Digest', 'md5=:AAAA:']],
      [['Want-Content-Digest', 'sha-256=10, sha-512=3']], [['Want-Content-Digest', '\xff']],
      [['Signature-Input', 'sig1=("@method");created=1;keyid="nope"'], ['Signature', 'sig1=:AAAA:']], [['Signature', 'garbage']],
      [['Accept', 'text/html']], [['Accept-Encoding', 'gzip, br']], [['Origin', 'https://evil.example']],
      [['X-Forwarded-For', '10.0.0.1']], [['Transfer-Encoding', 'chunked']],
    ) },
  );
  // Not valid HTTP: the server's parser answers before any route.
  const malformed = fc.oneof(
    { weight: 30, arbitrary: fc.constant<Array<[string, string]> | null>(null) },
    { weight: 1, arbitrary: fc.constantFrom<Array<[string, string]>>(
      [['x-api-key', `${apiKey}\u0000`]], [['Idempotency-Key', 'a\u0001b']], [['Content-Type', 'application/json\u0000']],
      [['Content-Length', 'abc']], [['Content-Length', '-1']], [['Bad Header', 'x']], [['x-long', 'h'.repeat(20_000)]],
    ) },
  );
  return fc.tuple(auth, idempotency, extra, malformed).map(([a, i, e, m]) => ({ headers: [...a, ...i, ...e, ...(m ?? [])], malformed: m !== null }));
}

function requestArb(ctx: Context, method: string, path: string, op: Node, apiKey: string): fc.Arbitrary<Request> {
  const idempotent = (op.parameters ?? []).some((p: Node) => p.$ref === '#/components/parameters/IdempotencyKey');
  const replayArb = idempotent ? fc.boolean() : fc.constant(false);
  return fc.tuple(pathArb(ctx, path), queryArb(ctx, op), bodies(ctx, op), headersArb(ctx, apiKey), replayArb).map(([target, query, body, h, replay]) => {
    const headers = replay ? h.headers.filter(([name]) => name !== 'Idempotency-Key') : [...h.headers];
    if (body.contentType) headers.push(['Content-Type', body.contentType]);
    // Content-Length and Transfer-Encoding together are not valid HTTP; so is a chunked body that is not chunked.
    const malformed = h.malformed || headers.some(([name]) => name === 'Transfer-Encoding') || /[\u0000-\u0020\u007f-\uffff]/.test(target + query);
    return { label: body.label, method: method.toUpperCase(), target: target + query, headers, body: body.body, malformed, replay };
  });
}

/** Validators of the document's schemas, compiled with the app's Ajv options (no coercion). */
function makeValidator(doc: Node) {
  const local = (node: unknown) => JSON.parse(JSON.stringify(node), (key, value) =>
    key === '$ref' && typeof value === 'string' ? value.replace('#/components/schemas/', 'component:') : value);
  const components = Object.fromEntries(Object.entries<Node>(doc.components.schemas)
    .map(([name, component]) => [name, { ...local(component), $id: `component:${name}` }]));
  const compile = AjvCompiler()(components, { customOptions: { ...AJV_OPTIONS, coerceTypes: false, useDefaults: false, strict: false } });
  const cache = new Map<unknown, (value: unknown) => string[]>();
  return (schema: Node) => {
    let validate = cache.get(schema);
    if (!validate) {
      const fn = compile({ schema: local(schema), method: 'POST', url: '/', httpPart: 'body' } as never) as unknown as
        ((v: unknown) => boolean) & { errors?: Array<{ instancePath: string; message: string }> };
      validate = (value) => (fn(value) ? [] : (fn.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`));
      cache.set(schema, validate);
    }
    return validate;
  };
}

/** A JSON body re-serialized (key order kept), anything else as text. */
function canonical(body: Buffer): string {
  try {
    return JSON.stringify(JSON.parse(body.toString('utf8')));
  } catch {
    return body.toString('latin1');
  }
}

const mediaType = (header: string | undefined) => (header ?? '').split(';')[0].trim().toLowerCase();

/** What is wrong with an answer, or [] when it keeps every promise of the document. */
function judge(doc: Node, op: Node, request: Request, response: RawResponse, validatorOf: ReturnType<typeof makeValidator>): string[] {
  const problems: string[] = [];
  const { status } = response;
  const type = mediaType(response.headers['content-type']);
  let body: Node | undefined;
  if (type === 'application/json' && !response.truncated) {
    try {
      body = JSON.parse(response.body.toString('utf8'));
    } catch {
      problems.push('the JSON answer does not parse');
    }
  }
  const envelopeCode = () => {
    const code = body?.error?.code;
    if (response.truncated) return code as string;
    if (typeof code !== 'string' || !(code in ERROR_CODES)) problems.push(`error code ${String(code)} is not in the catalogue`);
    if (body?.statusCode !== status) problems.push(`envelope statusCode ${body?.statusCode} differs from ${status}`);
    return code as string;
  };
  if (status >= 500 && !(status === 503 && op.responses['503'])) problems.push(`answered ${status}`);
  if (request.malformed) {
    // Not valid HTTP: the parser answers before any operation, or lets a lenient case through to
    // the route. Either way a 4xx is an envelope with a catalogue code, and nothing is a 5xx.
    const page = op.responses[String(status)]?.content?.[type];
    if (status >= 400 && status < 500 && type === 'application/json') envelopeCode();
    else if (status >= 400 && status < 500 && !page) problems.push(`a ${status} that is not JSON (${type})`);
    return problems;
  }
  const documented = op.responses[String(status)];
  if (!documented) {
    // The document promises these for every operation (info.description).
    const code = type === 'application/json' ? body?.error?.code : undefined;
    const everywhere = (status === 404 && code === 'route_not_found') || (status === 405 && code === 'method_not_allowed');
    if (!everywhere) problems.push(`status ${status} (${code ?? type}) is not documented`);
    else envelopeCode();
    return problems;
  }
  const content: Node = documented.content ?? {};
  if (Object.keys(content).length && !content[type]) problems.push(`Content-Type ${type} is not documented for ${status} (${Object.keys(content).join(', ')})`);
  const schema = content[type]?.schema;
  if (schema && body !== undefined) {
    for (const error of validatorOf(schema)(body)) problems.push(`${status} body: ${error}`);
  }
  if (status >= 400 && type === 'application/json') {
    const code = envelopeCode();
    const listed: string[] = documented['x-error-codes'] ?? [];
    if (listed.length && !listed.includes(code)) problems.push(`${status} ${code} is not listed for the operation (${listed.join(', ')})`);
  } else if (status >= 400 && !content[type]) {
    problems.push(`a ${status} that is neither the envelope nor documented`);
  }
  return problems;
}

/** The order operations are fuzzed in: the ones that end resources (close, cancel, delete) last. */
function rank(method: string, path: string): number {
  if (path.startsWith('/signing-keys') && method !== 'get') return 3;
  if (method === 'delete' || /\/(close|cancel|expire|fail|logout|suspend)$/.test(path)) return 2;
  return 1;
}

async function makePools(api: Harness): Promise<Pools> {
  const ids: Record<string, string[]> = {};
  const add = (pool: string, id: string | undefined) => { if (id) (ids[pool] ??= []).push(id); };
  const ok = (res: { status: number; text: string }, what: string) => assert.ok(res.status < 300, `${what}: ${res.status} ${res.text}`);
  const account = await createAccount(api);
  const second = await createAccount(api, { name: 'Second wallet' });
  add('acc', account.id);
  add('acc', second.id);
  await api.request('POST', `/simulator/accounts/${account.id}/deposits`, { body: { amount: 1_000_000_000 } });
  const program = await createProgram(api);
  add('prg', program.id);
  const holder = await createCardHolder(api);
  add('ch', holder.id);
  const form = new FormData();
  form.append('idDocumentFront', new Blob([new Uint8Array(PNG)], { type: 'image/png' }), 'front.png');
  const docs = await api.request('POST', `/card-holders/${holder.id}/documents`, { form });
  ok(docs, 'document');
  add('doc', docs.body.data?.documents?.[0]?.id ?? docs.body.data?.id);
  for (let i = 0; i < 3; i++) {
    const card = await issueNameOnlyCard(api, account, program, 100_000);
    ok(card, 'card');
    add('card', card.body.data.id);
  }
  const cardId = ids.card[0];
  const budget = await api.request('POST', '/budgets', { body: { accountId: second.id, name: 'Fuzz budget', currency: 'USD', limit: { amount: 100_000, interval: 'monthly' } } });
  ok(budget, 'budget');
  add('bud', budget.body.data.id);
  const merchant = { name: 'Shop', mcc: '5411', country: 'US' };
  for (let i = 0; i < 3; i++) {
    const auth = await api.request('POST', '/simulator/authorizations', { body: { cardId, amount: 100, currency: 'USD', merchant, entryMode: 'chip' } });
    ok(auth, 'authorization');
    add('auth', auth.body.data.id);
  }
  const capture = await api.request('POST', `/simulator/authorizations/${ids.auth[0]}/capture`, { body: {} });
  ok(capture, 'capture');
  const txn = await api.request('POST', '/simulator/force-captures', { body: { cardId, amount: 50, merchant } });
  ok(txn, 'force capture');
  add('txn', txn.body.data.id);
  const hook = await api.request('POST', '/webhooks', { body: { url: 'http://127.0.0.1:9/hooks', events: ['*'] } });
  ok(hook, 'webhook');
  add('whk', hook.body.data.id);
  const signingKey = await api.request('POST', '/signing-keys', { body: { keyId: 'fuzz', algorithm: 'hmac-sha256' } });
  ok(signingKey, 'signing key');
  add('sk', signingKey.body.data.id);
  const apiKey = await api.request('POST', '/api-keys', { body: { name: 'fuzz target' } });
  ok(apiKey, 'api key');
  add('key', apiKey.body.data.id);
  const revoked = await api.request('POST', '/api-keys', { body: { name: 'revoked' } });
  await api.request('DELETE', `/api-keys/${revoked.body.data.id}`);
  await api.request('POST', `/simulator/cards/${cardId}/tokenizations`, { body: { walletType: 'apple_pay', status: 'completed' } });
  for (let i = 0; i < 3; i++) {
    const pin = await api.request('POST', `/cards/${cardId}/pin-sessions`);
    ok(pin, 'pin session');
    add('pinToken', pin.body.data.token);
    const reveal = await api.request('POST', `/cards/${cardId}/reveal-sessions`, { body: { allowedOrigin: 'https://app.example.com', ttlSeconds: 300 } });
    ok(reveal, 'reveal session');
    add('revealToken', reveal.body.data.token);
  }
  const events = await api.request('GET', '/events?limit=3');
  for (const event of events.body.data) add('evt', event.id);
  add('cus', holder.id);

  const other = await api.otherOrganization();
  const foreignAccount = await createAccount(api, { name: 'Foreign' }, other.apiKey);
  const foreignProgram = (await api.request('POST', '/card-programs', { key: other.apiKey, body: { name: 'Foreign program', brand: 'Visa', bin: '45990000', currency: 'USD', allowNameOnlyIssuance: true, requiresVerifiedCardHolder: false } })).body.data;
  const foreignCard = await api.request('POST', '/cards', { key: other.apiKey, body: { debitAccountId: foreignAccount.id, firstName: 'Eve', lastName: 'Other', type: 'virtual', currency: 'USD', typeId: foreignProgram.id, amount: 10 } });
  ok(foreignCard, 'foreign card');
  return { ids, foreign: [foreignAccount.id, foreignProgram.id, foreignCard.body.data.id], otherKey: other.apiKey, revokedKey: revoked.body.data.key };
}

export interface FuzzOptions {
  /** Requests per operation, unless PAYGEN_FUZZ_RUNS says otherwise. */
  numRuns: number;
}

/** Registers the fuzz suite: one test per operation of the document. */
export function fuzzOpenApi(options: FuzzOptions) {
  const seed = Number(process.env.PAYGEN_FUZZ_SEED ?? 1302);
  const numRuns = Number(process.env.PAYGEN_FUZZ_RUNS ?? options.numRuns);
  let api: Harness;
  let ctx: Context;
  let validatorOf: ReturnType<typeof makeValidator>;
  let port: number;
  const answered: Record<string, number> = {};

  before(async () => {
    api = await startHarness({ config: { rateLimitPerMinute: 1_000_000, failedAuthPerIpPerMinute: 1_000_000 } });
    port = Number(new URL(api.baseUrl).port);
    const res = await api.request('GET', '/openapi.json', { key: null });
    assert.equal(res.status, 200, res.text);
    ctx = { doc: res.body, pools: await makePools(api) };
    validatorOf = makeValidator(ctx.doc);
  });
  after(async () => {
    if (!api) return;
    try {
      await api.checkLedger();
    } finally {
      await api.close();
    }
  });

  describe(`every operation of /openapi.json, fuzzed (seed ${seed}, ${numRuns} runs each)`, () => {
    // The document is read from the app in before(); the operations are known only then, so one
    // test walks them all and names each failing operation.
    test('no 5xx; every answer documented, valid against its schema, with a listed error code', async (t) => {
      const operations: Array<[string, string, Node]> = [];
      for (const [path, item] of Object.entries<Node>(ctx.doc.paths)) {
        for (const method of METHODS) if (item[method]) operations.push([method, path, item[method]]);
      }
      operations.sort((a, b) => rank(a[0], a[1]) - rank(b[0], b[1]));
      assert.ok(operations.length > 80, `sanity: ${operations.length} operations`);
      const failures: string[] = [];
      const took: Array<[string, number]> = [];
      let replays = 0;
      for (const [method, path, op] of operations) {
        const name = `${method.toUpperCase()} ${path}`;
        const started = performance.now();
        const result = await fc.check(fc.asyncProperty(requestArb(ctx, method, path, op, api.apiKey), async (request) => {
          const headers: Array<[string, string | Buffer]> = request.replay ? [...request.headers, ['Idempotency-Key', `fuzz-replay-${++replays}`]] : request.headers;
          const send = () => rawRequest(port, request.method, request.target, headers, request.body);
          const response = await send();
          answered[`${name} ${response.status}`] = (answered[`${name} ${response.status}`] ?? 0) + 1;
          const problems = judge(ctx.doc, op, request, response, validatorOf);
          if (request.replay && !request.malformed && response.status < 300 && !response.truncated) {
            // The same request under the same key: the stored answer, not a second execution.
            const again = await send();
            // Creating a signing key with required: true makes every later mutation of the
            // organization need a signature, its own retry included: unsigned, that is a 401.
            const nowSigned = again.status === 401 && /signature_required/.test(again.body.toString());
            if (nowSigned) {
              // Nothing to compare.
            } else if (again.status !== response.status || again.headers['idempotent-replayed'] !== 'true') {
              problems.push(`the retry answered ${again.status} (Idempotent-Replayed: ${again.headers['idempotent-replayed']}), not a replay of ${response.status}`);
            } else if (canonical(again.body) !== canonical(response.body)) {
              problems.push(`the replay's body differs: ${again.body.toString().slice(0, 200)}`);
            }
          }
          if (problems.length) {
            throw new Error(`${problems.join('; ')}\n  answer: ${response.status} ${response.body.toString('utf8').slice(0, 300)}`);
          }
        }), { seed: seed + operations.indexOf(operations.find((o) => o[1] === path && o[0] === method)!), numRuns, endOnFailure: true });
        took.push([name, performance.now() - started]);
        if (result.failed) {
          const example = result.counterexample?.[0] as Request | undefined;
          const shown = example ? `${example.label}: ${example.method} ${example.target.slice(0, 200)} headers ${JSON.stringify(example.headers.map(([k, v]) => [k, String(v).slice(0, 60)]))} body ${example.body?.subarray(0, 200).toString('latin1')}` : '';
          failures.push(`${name} (seed ${result.seed}, path ${result.counterexamplePath}):\n  ${shown}\n  ${String((result.errorInstance as Error)?.message ?? result.errorInstance)}`);
        }
      }
      const successes = Object.entries(answered).filter(([key]) => / 2\d\d$/.test(key)).reduce((n, [, c]) => n + c, 0);
      const total = Object.values(answered).reduce((n, c) => n + c, 0);
      t.diagnostic(`${operations.length} operations, ${total} requests, ${successes} answered 2xx`);
      t.diagnostic(`slowest: ${took.sort((a, b) => b[1] - a[1]).slice(0, 8).map(([n, ms]) => `${n} ${Math.round(ms)} ms`).join(', ')}`);
      assert.deepEqual(failures, []);
    });
  });
}

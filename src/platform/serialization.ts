// Response schemas as the serializer sees them. TypeBox writes a nullable field as
// `anyOf: [{type: 'string'}, {type: 'null'}]`, which is what the OpenAPI document and the validators
// get. fast-json-stringify serializes an anyOf by running a JSON Schema validator on the value for
// each branch (with the date-time format check for a nullable date), field by field: on a page of
// 20 cards that was 280 validator calls and ~40 % of the response's serialization (issue 10). The
// same field written `type: ['string', 'null']` is serialized with a typeof check. For every value
// the schema allows the output is the same; only a value that matches no branch, which the
// presenters never produce, is no longer refused.

/** Primitive types whose nullable form is rewritten. */
const PRIMITIVE_TYPES = new Set(['string', 'integer', 'number', 'boolean']);
/** Keywords a rewritten branch may carry: how it is written out (format) or documentation only. */
const PLAIN_KEYWORDS = new Set(['type', 'format', 'description', 'examples', 'title', 'minLength', 'maxLength',
  'pattern', 'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf']);

type Schema = Record<string, unknown>;

const isSchema = (value: unknown): value is Schema => typeof value === 'object' && value !== null && !Array.isArray(value);
const isNull = (branch: unknown) => isSchema(branch) && branch.type === 'null' && Object.keys(branch).length === 1;
const isPlainPrimitive = (branch: unknown): branch is Schema => isSchema(branch) && typeof branch.type === 'string'
  && PRIMITIVE_TYPES.has(branch.type) && Object.keys(branch).every((key) => PLAIN_KEYWORDS.has(key));

/** `anyOf: [primitive, null]` (either order) as `type: [primitive, 'null']`; anything else as it is. */
function collapseNullable(schema: Schema): Schema {
  const branches = schema.anyOf;
  if (!Array.isArray(branches) || branches.length !== 2) return schema;
  const nullAt = branches.findIndex(isNull);
  const other = branches[1 - nullAt];
  if (nullAt === -1 || !isPlainPrimitive(other)) return schema;
  const { anyOf: _anyOf, ...siblings } = schema;
  return { ...siblings, ...other, type: [other.type, 'null'] };
}

/**
 * A copy of `schema` (a route's response schema, or the map of shared schemas) with every nullable
 * primitive rewritten for the serializer. The original, which validation and OpenAPI use, is untouched.
 */
export function forSerializer<T>(schema: T): T {
  if (Array.isArray(schema)) return schema.map(forSerializer) as T;
  if (!isSchema(schema)) return schema;
  const copy: Schema = {};
  for (const [key, value] of Object.entries(schema)) copy[key] = forSerializer(value);
  return collapseNullable(copy) as T;
}

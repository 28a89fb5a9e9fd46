/**
 * Turns the TypeBox (JSON Schema) schemas of the gateway operations into the Swagger 2.0
 * schema objects Power Platform reads. Anything it cannot express faithfully throws, so a
 * new operation breaks the build of the definition instead of publishing a broken connector.
 */

/** A Swagger 2.0 schema object. */
export type SwaggerSchema = { [keyword: string]: unknown };

export class ConnectorSchemaError extends Error {
  override name = 'ConnectorSchemaError';
}

/** The `format` values Power Platform's schema accepts. */
export const SWAGGER_FORMATS: ReadonlySet<string> = new Set([
  'int32',
  'int64',
  'float',
  'double',
  'byte',
  'binary',
  'date',
  'date-time',
  'password',
  'date-no-tz',
  'email',
  'html',
  'uri',
  'uuid',
]);

const TYPES = new Set(['string', 'number', 'integer', 'boolean', 'array', 'object']);
const VISIBILITIES = new Set(['important', 'advanced', 'internal']);

/** Copied as they are, once their value is checked. */
const STRING_KEYWORDS = new Set(['description', 'x-ms-summary', 'title', 'pattern']);
const NUMBER_KEYWORDS = new Set(['minimum', 'maximum', 'multipleOf', 'minLength', 'maxLength', 'minItems', 'maxItems']);
const BOOLEAN_KEYWORDS = new Set(['uniqueItems', 'x-nullable']);
/** Validation details or annotations Swagger 2.0 has no place for: dropped. */
const DROPPED = new Set(['$id', '$schema', '$comment', 'additionalProperties', 'examples', 'x-bdoc-file']);

type Plain = Record<string, unknown>;

function isPlain(value: unknown): value is Plain {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function fail(where: string, problem: string): never {
  throw new ConnectorSchemaError(`Connector definition: ${where} ${problem}`);
}

function typeOfValues(values: unknown[], where: string): string {
  const types = new Set(values.map((v) => (typeof v === 'number' ? (Number.isInteger(v) ? 'integer' : 'number') : typeof v)));
  if (types.size === 2 && types.has('integer') && types.has('number')) return 'number';
  const [type] = types;
  if (types.size !== 1 || !type || !['string', 'integer', 'number', 'boolean'].includes(type))
    fail(where, `mixes values of several types (${[...types].join(', ')}) in one enum`);
  return type;
}

/**
 * `anyOf`/`oneOf`: a union of literals becomes an `enum`; `X or null` becomes X with
 * `x-nullable`. Keywords on the union itself (description, x-ms-summary...) win over X's.
 */
function convertUnion(source: Plain, variants: unknown, where: string): SwaggerSchema {
  if (!Array.isArray(variants) || !variants.every(isPlain)) fail(where, 'has an anyOf/oneOf that is not a list of schemas');
  const outer = Object.fromEntries(Object.entries(source).filter(([key]) => key !== 'anyOf' && key !== 'oneOf'));
  const nonNull = variants.filter((v) => v.type !== 'null');
  let converted: SwaggerSchema;
  if (nonNull.length > 0 && nonNull.every((v) => 'const' in v)) {
    converted = convert({ ...outer, enum: nonNull.map((v) => v.const) }, where);
  } else if (nonNull.length === 1) {
    converted = convert({ ...nonNull[0], ...outer }, where);
  } else {
    fail(where, 'is a union of several kinds of value; Swagger 2.0 can only show one type (or literals as an enum)');
  }
  if (nonNull.length < variants.length) converted['x-nullable'] = true;
  return converted;
}

function convertType(source: Plain, where: string): { type: string; nullable: boolean } {
  let type = source.type;
  let nullable = false;
  if (Array.isArray(type)) {
    const nonNull = type.filter((t) => t !== 'null');
    if (nonNull.length !== 1) fail(where, `has several types (${type.join(', ')})`);
    nullable = nonNull.length < type.length;
    type = nonNull[0];
  }
  if (type === undefined && Array.isArray(source.enum)) type = typeOfValues(source.enum, where);
  if (type === undefined) fail(where, 'has no type (TypeBox Any/Unknown cannot be shown in Swagger 2.0; give it a type)');
  if (typeof type !== 'string' || !TYPES.has(type)) fail(where, `has the type ${JSON.stringify(type)}, which Swagger 2.0 cannot show`);
  return { type, nullable };
}

function convert(source: Plain, where: string): SwaggerSchema {
  if (source['x-bdoc-file'] === true) return convert({ ...source, 'x-bdoc-file': undefined, type: 'string', format: 'byte' }, where);
  const union = source.anyOf ?? source.oneOf;
  if (union !== undefined) return convertUnion(source, union, where);
  if ('const' in source) {
    const { const: value, ...rest } = source;
    return convert({ ...rest, enum: [value] }, where);
  }

  const { type, nullable } = convertType(source, where);
  const out: SwaggerSchema = { type };
  for (const [key, value] of Object.entries(source)) {
    if (value === undefined || key === 'type' || key.startsWith('~') || DROPPED.has(key)) continue;
    if (STRING_KEYWORDS.has(key)) {
      if (typeof value !== 'string') fail(where, `has a ${key} that is not text`);
      out[key] = value;
    } else if (NUMBER_KEYWORDS.has(key)) {
      if (typeof value !== 'number') fail(where, `has a ${key} that is not a number`);
      out[key] = value;
    } else if (BOOLEAN_KEYWORDS.has(key)) {
      if (typeof value !== 'boolean') fail(where, `has a ${key} that is not true or false`);
      out[key] = value;
    } else if (key === 'exclusiveMinimum' || key === 'exclusiveMaximum') {
      // JSON Schema's numeric form is Swagger 2.0's bound plus a boolean flag.
      const bound = key === 'exclusiveMinimum' ? 'minimum' : 'maximum';
      if (typeof value === 'boolean') out[key] = value;
      else if (typeof value === 'number' && source[bound] === undefined) Object.assign(out, { [bound]: value, [key]: true });
      else fail(where, `has both ${bound} and a numeric ${key}; keep one`);
    } else if (key === 'format') {
      if (typeof value !== 'string' || !SWAGGER_FORMATS.has(value))
        fail(where, `has the format ${JSON.stringify(value)}, which Power Platform does not know (use one of ${[...SWAGGER_FORMATS].join(', ')})`);
      out.format = value;
    } else if (key === 'x-ms-visibility') {
      if (typeof value !== 'string' || !VISIBILITIES.has(value))
        fail(where, `has the x-ms-visibility ${JSON.stringify(value)} (use important, advanced or internal)`);
      out[key] = value;
    } else if (key === 'enum') {
      if (!Array.isArray(value) || value.length === 0) fail(where, 'has an empty enum');
      typeOfValues(value, where);
      out.enum = value;
    } else if (key === 'default') {
      out.default = value;
    } else if (key === 'properties') {
      if (!isPlain(value)) fail(where, 'has properties that are not an object');
      out.properties = Object.fromEntries(Object.entries(value).map(([name, property]) => [name, toSwaggerSchema(property, `${where}.${name}`)]));
    } else if (key === 'required') {
      if (!Array.isArray(value) || !value.every((name) => typeof name === 'string' && isPlain(source.properties) && name in source.properties)) {
        fail(where, 'requires properties it does not define');
      }
      if (value.length > 0) out.required = value;
    } else if (key === 'items') {
      if (!isPlain(value)) fail(where, 'has tuple items, which Swagger 2.0 cannot show');
      out.items = toSwaggerSchema(value, `${where}[]`);
    } else {
      fail(where, `uses the keyword "${key}", which has no Swagger 2.0 equivalent here`);
    }
  }
  if (type === 'array' && out.items === undefined) fail(where, 'is an array without items');
  if (type !== 'object' && out.properties !== undefined) fail(where, `has properties but the type ${type}`);
  if (nullable) out['x-nullable'] = true;
  return out;
}

/**
 * One schema, recursively. `where` names it in errors (e.g. `MergePdfs body.files[]`).
 * Only enumerable string keys are read, so TypeBox's symbol and `~` keys never leak.
 */
export function toSwaggerSchema(schema: unknown, where: string): SwaggerSchema {
  if (!isPlain(schema)) fail(where, 'is not a schema object');
  return convert(schema, where);
}

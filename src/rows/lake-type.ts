/**
 * CloudTrail Lake's column types as a tree. Lake publishes the SQL schema of
 * every event data store type in Hive/Presto type text (`string`,
 * `map<string,string>`, `array<struct<arn:string,...>>`); this module parses
 * that text strictly, prints it back, and finds the type at a dotted path.
 *
 * Names from data are data: a struct's fields are an ordered array plus a
 * `Map` keyed by the lower-cased name, so a field called `__proto__` or
 * `constructor` is as ordinary as `arn`. Lookups ignore case, as Lake's SQL
 * does; two fields of one struct that differ only in case are rejected.
 */

/** The scalar types. `integer` (Presto's spelling, used by the Insights schema) parses as `int`. */
export type LakePrimitiveKind =
  | 'string'
  | 'boolean'
  | 'tinyint'
  | 'smallint'
  | 'int'
  | 'bigint'
  | 'float'
  | 'double'
  | 'timestamp'
  | 'date'
  | 'binary';

export const LAKE_PRIMITIVE_KINDS: readonly LakePrimitiveKind[] = Object.freeze([
  'string',
  'boolean',
  'tinyint',
  'smallint',
  'int',
  'bigint',
  'float',
  'double',
  'timestamp',
  'date',
  'binary',
]);

export interface LakePrimitiveType {
  readonly kind: LakePrimitiveKind;
  /** Set when the text spelled `int` as `integer`, so that printing gives the published text back. */
  readonly spelling?: 'integer';
}

export interface LakeField {
  /** As written in the type text (case kept: the Insights schema has `insightContext`, the integration one `originalUID`). */
  readonly name: string;
  readonly type: LakeType;
}

export interface LakeStructType {
  readonly kind: 'struct';
  /** In the order of the type text; never empty. */
  readonly fields: readonly LakeField[];
  /** The same fields by lower-cased name. */
  readonly byName: ReadonlyMap<string, LakeField>;
}

export interface LakeMapType {
  readonly kind: 'map';
  /** Always a primitive: Hive and Presto allow no other map key. */
  readonly key: LakePrimitiveType;
  readonly value: LakeType;
}

export interface LakeArrayType {
  readonly kind: 'array';
  readonly element: LakeType;
}

export type LakeType = LakePrimitiveType | LakeStructType | LakeMapType | LakeArrayType;

/** A type text that does not parse; `position` is the zero-based offset of the fault. */
export class LakeTypeSyntaxError extends SyntaxError {
  override readonly name = 'LakeTypeSyntaxError';
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(message);
  }
}

export interface ParseLakeTypeOptions {
  /**
   * The deepest nesting accepted: `string` is depth 1, `array<string>` depth 2.
   * The published schemas nest at most 5 deep (`useridentity.sessioncontext.webidfederationdata.attributes`).
   * @default 32
   */
  maxDepth?: number | undefined;
}

/** The longest type text accepted; the longest published one is under 1,000 characters. */
export const MAX_LAKE_TYPE_LENGTH = 65_536;

const DEFAULT_MAX_DEPTH = 32;
const PRIMITIVES: ReadonlySet<string> = new Set<string>(LAKE_PRIMITIVE_KINDS);
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const WORD = /[A-Za-z0-9_]/;

/** Text for a message: a name or a type text is cut, and control characters are shown escaped. */
function quote(text: string, max = 60): string {
  const cut = text.length > max ? `${text.slice(0, max)}…` : text;
  return JSON.stringify(cut);
}

/**
 * Parse Hive/Presto type text into a `LakeType`. Whitespace between tokens is
 * ignored (the published schemas wrap lines inside a type), keywords match
 * without regard to case, and a field name is an identifier or a
 * backtick-quoted name (two backticks stand for one).
 *
 * Throws `LakeTypeSyntaxError` naming the position and what was expected; the
 * text is bounded by `MAX_LAKE_TYPE_LENGTH` and the nesting by `maxDepth`, so
 * neither a long nor a deep text can exhaust the stack.
 */
export function parseLakeType(text: string, options: ParseLakeTypeOptions = {}): LakeType {
  if (typeof text !== 'string') throw new TypeError(`parseLakeType: the type text must be a string, not ${typeof text}`);
  const maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
  if (!Number.isInteger(maxDepth) || maxDepth < 1) throw new TypeError(`parseLakeType: maxDepth must be a positive integer, not ${String(maxDepth)}`);
  if (text.length > MAX_LAKE_TYPE_LENGTH) {
    throw new LakeTypeSyntaxError(`Lake type text is ${text.length} characters long; the limit is ${MAX_LAKE_TYPE_LENGTH}`, MAX_LAKE_TYPE_LENGTH);
  }
  let pos = 0;

  const fail = (message: string, at = pos): never => {
    const found = at >= text.length ? 'the end of the text' : quote(text.slice(at, at + 20), 20);
    throw new LakeTypeSyntaxError(`Lake type ${quote(text)}: ${message} at position ${at}, found ${found}`, at);
  };
  const skipSpace = () => {
    while (pos < text.length && /\s/.test(text[pos]!)) pos++;
  };
  const expect = (ch: string) => {
    skipSpace();
    if (text[pos] !== ch) fail(`expected ${quote(ch)}`);
    pos++;
  };
  const word = (): string => {
    skipSpace();
    const start = pos;
    while (pos < text.length && WORD.test(text[pos]!)) pos++;
    return text.slice(start, pos);
  };
  const fieldName = (): string => {
    skipSpace();
    if (text[pos] === '`') {
      const start = pos;
      pos++;
      let name = '';
      for (;;) {
        if (pos >= text.length) fail('unterminated quoted field name', start);
        const ch = text[pos]!;
        if (ch === '`') {
          if (text[pos + 1] === '`') {
            name += '`';
            pos += 2;
            continue;
          }
          pos++;
          break;
        }
        name += ch;
        pos++;
      }
      if (name === '') fail('empty field name', start);
      return name;
    }
    const start = pos;
    const name = word();
    if (name === '' || !IDENTIFIER.test(name)) fail('expected a field name (a letter or _ first, or a `quoted` name)', start);
    return name;
  };

  const type = (depth: number): LakeType => {
    if (depth > maxDepth) fail(`nesting deeper than ${maxDepth}`);
    skipSpace();
    const start = pos;
    const keyword = word().toLowerCase();
    if (keyword === '') fail('expected a type');
    if (keyword === 'struct') {
      expect('<');
      const fields: LakeField[] = [];
      const byName = new Map<string, LakeField>();
      skipSpace();
      if (text[pos] === '>') fail('a struct needs at least one field');
      for (;;) {
        skipSpace();
        const nameAt = pos;
        const name = fieldName();
        expect(':');
        const field: LakeField = Object.freeze({ name, type: type(depth + 1) });
        const key = name.toLowerCase();
        const clash = byName.get(key);
        if (clash !== undefined) fail(`field ${quote(name)} repeats ${quote(clash.name)} (names are matched without regard to case)`, nameAt);
        byName.set(key, field);
        fields.push(field);
        skipSpace();
        if (text[pos] === ',') {
          pos++;
          continue;
        }
        if (text[pos] === '>') {
          pos++;
          break;
        }
        fail(`expected "," or ">" after field ${quote(name)}`);
      }
      return Object.freeze({ kind: 'struct', fields: Object.freeze(fields), byName });
    }
    if (keyword === 'map') {
      expect('<');
      skipSpace();
      const keyAt = pos;
      const key = type(depth + 1);
      if (!isPrimitive(key)) fail('a map key must be a primitive type', keyAt);
      expect(',');
      const value = type(depth + 1);
      expect('>');
      return Object.freeze({ kind: 'map', key: key as LakePrimitiveType, value });
    }
    if (keyword === 'array') {
      expect('<');
      const element = type(depth + 1);
      expect('>');
      return Object.freeze({ kind: 'array', element });
    }
    if (keyword === 'integer') return Object.freeze({ kind: 'int', spelling: 'integer' });
    if (PRIMITIVES.has(keyword)) return Object.freeze({ kind: keyword as LakePrimitiveKind });
    return fail(`unknown type ${quote(text.slice(start, pos))} (known: ${LAKE_PRIMITIVE_KINDS.join(', ')}, integer, struct, map, array)`, start);
  };

  const result = type(1);
  skipSpace();
  if (pos < text.length) fail('expected the end of the type');
  return result;
}

export function isPrimitive(type: LakeType): type is LakePrimitiveType {
  return type.kind !== 'struct' && type.kind !== 'map' && type.kind !== 'array';
}

function formatName(name: string): string {
  return IDENTIFIER.test(name) ? name : `\`${name.replaceAll('`', '``')}\``;
}

/**
 * The type text of a `LakeType`, without whitespace, in lower case keywords
 * and with field names as written: `formatLakeType(parseLakeType(t))` is `t`
 * with its whitespace removed, for every published schema.
 */
export function formatLakeType(type: LakeType): string {
  switch (type.kind) {
    case 'struct':
      return `struct<${type.fields.map((f) => `${formatName(f.name)}:${formatLakeType(f.type)}`).join(',')}>`;
    case 'map':
      return `map<${formatLakeType(type.key)},${formatLakeType(type.value)}>`;
    case 'array':
      return `array<${formatLakeType(type.element)}>`;
    default:
      return type.spelling ?? type.kind;
  }
}

/** The field of a struct, by name without regard to case; null when there is none. */
export function lakeStructField(type: LakeStructType, name: string): LakeField | null {
  return type.byName.get(name.toLowerCase()) ?? null;
}

/**
 * The type at a path below `type`: each step names a field of a struct,
 * without regard to case. Returns null when a step names no field, or when a
 * step would go into a map or an array, which a dotted path cannot (Lake's SQL
 * reaches into those with `element_at` and `[]`, not with a dot).
 */
export function lakeTypeAtPath(type: LakeType, path: readonly string[]): LakeType | null {
  let here: LakeType = type;
  for (const step of path) {
    if (here.kind !== 'struct') return null;
    const field = lakeStructField(here, step);
    if (field === null) return null;
    here = field.type;
  }
  return here;
}

/**
 * Column types, and the types CloudTrail Lake's own fields get by name. One
 * schema serves every format: Parquet columns and typed NDJSON values come
 * from the same `ColumnSchema`. Types never depend on the data, so the same
 * query gives the same schema on every run.
 */
export type ColumnType = 'string' | 'int64' | 'double' | 'boolean' | 'timestamp' | 'json' | 'nested';

/** The types `--column NAME:TYPE` accepts by word; a nested type is given as Lake type text instead (`map<string,string>`). */
export const COLUMN_TYPES: readonly ColumnType[] = ['string', 'int64', 'double', 'boolean', 'timestamp', 'json'];

/**
 * How struct, map and array columns are written: 'typed' as real nested
 * values (Parquet STRUCT, MAP and LIST; JSON objects and arrays in typed
 * NDJSON) read from Lake's Presto text with the published type as the guide,
 * 'text' as Lake's Presto text as it is, 'json' as JSON text.
 */
export type NestedMode = 'typed' | 'text' | 'json';

/**
 * CloudTrail fields typed by name (matched without regard to case, as Lake
 * matches columns). Times are timestamps, flags booleans. Nested fields
 * lose their path in Lake's results, so `creationDate` and `mfaAuthenticated`
 * from `userIdentity.sessionContext.attributes` are typed here too.
 */
export const KNOWN_FIELD_TYPES: Readonly<Record<string, ColumnType>> = Object.freeze(
  // Null-prototype: a column called `constructor` or `__proto__` is not a known field.
  Object.assign(Object.create(null) as Record<string, ColumnType>, {
    eventtime: 'timestamp',
    creationdate: 'timestamp',
    readonly: 'boolean',
    managementevent: 'boolean',
    mfaauthenticated: 'boolean',
  } as const),
);

/**
 * CloudTrail fields that Lake returns as Presto text of a struct, map or
 * array. They are strings unless `nested` is 'json', when they become json
 * columns.
 */
export const NESTED_FIELDS: ReadonlySet<string> = new Set([
  'useridentity',
  'requestparameters',
  'responseelements',
  'additionaleventdata',
  'serviceeventdetails',
  'resources',
  'tlsdetails',
  'addendum',
  'edgedevicedetails',
  'sessioncontext',
  'sessionissuer',
  'attributes',
  'webidfederationdata',
  'onbehalfof',
  'insightdetails',
]);

export interface TypingOptions {
  /** Types set by the user (`--column NAME:TYPE`), by exact source column name; they win over every rule. */
  columns?: Readonly<Record<string, ColumnType>> | undefined;
  /** @default 'text' */
  nested?: NestedMode | undefined;
}

/**
 * The type of a source column: the user's, else CloudTrail's by name, else
 * string. A name is data: `constructor` or `__proto__` is looked up as an
 * own key only, never found on Object.prototype.
 */
export function typeForColumn(name: string, options: TypingOptions = {}): ColumnType {
  const set = declaredType(options.columns, name);
  if (set) return set;
  const key = name.toLowerCase();
  const known = KNOWN_FIELD_TYPES[key];
  if (known) return known;
  if (options.nested === 'json' && NESTED_FIELDS.has(key)) return 'json';
  return 'string';
}

/** The type `--column` declares for exactly `name`, read as an own key (a user's object has Object.prototype's members too). */
export function declaredType(columns: TypingOptions['columns'], name: string): ColumnType | undefined {
  return columns !== undefined && Object.hasOwn(columns, name) ? columns[name] : undefined;
}

/**
 * Parses `NAME:TYPE` (the form of `--column`). The name may itself contain
 * colons; the type is what follows the last one. Throws TypeError naming
 * the bad spec.
 */
export function parseColumnSpec(spec: string): { name: string; type: ColumnType } {
  const at = spec.lastIndexOf(':');
  const name = spec.slice(0, at);
  const type = spec.slice(at + 1) as ColumnType;
  if (at <= 0 || !COLUMN_TYPES.includes(type)) {
    throw new TypeError(`Invalid option column: ${JSON.stringify(spec)}; expected NAME:TYPE with TYPE one of ${COLUMN_TYPES.join(', ')}`);
  }
  return { name, type };
}

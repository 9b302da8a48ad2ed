import type { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { quoted } from '../errors.js';
import type { LakeStoreType } from '../lake-model.js';
import { declaredType, typeForColumn, type ColumnType, type NestedMode, type TypingOptions } from '../rows/column-types.js';
import { firstName } from '../rows/flatten-row.js';
import { lakeSchema } from '../rows/lake-schema.js';
import { isPrimitive, type LakeType } from '../rows/lake-type.js';
import type { ColumnSchema } from '../rows/schema.js';
import { schemaOf, type SchemaColumn } from '../rows/unparsed-column.js';
import { storeTypeOf, type StoreTypeAnswer, type StoreTypeSource } from '../source/store-type.js';
import type { RetryEvent, RetryOptions } from '../source/retry.js';

/**
 * The schema of an export, settled once before its first row is encoded,
 * from the query's SQL (DescribeQuery's QueryString) and the store's
 * published schema, so that every file of the export (every part, every
 * partition, every window of a job) has the same columns and types, whatever
 * the rows hold:
 *
 * - the select list is read with the Trino grammar (rows/select-list.ts;
 *   `SELECT * FROM <store> ...` from its tokens alone, rows/select-star.ts);
 * - `*` is the store type's published columns; a field names its published
 *   type (`useridentity.sessioncontext.sessionissuer.arn` is a string);
 *   `CAST(x AS t)` and `count(*)` say theirs; any other expression, and a
 *   name the schema lacks, is typed by name as before (typeForColumn);
 * - `--column NAME:TYPE` wins over all of it, and a declared column the
 *   select list lacks is added at the end;
 * - nested types become 'nested' columns (Parquet STRUCT, MAP, LIST) with
 *   `nested: 'typed'`, JSON text with 'json', Presto text with 'text'.
 *
 * When the SQL cannot be read (Trino syntax the grammar refuses, a `*` over
 * a subquery it cannot expand), the schema is undefined and the encoders fall
 * back to the first page's columns, as ctlake did before; `source` says which.
 */
export interface ExportSchema {
  columns: ColumnSchema[];
  /** 'sql': known before the first row; 'first-page': the encoders take the first page's columns. */
  source: 'sql' | 'first-page';
  /** The store type whose published schema typed the columns, when one did. */
  storeType: LakeStoreType | undefined;
  storeTypeSource: StoreTypeSource | undefined;
  /** Why the SQL could not be read, for 'first-page'. */
  reason?: string | undefined;
}

export interface SchemaInputs {
  sql: string | undefined;
  typing: TypingOptions;
  nested: NestedMode;
  /** The store type given by the caller; else asked of GetEventDataStore when the select list needs it. */
  storeType: LakeStoreType | undefined;
  client: CloudTrailClient;
  signal?: AbortSignal | undefined;
  retry: RetryOptions;
  onRetry?: ((event: RetryEvent) => void) | undefined;
  onWarning?: ((message: string) => void) | undefined;
}

/** Store types learned from GetEventDataStore, by client and store reference: a job's windows ask once. */
const known = new WeakMap<CloudTrailClient, Map<string, StoreTypeAnswer>>();

export async function resolveExportSchema(inputs: SchemaInputs): Promise<ExportSchema> {
  // Loaded when an export first needs them, each only if it is needed: the
  // Trino lexer costs about 20 MB and 0.06 s to load, the parser as much
  // again (and 0.1 to 0.2 s on its first parse), which the library's other
  // users (a row stream, list, describe) need not pay, and a query the
  // tokens answer (`SELECT * FROM <store> ...`, rows/select-star.ts) skips.
  const [{ lexQuery, tokenSelectList }, { outputColumns }] = await Promise.all([import('../rows/select-star.js'), import('../rows/select-items.js')]);
  const lexed = inputs.sql === undefined ? undefined : lexQuery(inputs.sql);
  const list =
    lexed === undefined ? ({ ok: false, reason: 'no SQL text' } as const) : (tokenSelectList(lexed) ?? (await import('../rows/select-list.js')).parseLexedQuery(lexed));
  if (!list.ok) return { columns: [], source: 'first-page', storeType: undefined, storeTypeSource: undefined, reason: list.reason };
  const needsStore = list.items.some((item) => item.kind !== 'expression' || item.typeRef !== null);
  let answer: StoreTypeAnswer | undefined = inputs.storeType === undefined ? undefined : { storeType: inputs.storeType, source: 'option' };
  if (answer === undefined && needsStore) {
    const ref = list.storeRefs[0];
    if (ref === undefined) {
      answer = { storeType: undefined, source: 'unknown', reason: 'the query names no event data store' };
    } else {
      const cache = known.get(inputs.client) ?? new Map<string, StoreTypeAnswer>();
      known.set(inputs.client, cache);
      answer = cache.get(ref) ?? (await storeTypeOf(inputs.client, ref, inputs));
      cache.set(ref, answer);
    }
  }
  const storeType = answer?.storeType;
  const outputs = outputColumns(list.items, storeType === undefined ? null : lakeSchema(storeType));
  if (answer?.source === 'unknown' && list.items.some((item) => item.kind === 'all')) {
    inputs.onWarning?.(`the store type of ${list.storeRefs[0] === undefined ? 'the query' : quoted(list.storeRefs[0])} is not known (${answer.reason}), so SELECT * takes its columns from the first page; give the store type (cloudtrail-events, ...) to type them from Lake's published schema`);
  }
  if (outputs === null) {
    return { columns: [], source: 'first-page', storeType, storeTypeSource: answer?.source, reason: 'the select list has a * that no store schema expands' };
  }
  const columns: SchemaColumn[] = [];
  const taken = new Set<string>();
  for (const output of outputs) {
    // The names flattenRow gives the k-th cell called `key` (arn, arn_2, ...).
    let source = firstName(output.key);
    for (let n = 2; taken.has(source); n++) source = `${output.key}_${n}`;
    taken.add(source);
    columns.push(columnFor(source, output.type, inputs));
  }
  for (const [name, type] of declaredColumns(inputs.typing)) {
    if (!taken.has(name)) columns.push({ source: name, type, fallback: false });
  }
  return { columns: schemaOf(columns), source: 'sql', storeType, storeTypeSource: answer?.source };
}

function columnFor(source: string, type: LakeType | null, inputs: SchemaInputs): SchemaColumn {
  const declared = declaredType(inputs.typing.columns, source);
  if (declared !== undefined) return { source, type: declared, fallback: false };
  if (type === null) return { source, type: typeForColumn(source, { ...inputs.typing, nested: inputs.nested === 'json' ? 'json' : 'text' }), fallback: false };
  if (isPrimitive(type)) return { source, type: primitiveColumnType(type.kind), fallback: true };
  switch (inputs.nested) {
    case 'typed':
      return { source, type: 'nested', lakeType: type, fallback: true };
    case 'json':
      return { source, type: 'json', fallback: false };
    default:
      return { source, type: 'string', fallback: false };
  }
}

function primitiveColumnType(kind: string): ColumnType {
  switch (kind) {
    case 'boolean':
      return 'boolean';
    case 'tinyint':
    case 'smallint':
    case 'int':
    case 'bigint':
      return 'int64';
    case 'float':
    case 'double':
      return 'double';
    case 'timestamp':
    case 'date':
      return 'timestamp';
    default:
      return 'string';
  }
}

function declaredColumns(typing: TypingOptions): Array<[string, ColumnType]> {
  const columns = typing.columns;
  return columns === undefined ? [] : Object.keys(columns).map((name) => [name, columns[name]!]);
}

import { lakeSchema, type LakeStoreType } from '../rows/lake-schema.js';
import type { LakeField, LakeType } from '../rows/lake-type.js';

/**
 * The emulator's event table as CloudTrail Lake publishes it: one DuckDB
 * column per published column of the store type, in the published order,
 * named as published (`eventversion`, `useridentity`, ..., `insightContext`),
 * with DuckDB types derived from the published Lake types. The published
 * schema (src/rows/lake-schemas/) is the one source of truth; nothing here
 * lists a column by hand.
 *
 * It also holds the per-event step that lines a raw event up with those
 * columns before DuckDB's json_transform types it (src/emulator/event-table.ts):
 * json_transform matches keys case-sensitively, while CloudTrail writes
 * `eventTime` and `userIdentity.sessionContext` where Lake publishes
 * `eventtime` and `useridentity.sessioncontext`.
 */

/** A raw event: a trail log record, or a Lake record of another store type. */
export type RawEvent = Record<string, unknown>;

export interface StoreColumn {
  /** As published, case kept: what `SELECT *` names the column. */
  readonly name: string;
  readonly lakeType: LakeType;
  /** The DuckDB type; struct field names are the published ones, quoted. */
  readonly duckdbType: string;
}

export interface StoreColumns {
  readonly storeType: LakeStoreType;
  /** In the published order. */
  readonly columns: readonly StoreColumn[];
  /**
   * An event's keys matched to the published names, for json_transform:
   *
   * - a key names a column (or, inside a struct, a field) without regard to
   *   case and comes out with the published name; struct values are matched
   *   the same way, recursively, and so are the structs inside an array;
   * - a key the published type lacks (`userIdentity.credentialId`, which
   *   CloudTrail sends and the page does not list) is dropped, as Lake's
   *   typed columns have no place for it;
   * - a map<string,string> value is passed on as it is: its keys keep their
   *   case exactly (`bucketName`), and json_transform turns each value that
   *   is not a string into its JSON text;
   * - a value of the wrong shape (a string where a struct belongs) is passed
   *   on too, and json_transform makes it NULL rather than failing the load.
   *
   * Of two keys that differ only in case, the later one wins. The result
   * holds only published names, so it may go to `JSON.stringify` safely.
   */
  readonly shape: (event: RawEvent) => RawEvent;
}

const cache = new Map<LakeStoreType, StoreColumns>();

/** The columns of a store type's table, built once from its published schema and kept. */
export function storeColumns(storeType: LakeStoreType): StoreColumns {
  const cached = cache.get(storeType);
  if (cached !== undefined) return cached;
  const schema = lakeSchema(storeType); // throws a TypeError for an unknown type
  const columns = schema.columns.map((c) => Object.freeze({ name: c.name, lakeType: c.type, duckdbType: duckdbType(c.type) }));
  const top = structShaper(schema.columns.map((c) => ({ name: c.name, type: c.type })));
  const built: StoreColumns = Object.freeze({ storeType, columns: Object.freeze(columns), shape: top });
  cache.set(storeType, built);
  return built;
}

/** A DuckDB identifier or struct field name, double-quoted so that its case is kept. */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * The DuckDB type of a Lake type: string → VARCHAR, struct → STRUCT with the
 * published field names, map → MAP, array → LIST (`T[]`), timestamp →
 * TIMESTAMP (Lake's are UTC without a zone), and the numbers, boolean, date
 * and binary by their DuckDB names.
 */
export function duckdbType(type: LakeType): string {
  switch (type.kind) {
    case 'struct':
      return `STRUCT(${type.fields.map((f) => `${quoteIdentifier(f.name)} ${duckdbType(f.type)}`).join(', ')})`;
    case 'map':
      return `MAP(${duckdbType(type.key)}, ${duckdbType(type.value)})`;
    case 'array':
      return `${duckdbType(type.element)}[]`;
    default:
      return PRIMITIVES[type.kind];
  }
}

const PRIMITIVES = {
  string: 'VARCHAR',
  boolean: 'BOOLEAN',
  tinyint: 'TINYINT',
  smallint: 'SMALLINT',
  int: 'INTEGER',
  bigint: 'BIGINT',
  float: 'FLOAT',
  double: 'DOUBLE',
  timestamp: 'TIMESTAMP',
  date: 'DATE',
  binary: 'BLOB',
} as const;

/** Reshapes one value of a type; null means the value goes on as it is. */
type Shaper = ((value: unknown) => unknown) | null;

function shaperOf(type: LakeType): Shaper {
  if (type.kind === 'struct') return structShaper(type.fields);
  if (type.kind === 'array') {
    const element = shaperOf(type.element);
    return element === null ? null : (value) => (Array.isArray(value) ? value.map(element) : value);
  }
  // Primitives and maps: json_transform casts them, and a map's keys are data.
  return null;
}

interface Target {
  readonly name: string;
  readonly shape: Shaper;
}

/** The most spellings of field names remembered per struct: hostile input cannot grow it further. */
const MAX_SPELLINGS = 256;

function structShaper(fields: readonly Pick<LakeField, 'name' | 'type'>[]): (value: unknown) => RawEvent {
  const byLower = new Map<string, Target>();
  for (const field of fields) byLower.set(field.name.toLowerCase(), { name: field.name, shape: shaperOf(field.type) });
  // Spellings seen before (CloudTrail's camelCase), so that most keys cost one lookup, not a toLowerCase.
  const seen = new Map<string, Target | null>();
  const lookup = (key: string): Target | null => {
    let target = seen.get(key);
    if (target === undefined) {
      target = byLower.get(key.toLowerCase()) ?? null;
      if (seen.size < MAX_SPELLINGS) seen.set(key, target);
    }
    return target;
  };
  return (value: unknown): RawEvent => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return value as RawEvent;
    const out: RawEvent = {};
    for (const key of Object.keys(value)) {
      const target = lookup(key);
      if (target === null) continue;
      const inner = (value as RawEvent)[key];
      const shaped = target.shape === null ? inner : target.shape(inner);
      if (target.name === '__proto__') Object.defineProperty(out, target.name, { value: shaped, enumerable: true, writable: true, configurable: true });
      else out[target.name] = shaped;
    }
    return out;
  };
}

/**
 * The published SQL schemas of CloudTrail Lake's event data store types, as
 * data: one JSON file a store type in ./lake-schemas/, each with the page it
 * was taken from (see ./lake-schemas/README.md). They are the one source of
 * truth for the columns Lake has and their nested types.
 *
 * Pure: importing this module imports the JSON files and nothing else; a
 * schema is checked and its types parsed the first time it is asked for, and
 * kept. Column lookups go through a `Map` by lower-cased name, as Lake's SQL
 * matches names without regard to case.
 */
import auditManagerEvidence from './lake-schemas/audit-manager-evidence.json' with { type: 'json' };
import cloudtrailEvents from './lake-schemas/cloudtrail-events.json' with { type: 'json' };
import cloudtrailInsights from './lake-schemas/cloudtrail-insights.json' with { type: 'json' };
import configConfigurationItems from './lake-schemas/config-configuration-items.json' with { type: 'json' };
import integrationEvents from './lake-schemas/integration-events.json' with { type: 'json' };
import { formatLakeType, lakeTypeAtPath, parseLakeType, type LakeType } from './lake-type.js';

import { LAKE_STORE_TYPES, type LakeStoreType } from '../lake-model.js';

export { LAKE_STORE_TYPES, type LakeStoreType };

/** Where a schema was taken from. */
export interface LakeSchemaSource {
  readonly title: string;
  /** The published page and section. */
  readonly url: string;
  /** The day it was read, YYYY-MM-DD. */
  readonly retrieved: string;
  /** The copy of the page actually read (`github:owner/repo@commit:path`), when not the page itself. */
  readonly copy: string | null;
}

export interface LakeColumn {
  /** As published (case kept: `insightContext`). */
  readonly name: string;
  readonly type: LakeType;
  /** The type text as shipped, without whitespace; `formatLakeType(type)` equals it. */
  readonly typeText: string;
  /**
   * The text on the page when it had to be corrected to parse (the
   * integration store's `eventdata`); null when `typeText` is the page's
   * text with only whitespace removed.
   */
  readonly published: string | null;
}

export interface LakeSchema {
  readonly storeType: LakeStoreType;
  readonly description: string;
  readonly source: LakeSchemaSource;
  /** The fixed `eventcategory` of the store's records, when the page names one (`Insight`, `ConfigurationItem`, ...). */
  readonly eventCategory: string | null;
  /** The fixed `eventtype`, likewise (`AwsCloudTrailInsight`, ...). */
  readonly eventType: string | null;
  /** What the published text gets wrong or leaves odd, in words; kept with the data so that it is not lost. */
  readonly notes: readonly string[];
  /** In the published order. */
  readonly columns: readonly LakeColumn[];
  /** The same columns by lower-cased name. */
  readonly byName: ReadonlyMap<string, LakeColumn>;
}

const FILES: ReadonlyMap<LakeStoreType, unknown> = new Map<LakeStoreType, unknown>([
  ['cloudtrail-events', cloudtrailEvents],
  ['cloudtrail-insights', cloudtrailInsights],
  ['config-configuration-items', configConfigurationItems],
  ['audit-manager-evidence', auditManagerEvidence],
  ['integration-events', integrationEvents],
]);

const loaded = new Map<LakeStoreType, LakeSchema>();

export function isLakeStoreType(value: unknown): value is LakeStoreType {
  return typeof value === 'string' && FILES.has(value as LakeStoreType);
}

/**
 * The published schema of one store type, with every column's type parsed.
 * Throws a `TypeError` for a store type that is not one of `LAKE_STORE_TYPES`,
 * and an `Error` naming the file and column if a shipped file is malformed
 * (a test parses every file, so that is a bug in the data, not an input).
 */
export function lakeSchema(storeType: LakeStoreType): LakeSchema {
  const cached = loaded.get(storeType);
  if (cached !== undefined) return cached;
  if (!isLakeStoreType(storeType)) {
    throw new TypeError(`lakeSchema: storeType must be one of ${LAKE_STORE_TYPES.join(', ')}, not ${JSON.stringify(String(storeType)).slice(0, 80)}`);
  }
  const schema = readSchema(storeType, FILES.get(storeType));
  loaded.set(storeType, schema);
  return schema;
}

/** A column of a store type by name, without regard to case; null when the store has none. */
export function lakeColumn(schema: LakeSchema, name: string): LakeColumn | null {
  return schema.byName.get(name.toLowerCase()) ?? null;
}

/**
 * The type at a dotted path, without regard to case:
 * `useridentity.sessioncontext.sessionissuer.arn` is `string` in
 * `cloudtrail-events`. The first step names a column and each further step a
 * struct field; a name that itself holds a dot is given as an array of steps.
 * Returns null when the path names nothing (or goes into a map or an array).
 */
export function lakeTypeAt(schema: LakeSchema, path: string | readonly string[]): LakeType | null {
  const steps = typeof path === 'string' ? path.split('.') : path;
  const [first, ...rest] = steps;
  if (first === undefined) return null;
  const column = lakeColumn(schema, first);
  return column === null ? null : lakeTypeAtPath(column.type, rest);
}

function readSchema(storeType: LakeStoreType, data: unknown): LakeSchema {
  const file = `lake-schemas/${storeType}.json`;
  const bad = (what: string): never => {
    throw new Error(`${file}: ${what}`);
  };
  if (!isRecord(data)) return bad('not an object');
  if (data.storeType !== storeType) bad(`storeType is ${JSON.stringify(data.storeType)}, not ${JSON.stringify(storeType)}`);
  const source = data.source;
  if (!isRecord(source)) return bad('no source');
  const { title, url, retrieved } = source;
  if (typeof title !== 'string' || typeof url !== 'string' || !url.startsWith('https://')) bad('source needs a title and an https url');
  if (typeof retrieved !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(retrieved)) bad('source.retrieved must be YYYY-MM-DD');
  const copy = source.copy ?? null;
  if (copy !== null && typeof copy !== 'string') bad('source.copy must be a string or absent');
  const notes = data.notes ?? [];
  if (!Array.isArray(notes) || !notes.every((n) => typeof n === 'string')) bad('notes must be strings');
  if (!Array.isArray(data.columns) || data.columns.length === 0) return bad('no columns');

  const columns: LakeColumn[] = [];
  const byName = new Map<string, LakeColumn>();
  for (const [i, entry] of data.columns.entries()) {
    if (!isRecord(entry) || typeof entry.name !== 'string' || entry.name === '' || typeof entry.type !== 'string') {
      return bad(`columns[${i}] needs a name and a type`);
    }
    const { name, type: typeText } = entry;
    const published = entry.published ?? null;
    if (published !== null && typeof published !== 'string') bad(`column ${name}: published must be a string or absent`);
    let type: LakeType;
    try {
      type = parseLakeType(typeText);
    } catch (error) {
      return bad(`column ${name}: ${(error as Error).message}`);
    }
    if (formatLakeType(type) !== typeText) bad(`column ${name}: type is not in the canonical form ${formatLakeType(type)}`);
    const key = name.toLowerCase();
    if (byName.has(key)) bad(`column ${name} is listed twice`);
    const column: LakeColumn = Object.freeze({ name, type, typeText, published: published as string | null });
    byName.set(key, column);
    columns.push(column);
  }
  return Object.freeze({
    storeType,
    description: typeof data.description === 'string' ? data.description : '',
    source: Object.freeze({ title: title as string, url: url as string, retrieved: retrieved as string, copy: copy as string | null }),
    eventCategory: typeof data.eventCategory === 'string' ? data.eventCategory : null,
    eventType: typeof data.eventType === 'string' ? data.eventType : null,
    notes: Object.freeze([...(notes as string[])]),
    columns: Object.freeze(columns),
    byName,
  });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

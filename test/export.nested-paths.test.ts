/**
 * Issue 15's second "Done when", end to end: `useridentity.arn`,
 * `useridentity.sessioncontext.sessionissuer.arn`,
 * `requestparameters['bucketName']` and the like, asked of the typed Parquet
 * export in DuckDB, equal the events Lake holds, for every row of a set of
 * awkward cases (test/support/awkward-events.ts). The generated events are
 * the ground truth, read here with no help from ctlake's reader. A cell ctlake
 * cannot read one way only must be NULL with Lake's exact text in
 * `ctlake_unparsed`: for every row and every nested column, either the typed
 * value is the event's value or the fallback holds the text, and the rows
 * that fall back are only the awkward ones. The same holds for typed NDJSON,
 * whose nested values are JSON objects and arrays.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DuckDBConnection } from '@duckdb/node-api';
import { startEmulator, type Emulator } from '../src/emulator/server.js';
import { lakeSchema } from '../src/rows/lake-schema.js';
import type { LakeType } from '../src/rows/lake-type.js';
import { runCli, type ProcessResult } from './support/cli-process.js';
import { duckdb, query } from './support/duckdb.js';
import { emulatorEnv, parseNdjson } from './support/lake.js';
import { awkwardEvents, UNICODE, writeTrailLog, type Json, type TrailEvent } from './support/awkward-events.js';
import type { LakeRow } from './support/presto-render.js';

const EVENTS = 330; // every combination of the cases' cycles (11 identities, 13 parameter sets, 5 resource lists) comes up
const COLUMNS = lakeSchema('cloudtrail-events').columns;
const NESTED = COLUMNS.filter((c) => c.type.kind === 'struct' || c.type.kind === 'map' || c.type.kind === 'array');

/** A struct field of an event: CloudTrail's keys are camelCase (`sessionContext`, `ARN`), Lake's names lower case. */
function field(value: Json | undefined, name: string): Json | undefined {
  if (value === null || value === undefined || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const key = Object.keys(value).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : value[key];
}

/** A map<string,string> value as Lake stores it: strings as they are, anything else as its JSON text. */
const mapText = (value: Json): string | null => (value === null ? null : typeof value === 'string' ? value : JSON.stringify(value));

/**
 * The value DuckDB must give back for an event's `json` of Lake type
 * `type`, in getRowObjectsJS's shapes: a struct with every field (null where
 * the event has none), a map as [{key, value}] in the event's order, a
 * timestamp as a Date.
 */
function truth(json: Json | undefined, type: LakeType): unknown {
  if (json === null || json === undefined) return null;
  switch (type.kind) {
    case 'struct':
      return Object.fromEntries(type.fields.map((f) => [f.name, truth(field(json, f.name), f.type)]));
    case 'map':
      return Object.entries(json as Record<string, Json>).map(([key, value]) => ({ key, value: type.value.kind === 'string' ? mapText(value) : truth(value, type.value) }));
    case 'array':
      return (json as Json[]).map((e) => truth(e, type.element));
    case 'timestamp':
      return new Date(json as string);
    default:
      return json;
  }
}

/** Typed NDJSON's value in the same shapes as truth(): maps from objects (a `__proto__` key is an own key of JSON.parse's objects), timestamps from ISO-8601. */
function fromJson(json: unknown, type: LakeType): unknown {
  if (json === null || json === undefined) return null;
  switch (type.kind) {
    case 'struct':
      return Object.fromEntries(type.fields.map((f) => [f.name, fromJson((json as Record<string, unknown>)[f.name], f.type)]));
    case 'map':
      return Object.entries(json as Record<string, unknown>).map(([key, value]) => ({ key, value: fromJson(value, type.value) }));
    case 'array':
      return (json as unknown[]).map((e) => fromJson(e, type.element));
    case 'timestamp':
      expect(json).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      return new Date(json as string);
    default:
      return json;
  }
}

interface Cell {
  /** The event's index. */
  i: number;
  column: string;
}

/**
 * For every row and nested column: the typed value equals the event's, or
 * the value is NULL and `unparsed` holds Lake's exact text. Returns the cells
 * that fell back and the cells whose value differs.
 */
function account(
  rows: Array<{ id: string; value: (column: string) => unknown; unparsed: Map<string, string> }>,
  events: ReadonlyMap<string, { i: number; event: TrailEvent }>,
  lake: ReadonlyMap<string, LakeRow>,
  read: (value: unknown, type: LakeType) => unknown,
) {
  const fellBack: Cell[] = [];
  const changed: Array<Cell & { got: unknown; want: unknown }> = [];
  const problems: string[] = [];
  for (const row of rows) {
    const { i, event } = events.get(row.id)!;
    for (const column of NESTED) {
      const want = truth(field(event, column.name), column.type);
      if (row.unparsed.has(column.name)) {
        fellBack.push({ i, column: column.name });
        if (row.value(column.name) !== null) problems.push(`${row.id} ${column.name}: a value and ctlake_unparsed`);
        if (row.unparsed.get(column.name) !== lake.get(row.id)![column.name]) problems.push(`${row.id} ${column.name}: ctlake_unparsed is not Lake's text`);
        continue;
      }
      const got = read(row.value(column.name), column.type);
      try {
        expect(got).toEqual(want);
      } catch {
        changed.push({ i, column: column.name, got, want });
      }
    }
  }
  return { fellBack, changed, problems };
}

/**
 * The cells whose Presto text has a second reading that ctlake takes: a map
 * value holding `, key=` at its top, which Lake prints exactly as two
 * entries (`{q=a=b, c=d}` for {q: "a=b, c=d"} and for {q: "a=b", c: "d"}).
 */
const MAP_VALUE_WITH_SEPARATOR = (cell: Cell) =>
  (cell.column === 'requestparameters' && cell.i % 13 === 2) || (cell.column === 'responseelements' && cell.i % 6 === 0);

/**
 * The cells that fall back, as `column index`: the awkward identities (a
 * value holding `, arn=` (5), `, z=` naming no field (6), unbalanced brackets
 * (7)), and the maps whose value holds "=" before another entry.
 */
const EXPECTED_FALLBACKS = Array.from({ length: EVENTS }, (_, i) => [
  ...(i % 11 >= 5 && i % 11 <= 7 ? [`useridentity ${i}`] : []),
  // `q=a=b, c=d` (2) and `expr=x = y, list=...` (7): a value holding "=" before another entry.
  ...(i % 13 === 2 || i % 13 === 7 ? [`requestparameters ${i}`] : []),
  ...(i % 6 === 0 ? [`responseelements ${i}`] : []),
]).flat().sort();

describe('nested paths over the awkward cases equal the events Lake holds', () => {
  let emulator: Emulator;
  let dir: string;
  let db: DuckDBConnection;
  let file: string;
  const events = awkwardEvents(EVENTS);
  const byId = new Map(events.map((event, i) => [String(event.eventID), { i, event }]));
  let lake: Map<string, LakeRow>;
  let typedLines: Array<Record<string, unknown>>;
  let parquetRows: Array<Record<string, unknown>>;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ctlake-nested-paths-'));
    emulator = await startEmulator({ events: [await writeTrailLog(path.join(dir, 'trail.json'), events)] });
    const env = emulatorEnv(emulator);
    const sql = `SELECT * FROM ${emulator.eventDataStoreId}`;
    file = path.join(dir, 'all.parquet');
    const page = ['--page-size', '100'];
    const [parquet, raw, typed] = await Promise.all([
      runCli(['export', '--sql', sql, '--out', file, ...page], env),
      runCli(['export', '--sql', sql, '--out', '-', ...page], env),
      runCli(['export', '--sql', sql, '--out', '-', '--types', 'typed', ...page], env),
    ]);
    for (const run of [parquet, raw, typed] as ProcessResult[]) expect(run.status, run.stderr).toBe(0);
    lake = new Map(parseNdjson(raw.stdout).map((row) => [row.eventid!, row]));
    typedLines = typed.stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
    db = await duckdb();
    parquetRows = await query(db, `SELECT * FROM read_parquet('${file}')`);
  });
  afterAll(async () => {
    db?.closeSync();
    await emulator?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const unparsedOf = (row: Record<string, unknown>) => new Map(((row.ctlake_unparsed ?? []) as Array<{ key: string; value: string }>).map((e) => [e.key, e.value]));

  it('SELECT useridentity.arn, ...sessionissuer.arn, requestparameters[...] and more equal the events, or the cell is in ctlake_unparsed', async () => {
    const rows = await query(
      db,
      `SELECT eventid,
         useridentity.arn AS arn,
         useridentity.sessioncontext.sessionissuer.arn AS issuer_arn,
         useridentity.sessioncontext.sessionissuer.username AS issuer_name,
         useridentity.sessioncontext.attributes.creationdate AS created,
         useridentity.sessioncontext.webidfederationdata.attributes['__proto__'] AS web_proto,
         requestparameters['bucketName'] AS bucket,
         requestparameters['__proto__'] AS proto,
         requestparameters['policy'] AS policy,
         requestparameters['filter'] AS filter,
         requestparameters['nothing'] AS nothing,
         cardinality(requestparameters)::INTEGER AS params,
         len(resources)::INTEGER AS resource_count,
         resources[1].arn AS first_arn,
         resources[3].arn AS third_arn,
         tlsdetails.tlsversion AS tls,
         additionaleventdata['bytesTransferredIn'] AS bytes_in,
         addendum['reason'] AS reason,
         addendum['updatedFields'] AS updated,
         useragent,
         ctlake_unparsed
       FROM read_parquet('${file}')`,
    );
    expect(rows).toHaveLength(EVENTS);
    const at = (value: Json | undefined, ...steps: string[]) => steps.reduce<Json | undefined>((v, step) => field(v, step), value) ?? null;
    const key = (map: Json | undefined, name: string) => (map && typeof map === 'object' && !Array.isArray(map) && Object.hasOwn(map, name) ? mapText(map[name]!) : null);
    let checked = 0;
    for (const row of rows) {
      const { i, event } = byId.get(row.eventid as string)!;
      const unparsed = unparsedOf(row);
      const identity = unparsed.has('useridentity') ? undefined : event.userIdentity;
      const params = unparsed.has('requestparameters') ? undefined : event.requestParameters;
      const resources = event.resources as Json[] | undefined;
      const issuer = at(identity, 'sessionContext', 'sessionIssuer');
      const created = at(identity, 'sessionContext', 'attributes', 'creationDate');
      const expected = {
        arn: at(identity, 'arn'),
        issuer_arn: at(issuer, 'arn'),
        issuer_name: at(issuer, 'userName'),
        created: created === null ? null : new Date(created as string),
        web_proto: key(at(identity, 'sessionContext', 'webIdFederationData', 'attributes') ?? undefined, '__proto__'),
        bucket: key(params, 'bucketName'),
        proto: key(params, '__proto__'),
        policy: key(params, 'policy'),
        filter: key(params, 'filter'),
        nothing: null,
        params: params === undefined || params === null ? null : Object.keys(params).length,
        resource_count: resources === undefined ? null : resources.length,
        first_arn: at(resources?.[0], 'ARN'),
        third_arn: at(resources?.[2], 'ARN'),
        tls: at(event.tlsDetails, 'tlsVersion'),
        bytes_in: key(event.additionalEventData, 'bytesTransferredIn'),
        reason: key(event.addendum, 'reason'),
        updated: key(event.addendum, 'updatedFields'),
        useragent: event.userAgent,
      };
      const { eventid: _, ctlake_unparsed: __, ...got } = row;
      if (MAP_VALUE_WITH_SEPARATOR({ i, column: 'requestparameters' })) {
        // See the it.fails below: `q` and `c` come back as two entries, but these paths do not touch them.
        delete (expected as Partial<typeof expected>).params;
        delete got.params;
      }
      expect(got, `event ${i}`).toEqual(expected);
      checked++;
    }
    expect(checked).toBe(EVENTS);
    // The awkward values did come through typed, not only as fallbacks.
    const value = (i: number, column: string) => rows.find((r) => r.eventid === events[i]!.eventID)![column];
    expect(value(4, 'issuer_name')).toBe(`${UNICODE} 🙂`);
    expect(value(6, 'bucket')).toBe(UNICODE);
    expect(rows.filter((r) => typeof r.proto === 'string')).toHaveLength(events.filter((_, i) => i % 13 === 5).length);
    expect(rows.filter((r) => typeof r.web_proto === 'string').length).toBeGreaterThan(0);
    expect(rows.filter((r) => r.params === 0).length).toBeGreaterThan(0);
    expect(new Set(rows.map((r) => r.resource_count))).toEqual(new Set([null, 0, 1, 3]));
    expect(rows.filter((r) => typeof r.policy === 'string' && r.policy.startsWith('{"Version"')).length).toBeGreaterThan(0);
    expect(rows.filter((r) => r.filter === '{"tags":["a","b"],"n":1,"ok":true}').length).toBeGreaterThan(0);
  });

  it("keeps every nested value of every row of the Parquet file: the event's value, or NULL with Lake's exact text in ctlake_unparsed", () => {
    const rows = parquetRows.map((row) => ({ id: row.eventid as string, value: (column: string) => row[column], unparsed: unparsedOf(row) }));
    const { fellBack, changed, problems } = account(rows, byId, lake, (value) => value);
    expect(problems).toEqual([]);
    expect(changed).toEqual([]);
    expect(fellBack.map((c) => `${c.column} ${c.i}`).sort()).toEqual(EXPECTED_FALLBACKS);
  });

  it('writes the same values to typed NDJSON, nested values as JSON objects and arrays', () => {
    expect(typedLines).toHaveLength(EVENTS);
    const rows = typedLines.map((line) => {
      const unparsed = line.ctlake_unparsed as Record<string, string> | null;
      return { id: line.eventid as string, value: (column: string) => line[column], unparsed: new Map(Object.entries(unparsed ?? {})) };
    });
    const { fellBack, changed, problems } = account(rows, byId, lake, fromJson);
    expect(problems).toEqual([]);
    expect(changed).toEqual([]);
    expect(fellBack.map((c) => `${c.column} ${c.i}`).sort()).toEqual(EXPECTED_FALLBACKS);
    const line = typedLines.find((l) => l.eventid === events[5]!.eventID)!;
    expect(Object.getOwnPropertyNames(line.requestparameters)).toEqual(['__proto__', 'constructor', 'bucketName']);
    expect(typeof line.resources).toBe('object');
  });

  // Lake prints {q: "a=b, c=d"} and {q: "a=b", c: "d"} alike, as `{q=a=b, c=d}`:
  // a map value that holds "=" before another entry falls back (nested-value.ts),
  // so the value is never changed; its text is in ctlake_unparsed.
  it('keeps a map value that holds ", key=" as it was, or its text in ctlake_unparsed', () => {
    const rows = parquetRows.map((row) => ({ id: row.eventid as string, value: (column: string) => row[column], unparsed: unparsedOf(row) }));
    const { changed, fellBack } = account(rows, byId, lake, (value) => value);
    expect(changed.filter(MAP_VALUE_WITH_SEPARATOR)).toEqual([]);
    expect(fellBack.filter(MAP_VALUE_WITH_SEPARATOR).length).toBe(events.filter((_, i) => i % 13 === 2).length + events.filter((_, i) => i % 6 === 0).length);
  });

  it('the raw NDJSON it is checked against is Lake text for the awkward cases', async () => {
    const row = (i: number) => lake.get(String(events[i]!.eventID))!;
    expect(row(2).requestparameters).toBe('{bucketName=bucket-2, q=a=b, c=d}');
    expect(row(1).requestparameters).toBe('{}');
    expect(row(0).useridentity).toBeNull();
    expect(row(5).useridentity).toContain('username=a, arn=arn:aws:iam::1:role/fake}');
    expect(await readFile(file).then((b) => b.subarray(0, 4).toString())).toBe('PAR1');
  });
});

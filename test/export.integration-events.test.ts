/**
 * Issue 15 beyond CloudTrail events: an event data store of events from
 * integrations outside AWS (`eventdata`, `metadata`, `addendum` structs).
 * `SELECT *` through the built CLI, with the store type read from the
 * store's event selectors, gives `eventdata` as a STRUCT in Parquet, and
 * `eventdata.uid` and `eventdata.useridentity.type` equal Lake's text (raw
 * NDJSON of the same query) and the events the emulator was loaded with.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DuckDBConnection } from '@duckdb/node-api';
import { startEmulator, type Emulator } from '../src/emulator/server.js';
import { sampleIntegrationEventArray } from '../src/emulator/sample-integration-events.js';
import { lakeSchema } from '../src/rows/lake-schema.js';
import { runCli } from './support/cli-process.js';
import { duckdb, parquetTypes, query } from './support/duckdb.js';
import { emulatorEnv, parseNdjson } from './support/lake.js';
import { differences, type LakeRow } from './support/presto-render.js';

const EVENTS = 300;
const SEED = 2;

describe('SELECT * over an integration event data store', () => {
  let emulator: Emulator;
  let dir: string;
  let db: DuckDBConnection;
  let file: string;
  let lake: Map<string, LakeRow>;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ctlake-integration-'));
    emulator = await startEmulator({ storeType: 'integration-events', sample: EVENTS, seed: SEED });
    const env = emulatorEnv(emulator);
    const sql = `SELECT * FROM ${emulator.eventDataStoreId} ORDER BY eventTime`;
    file = path.join(dir, 'events.parquet');
    const [parquet, raw] = await Promise.all([
      runCli(['export', '--sql', sql, '--out', file, '--page-size', '100'], env),
      runCli(['export', '--sql', sql, '--out', '-', '--page-size', '100'], env),
    ]);
    expect(parquet.status, parquet.stderr).toBe(0);
    expect(raw.status, raw.stderr).toBe(0);
    lake = new Map(parseNdjson(raw.stdout).map((row) => [row.eventid!, row]));
    db = await duckdb();
  });
  afterAll(async () => {
    db?.closeSync();
    await emulator?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('types eventdata, metadata and addendum as STRUCTs with the published fields', async () => {
    const types = await parquetTypes(db, file);
    expect(Object.keys(types)).toEqual([...lakeSchema('integration-events').columns.map((c) => c.name), 'ctlake_unparsed']);
    expect(types.eventdata).toBe(
      'STRUCT("version" VARCHAR, useridentity STRUCT("type" VARCHAR, principalid VARCHAR, details MAP(VARCHAR, VARCHAR)), useragent VARCHAR, eventsource VARCHAR, ' +
        'eventname VARCHAR, eventtime VARCHAR, uid VARCHAR, requestparameters MAP(VARCHAR, VARCHAR), responseelements MAP(VARCHAR, VARCHAR), errorcode VARCHAR, ' +
        'errormessage VARCHAR, sourceipaddress VARCHAR, recipientaccountid VARCHAR, additionaleventdata MAP(VARCHAR, VARCHAR))',
    );
    expect(types.metadata).toBe('STRUCT(ingestiontime VARCHAR, channelarn VARCHAR)');
    expect(types.eventtime).toBe('TIMESTAMP WITH TIME ZONE');
  });

  it('gives eventdata.uid and eventdata.useridentity.type as Lake said, for every row', async () => {
    const rows = await query(db, `SELECT eventid, eventdata.uid AS uid, eventdata.useridentity.type AS who, metadata.channelarn AS channel FROM read_parquet('${file}')`);
    expect(rows).toHaveLength(EVENTS);
    const sent = new Map(sampleIntegrationEventArray(EVENTS, { seed: SEED }).map((e) => [e.eventID as string, e]));
    for (const row of rows) {
      const text = lake.get(row.eventid as string)!;
      // Lake's text of the struct, read with a pattern that fits these values (no `, ` or `}` inside them).
      expect(text.eventdata, String(row.eventid)).toMatch(/^\{version=[^,]*, useridentity=\{type=([^,}]*), /);
      const uid = /, uid=([^,}]*)[,}]/.exec(text.eventdata!)![1];
      const who = /^\{version=[^,]*, useridentity=\{type=([^,}]*), /.exec(text.eventdata!)![1];
      expect({ uid: row.uid, who: row.who }).toEqual({ uid, who });
      // And what the application sent, through PutAuditEvents.
      const event = sent.get(row.eventid as string)!;
      const data = event.eventData as { UID: string; userIdentity: { type: string } };
      expect({ uid: row.uid, who: row.who, channel: row.channel }).toEqual({
        uid: data.UID,
        who: data.userIdentity.type,
        channel: (event.metadata as { channelARN: string }).channelARN,
      });
    }
  });

  it("keeps every value of every column: printed back, each typed cell is Lake's text, and none needs the fallback", async () => {
    const rows = await query(db, `SELECT * FROM read_parquet('${file}')`);
    expect(differences(rows, lake, lakeSchema('integration-events').columns)).toEqual([]);
    expect(rows.filter((r) => r.ctlake_unparsed !== null)).toEqual([]);
    expect(rows.filter((r) => r.eventdata !== null)).toHaveLength(EVENTS);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { startEmulator, type Emulator } from '../../src/emulator/server.js';
import { sampleEvents } from '../../src/emulator/sample-events.js';
import { emulatorClient } from '../support/lake.js';
import { rowObject, runQuery } from './limits-harness.js';

// The store the migrate planner is tested on: 20,000 events over two years, days uneven.
// Ten years' retention: at the default 7 years, 2019 is partly past the retention on today's clock.
const OPTIONS = { retentionDays: 3653, sample: 20_000, seed: 4, eventsFrom: '2019-01-01T00:00:00Z', eventsTo: '2021-01-01T00:00:00Z', unevenDays: true };
const span = { seed: 4, start: new Date('2019-01-01T00:00:00Z'), spanMs: Date.parse('2021-01-01T00:00:00Z') - Date.parse('2019-01-01T00:00:00Z'), unevenDays: true };

/** Events per UTC day of 2019, counted from the generator itself, independently of the emulator's SQL. */
function expectedDays(): Map<string, number> {
  const days = new Map<string, number>();
  for (const event of sampleEvents(20_000, span)) {
    const time = String(event.eventTime);
    if (time < '2019-01-01' || time >= '2020-01-01') continue;
    const day = `${time.slice(0, 10)} 00:00:00.000`;
    days.set(day, (days.get(day) ?? 0) + 1);
  }
  return days;
}

describe('the SQL the migrate planner sends', () => {
  let emulator: Emulator;
  let client: CloudTrailClient;
  beforeAll(async () => {
    emulator = await startEmulator(OPTIONS);
    client = emulatorClient(emulator);
  });
  afterAll(async () => {
    client.destroy();
    await emulator.close();
  });

  it('counts events and distinct eventIDs per day, rows shaped and rendered as Lake renders them', async () => {
    const sql =
      `SELECT date_trunc('day', eventTime) AS day, COUNT(*) AS events, COUNT(DISTINCT eventID) AS eventids FROM ${emulator.eventDataStoreId} ` +
      `WHERE eventTime >= '2019-01-01 00:00:00' AND eventTime < '2020-01-01 00:00:00' GROUP BY 1 ORDER BY 1`;
    const { described, rows } = await runQuery(client, sql);
    expect(described.QueryStatus).toBe('FINISHED');
    const expected = expectedDays();
    // Each row is three single-key cells, in select-list order, every value a string.
    for (const row of rows) {
      expect(row.map((cell) => Object.keys(cell))).toEqual([['day'], ['events'], ['eventids']]);
      expect(row[0]!.day).toMatch(/^2019-\d\d-\d\d 00:00:00\.000$/);
      expect(row[1]!.events).toMatch(/^[1-9]\d*$/);
    }
    expect(new Map(rows.map((row) => [row[0]!.day!, Number(row[1]!.events)]))).toEqual(expected);
    // Generated eventIDs are unique, so the distinct count equals the count.
    expect(rows.every((row) => row[2]!.eventids === row[1]!.events)).toBe(true);
    // Days are uneven: some have far more events than others, and some have none.
    const counts = [...expected.values()];
    expect(Math.max(...counts)).toBeGreaterThan(3 * Math.min(...counts));
    expect(expected.size).toBeLessThan(365);
    // EventsScanned is the year's events (the eventTime range), not the store's.
    const inRange = counts.reduce((a, b) => a + b, 0);
    expect(described.QueryStatistics?.EventsScanned).toBe(inRange);
    expect(inRange).toBeLessThan(20_000);
  });

  it('gives the oldest and newest eventTime and the count of the whole store', async () => {
    const { rows, described } = await runQuery(client, `SELECT MIN(eventTime) AS oldest, MAX(eventTime) AS newest, COUNT(*) AS events FROM ${emulator.eventDataStoreId}`);
    const times = [...sampleEvents(20_000, span)].map((e) => String(e.eventTime));
    const lake = (iso: string) => `${iso.slice(0, 10)} ${iso.slice(11, 19)}.000`;
    expect(rows).toEqual([[{ oldest: lake(times[0]!) }, { newest: lake(times.at(-1)!) }, { events: '20000' }]]);
    expect(rowObject(rows[0]!).oldest! >= '2019-01-01').toBe(true);
    expect(rowObject(rows[0]!).newest! < '2021-01-01').toBe(true);
    expect(described.QueryStatistics?.EventsScanned).toBe(20_000);
  });

  it('scans only the eventTime range of the WHERE, whatever else it says', async () => {
    const eds = emulator.eventDataStoreId;
    const year = [...expectedDays().values()].reduce((a, b) => a + b, 0);
    const scanned = async (sql: string) => (await runQuery(client, sql)).described.QueryStatistics?.EventsScanned;
    const range = `eventTime >= '2019-01-01 00:00:00' AND eventTime < '2020-01-01 00:00:00'`;
    expect(await scanned(`SELECT eventName FROM ${eds} WHERE ${range} AND eventName = 'GetObject' LIMIT 1`)).toBe(year);
    expect(await scanned(`SELECT e.eventName FROM ${eds} AS e WHERE e.eventTime >= TIMESTAMP '2019-01-01 00:00:00' AND (e.eventTime < '2020-01-01 00:00:00' AND readOnly)`)).toBe(year);
    // An OR that mixes eventTime with another column bounds no range: the whole store.
    expect(await scanned(`SELECT eventName FROM ${eds} WHERE eventTime < '2019-02-01' OR eventName = 'GetObject'`)).toBe(20_000);
    expect(await scanned(`SELECT eventName FROM ${eds} WHERE eventTime >= '2030-01-01'`)).toBe(0);
  });
});

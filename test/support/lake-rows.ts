import type { Emulator } from '../../src/emulator/server.js';
import type { QueryResultRow } from '../../src/rows/flatten-row.js';

const REGIONS = ['us-east-1', 'eu-west-1', 'ap-south-1'];

/** Rows over five days and three regions, in eventTime order, each with a unique seq and eventID. */
export function lakeRows(count: number): QueryResultRow[] {
  return Array.from({ length: count }, (_, i): QueryResultRow => {
    const ms = Date.UTC(2024, 4, 1) + Math.floor((i * 5 * 86_400_000) / count);
    return [
      { eventTime: new Date(ms).toISOString().replace('T', ' ').replace('Z', '') },
      { eventID: `e-${String(i).padStart(6, '0')}` },
      { eventName: i % 3 === 0 ? 'ConsoleLogin' : 'AssumeRole' },
      { awsRegion: REGIONS[i % 3]! },
      { seq: String(i) },
      ...(i % 11 === 0 ? [] : [{ errorCode: i % 2 ? 'AccessDenied' : 'x/y=z%' }]),
    ];
  });
}

/** Library options for an export from the emulator, with fast retries. */
export function emulatorOptions(emulator: Emulator) {
  return { endpointUrl: emulator.url, region: 'us-east-1', retry: { retries: 3, minDelayMs: 1, maxDelayMs: 5 }, pollMinMs: 1 };
}

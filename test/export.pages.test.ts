import { mkdtemp, readFile, readdir } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../src/emulator/server.js';
import { main } from '../src/cli/main.js';
import { exportQuery } from '../src/export/export-query.js';
import { QUERY_ID, FAST_RETRY, captureIO, emulatorEnv, parseNdjson, sampleRows, withEmulator } from './support/lake.js';

const ROWS = sampleRows(2500);

function expectAllRowsInOrder(records: Array<Record<string, string | null>>) {
  expect(records).toHaveLength(2500);
  records.forEach((record, i) => expect(record.seq).toBe(String(i)));
  expect(records[0]).toEqual({
    eventTime: '2024-05-01 00:00:00.000',
    eventName: 'ConsoleLogin',
    seq: '0',
    arn: 'arn:aws:iam::123456789012:user/u0',
    arn_2: 'arn:aws:sts::123456789012:assumed-role/r0/s',
  });
}

describe('export of 2,500 rows over 3 pages', () => {
  let emulator: Emulator;
  let dir: string;
  beforeAll(async () => {
    emulator = await withEmulator({ queries: [{ queryId: QUERY_ID, rows: ROWS }] });
    dir = await mkdtemp(path.join(tmpdir(), 'ctlake-pages-'));
  });
  afterAll(() => emulator.close());

  it('writes every row once, in order, to stdout', async () => {
    const { io, stdout, stderr } = captureIO(emulatorEnv(emulator));
    const code = await main(['export', '--query-id', QUERY_ID, '--out', '-'], io);
    expect(stderr()).toMatch(/2500 rows, 3 pages, .* written to stdout/);
    expect(code).toBe(0);
    expectAllRowsInOrder(parseNdjson(stdout()));
  });

  it('asks for pages of 1000 with the NextToken chain', async () => {
    const before = emulator.requests.length;
    const { io } = captureIO(emulatorEnv(emulator));
    await main(['export', '--query-id', QUERY_ID, '--out', '-'], io);
    const pages = emulator.requests.slice(before).filter((r) => r.operation === 'GetQueryResults');
    expect(pages.map((r) => r.input.MaxQueryResults)).toEqual([1000, 1000, 1000]);
    expect(pages[0]?.input.NextToken).toBeUndefined();
    expect(pages[1]?.input.NextToken).toBeTypeOf('string');
  });

  it('writes a gzip file when the path ends in .gz, and nothing else beside it', async () => {
    const out = path.join(dir, 'results.ndjson.gz');
    const { io, stdout } = captureIO(emulatorEnv(emulator));
    expect(await main(['export', '--query-id', QUERY_ID, '--out', out], io)).toBe(0);
    expect(stdout()).toBe('');
    expectAllRowsInOrder(parseNdjson(gunzipSync(await readFile(out)).toString('utf8')));
    expect(await readdir(dir)).toEqual(['results.ndjson.gz']);
  });

  it('returns a summary from the library API, with --page-size honoured', async () => {
    const out = path.join(dir, 'nested', 'deeper', 'results.ndjson');
    const summary = await exportQuery({
      queryId: QUERY_ID,
      out,
      pageSize: 700,
      endpointUrl: emulator.url,
      region: 'us-east-1',
      retry: FAST_RETRY,
    });
    expect(summary).toMatchObject({
      queryId: QUERY_ID,
      rows: 2500,
      pages: 4,
      files: [out],
      format: 'ndjson',
      compression: 'none',
      columns: ['eventTime', 'eventName', 'seq', 'arn', 'arn_2'],
      queryStatistics: { totalResultsCount: 2500, eventsScanned: 25000 },
    });
    const text = await readFile(out, 'utf8');
    expect(summary.bytes).toBe(Buffer.byteLength(text));
    expect(summary.queryStatistics.bytesScanned).toBeGreaterThan(0);
    expectAllRowsInOrder(parseNdjson(text));
  });

  it('exports an empty result as an empty file', async () => {
    const emptyId = emulator.addQuery({ rows: [] });
    const out = path.join(dir, 'empty.ndjson');
    const summary = await exportQuery({ queryId: emptyId, out, endpointUrl: emulator.url, region: 'us-east-1' });
    expect(summary.rows).toBe(0);
    expect(await readFile(out, 'utf8')).toBe('');
  });
});

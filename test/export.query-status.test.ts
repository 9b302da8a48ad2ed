import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../src/emulator/server.js';
import { main } from '../src/cli/main.js';
import { exportQuery } from '../src/export/export-query.js';
import { isCtlakeError } from '../src/errors.js';
import { captureIO, emulatorEnv, parseNdjson, sampleRows, withEmulator } from './support/lake.js';

describe('export of a query that is not FINISHED', () => {
  let emulator: Emulator;
  let dir: string;
  beforeAll(async () => {
    emulator = await withEmulator();
    dir = await mkdtemp(path.join(tmpdir(), 'ctlake-status-'));
  });
  afterAll(() => emulator.close());

  it('waits for a QUEUED then RUNNING query and exports it once FINISHED', async () => {
    const queryId = emulator.addQuery({ rows: sampleRows(1200), statuses: ['QUEUED', 'RUNNING', 'RUNNING', 'RUNNING'] });
    const before = emulator.requests.length;
    const { io, stdout } = captureIO(emulatorEnv(emulator));
    expect(await main(['export', '--query-id', queryId, '--out', '-'], io)).toBe(0);
    expect(parseNdjson(stdout()).map((r) => r.seq)).toEqual(Array.from({ length: 1200 }, (_, i) => String(i)));
    const calls = emulator.requests.slice(before).map((r) => r.operation);
    expect(calls).toEqual(['DescribeQuery', 'DescribeQuery', 'DescribeQuery', 'DescribeQuery', 'DescribeQuery', 'GetQueryResults', 'GetQueryResults']);
  });

  it('exits 3 with the service message for a query that ends TIMED_OUT, and leaves no file', async () => {
    const queryId = emulator.addQuery({
      rows: sampleRows(10),
      statuses: ['RUNNING', 'RUNNING'],
      final: 'TIMED_OUT',
      errorMessage: 'Query exceeded the maximum run time of 3600 seconds.',
    });
    const out = path.join(dir, 'timed-out.ndjson');
    const { io, stderr } = captureIO(emulatorEnv(emulator));
    expect(await main(['export', '--query-id', queryId, '--out', out], io)).toBe(3);
    expect(stderr()).toBe(`ctlake: query ${queryId} is RUNNING; waiting\nctlake: error: query ${queryId} ended TIMED_OUT: Query exceeded the maximum run time of 3600 seconds.\n`);
    expect(await readdir(dir)).toEqual([]);
  });

  it.each([
    ['FAILED', 'QUERY_FAILED'],
    ['CANCELLED', 'QUERY_CANCELLED'],
  ] as const)('rejects a %s query with %s and its status', async (final, code) => {
    const queryId = emulator.addQuery({ rows: [], final, errorMessage: 'boom' });
    const error = await exportQuery({ queryId, out: path.join(dir, 'x.ndjson'), endpointUrl: emulator.url, region: 'us-east-1' }).catch((e: unknown) => e);
    expect(isCtlakeError(error, code)).toBe(true);
    expect(error).toMatchObject({ status: final, queryId, message: `query ${queryId} ended ${final}: boom` });
    expect(await readdir(dir)).toEqual([]);
  });

  it('refuses a result whose row count differs from TotalResultsCount, and commits nothing', async () => {
    const queryId = emulator.addQuery({ rows: sampleRows(1500), totalResultsCount: 1501 });
    const out = path.join(dir, 'short.ndjson');
    const { io, stderr } = captureIO(emulatorEnv(emulator));
    expect(await main(['export', '--query-id', queryId, '--out', out], io)).toBe(1);
    expect(stderr()).toMatch(/read 1500 rows but the service reported TotalResultsCount 1501; nothing was committed/);
    expect(await readdir(dir)).toEqual([]);
  });
});

import { mkdtemp, readdir, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../src/emulator/server.js';
import { main } from '../src/cli/main.js';
import { exportQuery } from '../src/export/export-query.js';
import { isCtlakeError } from '../src/errors.js';
import { QUERY_ID, captureIO, emulatorEnv, sampleRows, withEmulator } from './support/lake.js';

describe('an export that is interrupted', () => {
  let emulator: Emulator;
  let dir: string;
  beforeAll(async () => {
    emulator = await withEmulator({ queries: [{ queryId: QUERY_ID, rows: sampleRows(5000) }], faults: { latencyMs: 30 } });
    dir = await mkdtemp(path.join(tmpdir(), 'ctlake-interrupt-'));
  });
  afterAll(() => emulator.close());

  it('stops fetching, removes the temporary file and exits 130', async () => {
    const controller = new AbortController();
    const out = path.join(dir, 'interrupted.ndjson');
    const { io, stderr } = captureIO(emulatorEnv(emulator), { signal: controller.signal });
    const run = main(['export', '--query-id', QUERY_ID, '--out', out, '--page-size', '500'], io);
    // Abort once a page is in the temporary file.
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, 5));
      if (emulator.requests.filter((r) => r.operation === 'GetQueryResults').length >= 3) break;
    }
    controller.abort();
    expect(await run).toBe(130);
    expect(stderr()).toMatch(/export interrupted; nothing was committed/);
    expect(await readdir(dir)).toEqual([]);
    const requests = emulator.requests.length;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(emulator.requests.length).toBe(requests);
  });

  it('leaves an earlier file of the same name as it was', async () => {
    const out = path.join(dir, 'kept.ndjson');
    await writeFile(out, 'earlier\n');
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const error = await exportQuery({ queryId: QUERY_ID, out, endpointUrl: emulator.url, region: 'us-east-1', signal: controller.signal }).catch((e: unknown) => e);
    expect(isCtlakeError(error, 'INTERRUPTED')).toBe(true);
    expect(await readFile(out, 'utf8')).toBe('earlier\n');
    expect(await readdir(dir)).toEqual(['kept.ndjson']);
  });

  it('rejects at once when the signal is already aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    const before = emulator.requests.length;
    const error = await exportQuery({ queryId: QUERY_ID, out: path.join(dir, 'never.ndjson'), endpointUrl: emulator.url, region: 'us-east-1', signal: controller.signal }).catch((e: unknown) => e);
    expect(isCtlakeError(error, 'INTERRUPTED')).toBe(true);
    expect(emulator.requests.length).toBe(before);
  });
});

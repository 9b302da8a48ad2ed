import { mkdtemp, rm, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localStore, WHOLE_OBJECT_LIMIT } from '../src/destinations/store.js';
import { isCtlakeError } from '../src/errors.js';
import { runCli } from './support/cli-process.js';
import { emulatorEnv, QUERY_ID, sampleRows, withEmulator } from './support/lake.js';
import type { Emulator } from '../src/emulator/index.js';

/**
 * Hostile input: an object ctlake reads whole (a manifest, a job state, a
 * lock) that is far larger than any ctlake writes is refused from its size,
 * before a byte is read, instead of exhausting memory. The files here are
 * sparse: 300 MB that take no disk.
 */
describe('objects read whole are bounded', () => {
  let dir: string;
  let emulator: Emulator;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ctlake-whole-'));
    emulator = await withEmulator({ queries: [{ queryId: QUERY_ID, rows: sampleRows(5) }] });
  });
  afterAll(async () => {
    await emulator.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('get and getTagged refuse an object over the limit, naming it and its size', async () => {
    const file = path.join(dir, 'store', 'huge.json');
    const store = localStore(path.join(dir, 'store'));
    await store.put('huge.json', Buffer.from('{}'));
    await truncate(file, WHOLE_OBJECT_LIMIT + 1);
    for (const read of [() => store.get('huge.json'), () => store.getTagged('huge.json')]) {
      const error = await read().then(() => undefined, (e: unknown) => e);
      expect(isCtlakeError(error, 'DESTINATION_FAILED')).toBe(true);
      expect((error as Error).message).toMatch(/huge\.json.*268435457 bytes, more than ctlake reads whole/);
    }
  });

  it('an export into a dataset whose _manifest.json is 300 MB refuses it before any query, and removes nothing', async () => {
    const out = path.join(dir, 'dataset');
    const first = await runCli(['export', '--query-id', QUERY_ID, '--out', `${out}/`], emulatorEnv(emulator));
    expect(first.status).toBe(0);
    await truncate(path.join(out, '_manifest.json'), 300_000_000);
    const before = emulator.requests.length;
    const run = await runCli(['export', '--query-id', QUERY_ID, '--out', `${out}/`], emulatorEnv(emulator));
    expect(run.status).toBe(1);
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/_manifest\.json.*300000000 bytes, more than ctlake reads whole/);
    expect(emulator.requests.slice(before).map((r) => r.operation)).not.toContain('GetQueryResults');
  });
});

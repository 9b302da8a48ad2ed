import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../src/emulator/index.js';
import { runCli } from './support/cli-process.js';
import { emulatorEnv } from './support/lake.js';

/**
 * A window that fails is reported with the CLI's names for the options its
 * error names: the library says `partitionBy`, the line on stderr
 * `--partition-by` (the message is rendered from its template with the
 * command's flag table, not rewritten).
 */
describe('failed windows and slices are said in flags', () => {
  let emulator: Emulator;
  let dir: string;
  beforeAll(async () => {
    emulator = await startEmulator({ sample: 300, seed: 3 });
    dir = await mkdtemp(path.join(tmpdir(), 'ctlake-failure-lines-'));
  });
  afterAll(async () => {
    await emulator.close();
    await rm(dir, { recursive: true, force: true });
  });

  const sql = () => `SELECT eventTime, rpad('v', 300, 'x') AS longval FROM ${emulator.eventDataStoreId} WHERE eventTime >= '{{start}}' AND eventTime < '{{end}}'`;

  it('export --window: a partition value too long for a folder name fails the window, naming --partition-by', async () => {
    const run = await runCli(
      ['export', '--sql', sql(), '--window', '1d', '--since', '2024-05-01T00:00:00Z', '--now', '2024-05-02T00:00:00Z', '--out', `${path.join(dir, 'w')}/`, '--partition-by', 'longval', '--log-format', 'text'],
      emulatorEnv(emulator),
    );
    expect(run.status).toBe(1);
    const failed = run.stderr.split('\n').find((l) => l.includes('failed:'));
    expect(failed).toMatch(/^ctlake: window 2024-05-01T00:00:00Z \.\. 2024-05-02T00:00:00Z failed: .*--partition-by/);
    expect(failed).not.toMatch(/another partitionBy/);
  });

  it('backfill: the same failure in a slice names --partition-by too', async () => {
    const run = await runCli(
      ['backfill', '--sql', sql(), '--from', '2024-05-01T00:00:00Z', '--to', '2024-05-02T00:00:00Z', '--slice', '1d', '--out', `${path.join(dir, 'b')}/`, '--state', path.join(dir, 'b.json'), '--partition-by', 'longval', '--log-format', 'text'],
      emulatorEnv(emulator),
    );
    expect(run.status).toBe(1);
    const failed = run.stderr.split('\n').find((l) => l.includes('failed:'));
    expect(failed).toMatch(/slice 2024-05-01T00:00:00Z \.\. 2024-05-02T00:00:00Z failed: .*--partition-by/);
    expect(failed).not.toMatch(/another partitionBy/);
  });
});

import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { temporaryPath } from '../src/destinations/file.js';
import { startEmulator, type Emulator } from '../src/emulator/index.js';
import { runCli } from './support/cli-process.js';
import { emulatorEnv } from './support/lake.js';

/**
 * Hostile input, what a killed run leaves: a run killed (kill -9, the OOM
 * killer) while it wrote its job state or lock leaves a temporary file
 * beside the state. The next run of the job removes it once its process is
 * gone, and leaves a live process's alone.
 */
describe('temporary files beside a job state', () => {
  let emulator: Emulator;
  let dir: string;
  beforeAll(async () => {
    emulator = await startEmulator({ sample: 200, seed: 5 });
    dir = await mkdtemp(path.join(tmpdir(), 'ctlake-state-leftovers-'));
  });
  afterAll(async () => {
    await emulator.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('a killed run\u2019s temporary state file is removed by the next run; a live one stays', async () => {
    const state = path.join(dir, 'logins.json');
    // A pid that is gone: a process that has exited.
    const gone = spawnSync(process.execPath, ['-e', '0']).pid!;
    const leftover = path.basename(temporaryPath(state).replace(`.ctlake-${process.pid}-`, `.ctlake-${gone}-`));
    const live = path.basename(temporaryPath(state).replace(`.ctlake-${process.pid}-`, `.ctlake-${process.ppid}-`));
    await writeFile(path.join(dir, leftover), '{"partial":');
    await writeFile(path.join(dir, live), '{"partial":');
    const sql = `SELECT eventTime FROM ${emulator.eventDataStoreId} WHERE eventTime >= '{{start}}' AND eventTime < '{{end}}'`;
    const run = await runCli(
      ['export', '--sql', sql, '--window', '1d', '--since', '2024-05-01T00:00:00Z', '--now', '2024-05-02T00:00:00Z', '--state', state, '--out', `${path.join(dir, 'lake')}/`],
      emulatorEnv(emulator),
    );
    expect(run.status, run.stderr).toBe(0);
    const names = await readdir(dir);
    expect(names).not.toContain(leftover);
    expect(names).toContain(live);
    expect(names).toContain('logins.json');
  });
});

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ListQueriesCommand } from '@aws-sdk/client-cloudtrail';
import { startEmulator } from '../src/emulator/server.js';
import { BIN } from './support/cli-process.js';
import { emulatorClient, emulatorEnv } from './support/lake.js';

describe('SIGINT to a real ctlake process', () => {
  it('during RUNNING cancels the query it started, leaves no output, and exits 130', async () => {
    const emulator = await startEmulator({ sample: 100, runningMs: 30_000 });
    const dir = await mkdtemp(path.join(tmpdir(), 'ctlake-sigint-'));
    const child = spawn(process.execPath, [BIN, 'export', '--sql', `SELECT eventName FROM ${emulator.eventDataStoreId}`, '--out', path.join(dir, 'x.parquet')], {
      env: { PATH: process.env.PATH ?? '', ...emulatorEnv(emulator) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    while (!stderr.includes('RUNNING')) await new Promise((resolve) => setTimeout(resolve, 10));
    child.kill('SIGINT');
    const [code] = await once(child, 'exit');
    expect(code).toBe(130);
    expect(stderr).toMatch(/SIGINT: stopping/);
    expect(stderr).not.toMatch(/\n\s+at /);
    const client = emulatorClient(emulator);
    const { Queries } = await client.send(new ListQueriesCommand({ EventDataStore: emulator.eventDataStoreArn }));
    client.destroy();
    expect(Queries?.map((q) => q.QueryStatus)).toEqual(['CANCELLED']);
    expect(await readdir(dir)).toEqual([]);
    await emulator.close();
  });
});

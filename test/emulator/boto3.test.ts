import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/server.js';
import { runShell } from '../support/cli-process.js';

const SCRIPT = fileURLToPath(new URL('../support/boto3-check.py', import.meta.url));

/** A Python that has boto3: Debian's python3-boto3 lives under /usr/bin/python3 (.ci/run installs it). */
function pythonWithBoto3(): string | undefined {
  for (const python of ['/usr/bin/python3', 'python3']) {
    if (spawnSync(python, ['-c', 'import boto3'], { stdio: 'ignore' }).status === 0) return python;
  }
  return undefined;
}

const python = pythonWithBoto3();
if (!python && process.env.CI) throw new Error('boto3 is missing: .ci/run should have installed python3-boto3');

describe.skipIf(!python)('the emulator from boto3', () => {
  let emulator: Emulator;
  beforeAll(async () => {
    // Long enough that the first DescribeQuery sees QUEUED even on a loaded machine.
    emulator = await startEmulator({ sample: 1000, seed: 5, queuedMs: 300, runningMs: 300 });
  });
  afterAll(() => emulator.close());

  it('lists the store, runs a GROUP BY, pages 3 rows at a time, and raises the model errors', async () => {
    const result = await runShell(`"${python}" "${SCRIPT}" "${emulator.url}"`, {});
    expect(result.stderr).toBe('');
    const seen = JSON.parse(result.stdout) as {
      stores: string[];
      statuses: string[];
      rows: Array<Array<Record<string, string>>>;
      pages: number;
      total: number;
      bad_sql: string;
      unknown_id: string;
    };
    expect(seen.stores).toEqual([emulator.eventDataStoreArn]);
    expect(seen.statuses).toEqual(['QUEUED', 'RUNNING', 'FINISHED']);
    expect(seen.rows.length).toBe(seen.total);
    expect(seen.pages).toBe(Math.ceil(seen.total / 3));
    const counts = seen.rows.map((row) => Number(row[1]?.n));
    expect(counts.reduce((a, b) => a + b, 0)).toBe(1000);
    expect(counts).toEqual([...counts].sort((a, b) => b - a));
    expect(seen.bad_sql).toBe('InvalidQueryStatementException');
    expect(seen.unknown_id).toBe('QueryIdNotFoundException');
  });
});

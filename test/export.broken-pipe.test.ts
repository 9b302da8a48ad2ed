import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../src/emulator/server.js';
import { QUERY_ID, emulatorEnv, sampleRows, withEmulator } from './support/lake.js';
import { runShell } from './support/cli-process.js';

describe('ctlake export --out - | head -1', () => {
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await withEmulator({ queries: [{ queryId: QUERY_ID, rows: sampleRows(20_000) }] });
  });
  afterAll(() => emulator.close());

  it('prints one line and exits 0 with no stack trace', async () => {
    const result = await runShell(`{ eval "$CTLAKE" export --query-id ${QUERY_ID} --out -; echo "ctlake exit $?" >&2; } | head -1`, emulatorEnv(emulator));
    expect(result.stdout.split('\n').filter(Boolean)).toHaveLength(1);
    expect(JSON.parse(result.stdout)).toMatchObject({ seq: '0' });
    expect(result.stderr).toBe('ctlake exit 0\n');
  });
});

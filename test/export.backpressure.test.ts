import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../src/emulator/server.js';
import { createRowStream } from '../src/export/query-records.js';
import { FAST_RETRY, QUERY_ID, emulatorClient, sampleRows, withEmulator } from './support/lake.js';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the row stream', () => {
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await withEmulator({ queries: [{ queryId: QUERY_ID, rows: sampleRows(5000) }] });
  });
  afterAll(() => emulator.close());

  const pageCalls = () => emulator.requests.filter((r) => r.operation === 'GetQueryResults').length;

  it('stops fetching while its consumer is paused, at most one page ahead', async () => {
    const client = emulatorClient(emulator);
    const stream = createRowStream(client, { queryId: QUERY_ID, pageSize: 100, retry: FAST_RETRY });
    const iterator = stream[Symbol.asyncIterator]();
    const first: unknown[] = [];
    for (let i = 0; i < 10; i++) first.push((await iterator.next()).value);
    expect(first).toHaveLength(10);

    await pause(200);
    const whilePaused = pageCalls();
    // The page being read, plus one fetched ahead: no more.
    expect(whilePaused).toBeLessThanOrEqual(2);
    await pause(200);
    expect(pageCalls()).toBe(whilePaused);

    let rest = 0;
    let last: Record<string, string | null> | undefined;
    for (;;) {
      const { value, done } = await iterator.next();
      if (done) break;
      last = value as Record<string, string | null>;
      rest++;
    }
    expect(rest).toBe(4990);
    expect(last?.seq).toBe('4999');
    expect(pageCalls()).toBe(50);
    client.destroy();
  });

  it('yields flattened records in object mode', async () => {
    const client = emulatorClient(emulator);
    const stream = createRowStream(client, { queryId: QUERY_ID, pageSize: 1000, retry: FAST_RETRY });
    expect(stream.readableObjectMode).toBe(true);
    let count = 0;
    for await (const record of stream) {
      expect((record as Record<string, unknown>).seq).toBe(String(count));
      count++;
    }
    expect(count).toBe(5000);
    client.destroy();
  });
});

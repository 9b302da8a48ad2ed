import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../src/emulator/faults.js';
import type { Emulator } from '../src/emulator/server.js';
import { isCtlakeError } from '../src/errors.js';
import { exportQuery } from '../src/export/export-query.js';
import { LIST_PAGE_LIMIT, listQueryPages } from '../src/source/list-queries.js';
import { runCli } from './support/cli-process.js';
import { FAST_RETRY, emulatorClient, emulatorEnv, parseNdjson, withEmulator } from './support/lake.js';

/**
 * ListQueries chains that do not converge (`ctlake list`, and the search for
 * duplicate queries after a lost StartQuery answer), and service text with
 * control characters in `ctlake describe` and `ctlake list`.
 */
describe('ListQueries token loops: every listing ends', () => {
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await withEmulator();
    for (let i = 0; i < 3; i++) emulator.addQuery({ rows: [] });
  });
  afterEach(() => emulator.setFaults({}));
  afterAll(() => emulator.close());

  it('ListQueries token cycle: ctlake list exits 1 with one error line when a page hands back an earlier token', async () => {
    emulator.setFaults({ listTokenCycle: 2 });
    const before = emulator.requests.length;
    const result = await runCli(['list', '--event-data-store', emulator.eventDataStoreArn], emulatorEnv(emulator));
    expect(result.status).toBe(1);
    expect(result.stderr).toBe("ctlake: error: ListQueries: page 2 returned the NextToken page 0 gave; the service's chain of pages does not converge\n");
    expect(emulator.requests.slice(before).map((r) => r.operation)).toEqual(['ListQueries', 'ListQueries', 'ListQueries']);
    // What the first page listed was printed as it came, once.
    expect(result.stdout.trimEnd().split('\n')).toHaveLength(1 + 3);
  });

  it('ListQueries endless tokens: ctlake list stops after the page limit with one error line', async () => {
    emulator.setFaults({ listEndlessTokens: true });
    const before = emulator.requests.length;
    const result = await runCli(['list', '--event-data-store', emulator.eventDataStoreArn, '--json'], emulatorEnv(emulator));
    expect(result.status).toBe(1);
    expect(result.stderr).toBe(
      `ctlake: error: ListQueries: page ${LIST_PAGE_LIMIT - 1} has a NextToken after ${LIST_PAGE_LIMIT} pages, the most ctlake reads; narrow the listing with --status, --since or --until\n`,
    );
    expect(emulator.requests.slice(before)).toHaveLength(LIST_PAGE_LIMIT);
    expect(parseNdjson(result.stdout)).toHaveLength(3);
  });

  it('ListQueries token cycle of one: listQueryPages fails on a page that repeats its own token', async () => {
    emulator.setFaults({ listTokenCycle: 1 });
    const client = emulatorClient(emulator);
    const error = await (async () => {
      for await (const page of listQueryPages(client, { eventDataStore: emulator.eventDataStoreArn, retry: FAST_RETRY, maxResults: 2 })) void page;
    })().catch((e: unknown) => e);
    client.destroy();
    expect(isCtlakeError(error, 'UNEXPECTED_RESPONSE')).toBe(true);
    expect((error as Error).message).toBe("ListQueries: page 1 returned its own NextToken again; the service's chain of pages does not converge");
  });
});

describe('ListQueries token loop in the duplicate clean-up after a lost StartQuery answer', () => {
  let emulator: Emulator;
  let dir: string;
  beforeAll(async () => {
    emulator = await withEmulator({ sample: 20 });
    dir = await mkdtemp(path.join(tmpdir(), 'ctlake-hostile-list-'));
  });
  afterAll(() => emulator.close());

  it('the clean-up ends, the export completes and a warning names the loop', async () => {
    // A seed whose first draw fails StartQuery with a 5xx (the answer may have
    // started a query) and whose second lets the retry through.
    let seed = 1;
    for (; ; seed++) {
      const draw = mulberry32(seed);
      if (draw() < 0.5 && draw() >= 0.5) break;
    }
    emulator.setFaults({ serverErrorRate: 0.5, seed, operations: ['StartQuery'], listTokenCycle: 1 });
    const warnings: string[] = [];
    const out = path.join(dir, 'dup.ndjson');
    const summary = await exportQuery({
      sql: `SELECT eventName FROM ${emulator.eventDataStoreId} LIMIT 5`,
      out,
      endpointUrl: emulator.url,
      region: 'us-east-1',
      retry: FAST_RETRY,
      pollMinMs: 1,
      onWarning: (message) => warnings.push(message),
    });
    expect(summary.rows).toBe(5);
    expect(warnings).toEqual([
      "a retried StartQuery may have started a duplicate query that could not be looked for (ListQueries: page 1 returned its own NextToken again; the service's chain of pages does not converge); check ctlake list --status RUNNING",
    ]);
    expect(await readdir(dir)).toEqual(['dup.ndjson']);
  });
});

describe('service text with control characters in ctlake describe and list', () => {
  let emulator: Emulator;
  const sql = 'SELECT 1 \x1b[2J\x1b]0;pwned\x07 FROM t\nWHERE a = \u202eb\r';
  const errorMessage = 'bad \x1b[31mred\rctlake: forged line';
  let queryId: string;
  beforeAll(async () => {
    emulator = await withEmulator();
    queryId = emulator.addQuery({ rows: [], sql, final: 'FAILED', errorMessage });
  });
  afterAll(() => emulator.close());

  it('terminal escapes in SQL and ErrorMessage are printed escaped by ctlake describe', async () => {
    const result = await runCli(['describe', queryId], emulatorEnv(emulator));
    expect(result.status).toBe(0);
    expect(result.stdout).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f\u202e]/);
    expect(result.stdout).toContain('SQL              SELECT 1 \\x1b[2J\\x1b]0;pwned\\x07 FROM t\n                 WHERE a = \\u202eb\\r\n');
    expect(result.stdout).toContain('Error message    bad \\x1b[31mred\\rctlake: forged line\n');
  });

  it('terminal escapes in a listed QueryId are printed escaped by ctlake list', async () => {
    const hostile = await withEmulator();
    hostile.addQuery({ queryId: 'q\x1b[2J\x1b[1;1Hforged', rows: [] });
    const result = await runCli(['list', '--event-data-store', hostile.eventDataStoreArn], emulatorEnv(hostile));
    await hostile.close();
    expect(result.status).toBe(0);
    expect(result.stdout).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f]/);
    expect(result.stdout.split('\n')[1]).toMatch(/^q\\x1b\[2J\\x1b\[1;1Hforged +FINISHED +\d{4}-/);
  });

  it('ctlake describe --json keeps the service text exactly (JSON escapes it)', async () => {
    const result = await runCli(['describe', queryId, '--json'], emulatorEnv(emulator));
    expect(result.status).toBe(0);
    expect(result.stdout).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f]/);
    expect(JSON.parse(result.stdout)).toMatchObject({ sql, errorMessage });
  });
});

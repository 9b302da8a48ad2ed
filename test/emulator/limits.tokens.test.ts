import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { GetQueryResultsCommand, type CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { startEmulator, type Emulator } from '../../src/emulator/server.js';
import { emulatorClient, emulatorEnv, sampleRows } from '../support/lake.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const QUERY_ID = '0a1b2c3d-0000-4000-8000-00000000c0de';

/** A child process with its own SDK client reads one page with the token; prints the page's first seq, or the error name. */
const CHILD = `
import { CloudTrailClient, GetQueryResultsCommand } from '@aws-sdk/client-cloudtrail';
const client = new CloudTrailClient({ endpoint: process.env.AWS_ENDPOINT_URL_CLOUDTRAIL, maxAttempts: 1 });
try {
  const page = await client.send(new GetQueryResultsCommand({ QueryId: process.env.QID, MaxQueryResults: 10, NextToken: process.env.TOKEN }));
  console.log(page.QueryResultRows[0].find((cell) => 'seq' in cell).seq);
} catch (error) {
  console.log(error.name);
}
`;

describe('NextTokens stay good for their query across clients, connections and processes', () => {
  const started: Emulator[] = [];
  const clients: CloudTrailClient[] = [];
  afterEach(async () => {
    for (const client of clients.splice(0)) client.destroy();
    for (const emulator of started.splice(0)) await emulator.close();
  });
  async function emulatorWith(options: Parameters<typeof startEmulator>[0] = {}) {
    const emulator = await startEmulator({ queries: [{ queryId: QUERY_ID, rows: sampleRows(45) }], ...options });
    started.push(emulator);
    return emulator;
  }
  function client(emulator: Emulator): CloudTrailClient {
    const c = emulatorClient(emulator);
    clients.push(c);
    return c;
  }
  const seq = (page: { QueryResultRows?: Array<Array<Record<string, string>>> }) => page.QueryResultRows?.[0]?.find((cell) => 'seq' in cell)?.seq;
  const failure = (promise: Promise<unknown>) => promise.then(() => undefined, (e: Error) => e.name);

  it('accepts a token from one SDK client in a second, new client and in a child process', async () => {
    const emulator = await emulatorWith();
    const first = client(emulator);
    const page = await first.send(new GetQueryResultsCommand({ QueryId: QUERY_ID, MaxQueryResults: 10 }));
    const token = page.NextToken!;
    first.destroy(); // its connections go with it
    const second = client(emulator);
    expect(seq(await second.send(new GetQueryResultsCommand({ QueryId: QUERY_ID, MaxQueryResults: 10, NextToken: token })))).toBe('10');
    const child = await run(process.execPath, ['--input-type=module', '-e', CHILD], { cwd: ROOT, env: { ...process.env, ...emulatorEnv(emulator), QID: QUERY_ID, TOKEN: token } });
    expect(child.stdout.trim()).toBe('10');
  });

  it('refuses a token for another query or another page size with InvalidNextTokenException', async () => {
    const emulator = await emulatorWith();
    const other = emulator.addQuery({ rows: sampleRows(45) });
    const c = client(emulator);
    const token = (await c.send(new GetQueryResultsCommand({ QueryId: QUERY_ID, MaxQueryResults: 10 }))).NextToken!;
    expect(await failure(c.send(new GetQueryResultsCommand({ QueryId: other, MaxQueryResults: 10, NextToken: token })))).toBe('InvalidNextTokenException');
    expect(await failure(c.send(new GetQueryResultsCommand({ QueryId: QUERY_ID, MaxQueryResults: 20, NextToken: token })))).toBe('InvalidNextTokenException');
    expect(await failure(c.send(new GetQueryResultsCommand({ QueryId: QUERY_ID, MaxQueryResults: 10, NextToken: `${token}x` })))).toBe('InvalidNextTokenException');
  });

  it('accepts tokens between two emulators given the same tokenKey and the same data, and not otherwise', async () => {
    const one = await emulatorWith({ tokenKey: '00112233445566778899aabbccddeeff' });
    const two = await emulatorWith({ tokenKey: '00112233445566778899aabbccddeeff' });
    const three = await emulatorWith({ tokenKey: 'another key' });
    const four = await emulatorWith();
    const token = (await client(one).send(new GetQueryResultsCommand({ QueryId: QUERY_ID, MaxQueryResults: 10 }))).NextToken!;
    expect(seq(await client(two).send(new GetQueryResultsCommand({ QueryId: QUERY_ID, MaxQueryResults: 10, NextToken: token })))).toBe('10');
    expect(await failure(client(three).send(new GetQueryResultsCommand({ QueryId: QUERY_ID, MaxQueryResults: 10, NextToken: token })))).toBe('InvalidNextTokenException');
    expect(await failure(client(four).send(new GetQueryResultsCommand({ QueryId: QUERY_ID, MaxQueryResults: 10, NextToken: token })))).toBe('InvalidNextTokenException');
  });

  it('refuses an empty tokenKey', async () => {
    await expect(startEmulator({ tokenKey: '' })).rejects.toThrow(/tokenKey must not be empty/);
  });
});

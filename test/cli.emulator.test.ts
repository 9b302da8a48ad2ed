import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { DescribeQueryCommand, StartQueryCommand } from '@aws-sdk/client-cloudtrail';
import { BIN } from './support/cli-process.js';
import { emulatorClient, parseNdjson } from './support/lake.js';
import { main } from '../src/cli/main.js';
import { captureIO } from './support/lake.js';

describe('ctlake emulator', () => {
  it('prints its endpoint and ARN, serves SQL to the export command, and stops on SIGTERM with exit 0', async () => {
    const child = spawn(process.execPath, [BIN, 'emulator', '--port', '0', '--sample', '300', '--seed', '2', '--queued-time', '500ms'], {
      env: { PATH: process.env.PATH ?? '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines = createInterface({ input: child.stdout });
    const header: Record<string, string> = {};
    for await (const line of lines) {
      const [key, value] = line.split(/\s+/);
      header[key!] = value!;
      if (key === 'events') break;
    }
    expect(header.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(header.eventDataStore).toMatch(/^arn:aws:cloudtrail:us-east-1:123456789012:eventdatastore\//);
    expect(header.events).toBe('300');

    const emulator = { url: header.endpoint! } as Parameters<typeof emulatorClient>[0];
    const client = emulatorClient(emulator);
    const { QueryId } = await client.send(new StartQueryCommand({ QueryStatement: `SELECT eventName, eventTime FROM ${header.eventDataStore} ORDER BY eventTime LIMIT 42` }));
    expect((await client.send(new DescribeQueryCommand({ QueryId }))).QueryStatus).toBe('QUEUED');
    client.destroy();

    const { io, stdout } = captureIO({ AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL_CLOUDTRAIL: header.endpoint });
    expect(await main(['export', '--query-id', QueryId!, '--out', '-'], io)).toBe(0);
    const rows = parseNdjson(stdout());
    expect(rows).toHaveLength(42);
    expect(rows[0]?.eventTime).toMatch(/^2024-05-01 \d\d:\d\d:\d\d\.000$/);

    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
  });

  it('refuses a bad flag value with exit 2', async () => {
    const { io, stderr } = captureIO({});
    expect(await main(['emulator', '--sample', 'lots'], io)).toBe(2);
    expect(stderr()).toBe("ctlake: error: --sample must be a whole number from 0 to 100000000, not 'lots'\n");
  });

  it('writes its lines as JSON with --log-format json, and refuses another format', async () => {
    const controller = new AbortController();
    const { io, stdout, stderr } = captureIO({}, { signal: controller.signal });
    const running = main(['emulator', '--sample', '5', '--log-format', 'json'], io);
    while (!stderr().includes('\n')) await new Promise((resolve) => setTimeout(resolve, 10));
    controller.abort();
    expect(await running).toBe(0);
    expect(stdout()).toMatch(/^endpoint {8}http:\/\/127\.0\.0\.1:\d+\n/);
    const lines = stderr().trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines).toMatchObject([
      { level: 'info', event: 'emulator-ready', endpoint: expect.stringMatching(/^http:\/\/127\.0\.0\.1:/), events: 5 },
      { level: 'info', event: 'emulator-stopped' },
    ]);

    const bad = captureIO({});
    expect(await main(['emulator', '--log-format', 'xml'], bad.io)).toBe(2);
    expect(bad.stderr()).toBe("ctlake: error: --log-format must be text, json, not 'xml'\n");
  });
});

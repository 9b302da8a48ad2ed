import { PassThrough } from 'node:stream';
import { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { startEmulator, type Emulator, type EmulatorOptions } from '../../src/emulator/server.js';
import type { QueryResultRow } from '../../src/rows/flatten-row.js';
import type { CliIO } from '../../src/cli/main.js';

export const QUERY_ID = '0a1b2c3d-0000-4000-8000-123456789abc';

/** Backoff fast enough for tests, still going through p-retry. */
export const FAST_RETRY = { retries: 6, minDelayMs: 1, maxDelayMs: 5 };

/** Environment for a process or client that talks to the emulator: dummy credentials, no real AWS. */
export function emulatorEnv(emulator: Emulator): Record<string, string> {
  return {
    AWS_ACCESS_KEY_ID: 'AKIDEMULATOR',
    AWS_SECRET_ACCESS_KEY: 'emulator-secret',
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL_CLOUDTRAIL: emulator.url,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    CTLAKE_LOG_FORMAT: 'text',
    AWS_CONFIG_FILE: '/nonexistent',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
  };
}

/** The real SDK client against the emulator, its own retry off as ctlake's is. */
export function emulatorClient(emulator: Emulator): CloudTrailClient {
  return new CloudTrailClient({
    endpoint: emulator.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDEMULATOR', secretAccessKey: 'emulator-secret' },
    maxAttempts: 1,
  });
}

/** CloudTrail-like rows with a sequence number, so order and uniqueness can be checked. */
export function sampleRows(count: number): QueryResultRow[] {
  return Array.from({ length: count }, (_, i): QueryResultRow => [
    { eventTime: `2024-05-01 00:${String(Math.floor(i / 60) % 60).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}.000` },
    { eventName: i % 3 === 0 ? 'ConsoleLogin' : 'AssumeRole' },
    { seq: String(i) },
    { arn: `arn:aws:iam::123456789012:user/u${i % 7}` },
    { arn: `arn:aws:sts::123456789012:assumed-role/r${i % 5}/s` },
  ]);
}

export async function withEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  return startEmulator(options);
}

/** An in-process CliIO with captured stdout and stderr. */
export function captureIO(env: Record<string, string | undefined>, extra: Partial<CliIO> = {}) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on('data', (c: Buffer) => out.push(c));
  stderr.on('data', (c: Buffer) => err.push(c));
  const io: CliIO = { stdout, stderr, env: { CTLAKE_LOG_FORMAT: 'text', ...env }, retry: FAST_RETRY, pollMinMs: 1, ...extra };
  return { io, stdout: () => Buffer.concat(out).toString('utf8'), stderr: () => Buffer.concat(err).toString('utf8') };
}

export function parseNdjson(text: string): Array<Record<string, string | null>> {
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, string | null>);
}

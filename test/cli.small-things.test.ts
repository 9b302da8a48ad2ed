import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../src/emulator/server.js';
import { main } from '../src/cli/main.js';
import { BIN, runCli } from './support/cli-process.js';
import { QUERY_ID, captureIO, emulatorEnv, sampleRows, withEmulator } from './support/lake.js';

/** What a person sees on a terminal: the command run under `script`, so that its stdout and stderr are a real pseudo-terminal. */
function onTerminal(args: string[], env: Record<string, string>): Promise<{ status: number | null; screen: string }> {
  const quote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;
  const line = [process.execPath, BIN, ...args].map(quote).join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qfec', line, '/dev/null'], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => out.push(chunk));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, screen: Buffer.concat(out).toString('utf8').replace(/\r\n/g, '\n') }));
  });
}

describe('small things a careful user notices', () => {
  let emulator: Emulator;
  let env: Record<string, string>;
  let dir: string;
  const COSTED = '0a1b2c3d-0000-4000-8000-00000000c057';
  const FREE = '0a1b2c3d-0000-4000-8000-00000000f4ee';
  beforeAll(async () => {
    emulator = await withEmulator({
      queries: [
        { queryId: QUERY_ID, rows: sampleRows(3) },
        { queryId: COSTED, rows: sampleRows(2), bytesScanned: 6_407_107 },
        { queryId: FREE, rows: sampleRows(1), bytesScanned: 0 },
      ],
    });
    env = emulatorEnv(emulator);
    dir = await mkdtemp(path.join(tmpdir(), 'ctlake-small-'));
  });
  afterAll(async () => {
    await emulator.close();
    await rm(dir, { recursive: true, force: true });
  });

  describe('binary data and a terminal', () => {
    it('refuses Parquet to stdout on a terminal with a one-line hint, exit 2, before any request', async () => {
      const before = emulator.requests.length;
      const { status, screen } = await onTerminal(['export', '--query-id', QUERY_ID, '--out', '-', '--format', 'parquet'], env);
      expect(status).toBe(2);
      expect(screen).toBe('ctlake: error: Parquet data not written to a terminal; use --out FILE, or pipe stdout to a program (--out - | ...)\n');
      expect(emulator.requests.length).toBe(before);
    });

    it("refuses gzip'd NDJSON to stdout on a terminal too", async () => {
      const { status, screen } = await onTerminal(['export', '--query-id', QUERY_ID, '--out', '-', '--compression', 'gzip'], env);
      expect(status).toBe(2);
      expect(screen).toBe('ctlake: error: gzip-compressed data not written to a terminal; use --out FILE, or pipe stdout to a program (--out - | ...)\n');
    });

    it('writes plain NDJSON to a terminal', async () => {
      const { status, screen } = await onTerminal(['export', '--query-id', QUERY_ID, '--out', '-', '--quiet'], env);
      expect(status).toBe(0);
      expect(screen.split('\n').filter((l) => l.startsWith('{')).map((l) => (JSON.parse(l) as { seq: string }).seq)).toEqual(['0', '1', '2']);
    });

    it('writes Parquet to stdout that is a pipe, and to a file from a terminal', async () => {
      const piped = await runShellBytes(env);
      expect(piped.status).toBe(0);
      expect(piped.head).toBe('PAR1');
      const file = path.join(dir, 'from-terminal.parquet');
      const { status } = await onTerminal(['export', '--query-id', QUERY_ID, '--out', file, '--quiet'], env);
      expect(status).toBe(0);
      expect((await readFile(file)).subarray(0, 4).toString('latin1')).toBe('PAR1');
    });

    it('refuses in-process too, when the io says stdout is a terminal', async () => {
      const stdout = Object.assign(new PassThrough(), { isTTY: true });
      const { io, stderr } = captureIO(env, { stdout });
      expect(await main(['export', '--query-id', QUERY_ID, '--out', '-', '--format', 'parquet'], io)).toBe(2);
      expect(stderr()).toMatch(/^ctlake: error: Parquet data not written to a terminal; /);
    });
  });

  describe("the summary's cost", () => {
    it('has no float noise and does not read $0.0000 for a query that scanned bytes', async () => {
      const summaryFile = path.join(dir, 'summary.json');
      const result = await runCli(['export', '--query-id', COSTED, '--out', path.join(dir, 'costed.ndjson'), '--summary-json', summaryFile], env);
      expect(result.status).toBe(0);
      expect(result.stderr).toMatch(/query scanned 6\.1 MiB \(\d+ events\), about \$0\.000032 at \$0\.005\/GB\n$/);
      const text = await readFile(summaryFile, 'utf8');
      expect(text).toContain('"estimatedCostUsd": 0.000032035535');
      expect(text).not.toMatch(/0\.0000320355350+\d/);
      expect((JSON.parse(text) as { estimatedCostUsd: number }).estimatedCostUsd).toBe(0.000032035535);
    });

    it('reads $0.00 for a query that scanned nothing, and cents at a higher price', async () => {
      const free = await runCli(['export', '--query-id', FREE, '--out', path.join(dir, 'free.ndjson')], env);
      expect(free.stderr).toMatch(/about \$0\.00 at \$0\.005\/GB\n$/);
      const dear = await runCli(['export', '--query-id', COSTED, '--out', path.join(dir, 'dear.ndjson'), '--price-per-gb', '5000'], env);
      expect(dear.stderr).toMatch(/about \$32\.04 at \$5000\/GB\n$/);
    });
  });
});

/** `ctlake export --format parquet --out -` into a pipe: its exit status and first four bytes. */
function runShellBytes(env: Record<string, string>): Promise<{ status: number | null; head: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'export', '--query-id', QUERY_ID, '--out', '-', '--format', 'parquet', '--quiet'], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const out: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, head: Buffer.concat(out).subarray(0, 4).toString('latin1') }));
  });
}

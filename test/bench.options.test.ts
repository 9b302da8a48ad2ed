import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The options of `npm run bench` (bench/options.mjs), parsed in a child Node
 * (the bench is plain .mjs, outside the typed sources). Only the parsing:
 * nothing here starts an emulator or measures anything.
 */
const REPO = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const OPTIONS = path.join(REPO, 'bench', 'options.mjs');

function readOptions(args: string[]): Record<string, unknown> | undefined {
  const script = `const { readOptions } = await import(${JSON.stringify(OPTIONS)}); process.stdout.write(JSON.stringify(readOptions(${JSON.stringify(args)}) ?? null));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  return (JSON.parse(out) as Record<string, unknown> | null) ?? undefined;
}

function refused(args: string[]): { status: number | null; stderr: string } {
  const { status, stderr } = spawnSync(process.execPath, [path.join(REPO, 'bench', 'run.mjs'), ...args], { encoding: 'utf8' });
  return { status, stderr };
}

describe('npm run bench options', () => {
  it('runs the exports, the delivery pair and both floors by default, at 0 and 100 ms per page, and not the migrate case', () => {
    const options = readOptions([]);
    expect(options).toMatchObject({ cases: ['raw', 'floor', 'ndjson', 'ndjson.gz', 'parquet', 'paged', 'delivery'], latencies: [0, 100], rows: 1_000_000, repeat: 1 });
    expect(options?.migrate).toBeUndefined();
  });

  it('runs the delivery case with its paged pair and both floors when --cases names delivery', () => {
    expect(readOptions(['--cases', 'delivery'])).toMatchObject({ cases: ['raw', 'floor', 'paged', 'delivery'] });
    expect(readOptions(['--cases', 'parquet,delivery', '--latency', '0,250,250'])).toMatchObject({ cases: ['raw', 'floor', 'parquet', 'paged', 'delivery'], latencies: [0, 250] });
  });

  it('accepts the floors by name in --cases without running them twice', () => {
    expect(readOptions(['--cases', 'raw,floor,ndjson'])).toMatchObject({ cases: ['raw', 'floor', 'ndjson'] });
    expect(readOptions(['--cases', 'raw'])).toMatchObject({ cases: [] });
  });

  it('runs the migrate case alone with --cases migrate, with its defaults', () => {
    expect(readOptions(['--cases', 'migrate'])).toMatchObject({
      cases: [],
      migrate: { latencyMs: 200, events: 200_000, sliceEvents: 10_000, concurrencies: [1, 10] },
    });
  });

  it('adds the migrate case to the exports with --migrate, and takes its settings', () => {
    const options = readOptions(['--migrate', '--cases', 'parquet', '--migrate-latency', '250', '--migrate-events', '50_000', '--migrate-slice-events', '2000', '--migrate-concurrency', '2,4,4']);
    expect(options).toMatchObject({ cases: ['raw', 'floor', 'parquet'], migrate: { latencyMs: 250, events: 50_000, sliceEvents: 2000, concurrencies: [2, 4] } });
  });

  it('refuses bad values with exit 2 and the option named', () => {
    expect(refused(['--cases', 'migrate,csv'])).toMatchObject({ status: 2, stderr: expect.stringContaining('--cases takes ndjson, ndjson.gz, parquet, delivery, migrate; not "csv"') });
    expect(refused(['--cases', 'paged'])).toMatchObject({ status: 2, stderr: expect.stringContaining('not "paged"') });
    expect(refused(['--cases', 'migrate', '--migrate-latency', '0'])).toMatchObject({ status: 2, stderr: expect.stringContaining('--migrate-latency') });
    expect(refused(['--cases', 'migrate', '--migrate-concurrency', '1,11'])).toMatchObject({ status: 2, stderr: expect.stringContaining('--migrate-concurrency takes whole numbers from 1 to 10, not "11"') });
    expect(refused(['--cases', 'migrate', '--migrate-events', 'many'])).toMatchObject({ status: 2, stderr: expect.stringContaining('--migrate-events') });
  });

  it('lists the migrate options, the delivery case and the latency default in --help', () => {
    const { status, stdout } = spawnSync(process.execPath, [path.join(REPO, 'bench', 'run.mjs'), '--help'], { encoding: 'utf8' });
    expect(status).toBe(0);
    expect(stdout).toContain('(default 0,100)');
    expect(stdout).toContain('ndjson,ndjson.gz,parquet,delivery,migrate');
    for (const flag of ['--migrate ', '--migrate-latency MS', '--migrate-events N', '--migrate-slice-events N', '--migrate-concurrency LIST']) expect(stdout).toContain(flag);
  });
});

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { HEAP_GROWING_PERCENT, tuneHeapGrowth } from '../src/cli/heap-growth.js';

/**
 * The ctlake process's heap growing factor (src/cli/heap-growth.ts), in real
 * Node processes: the same garbage-heavy loop (objects that live long enough
 * to be promoted, then die, over a live set of a few MB, as pages in flight
 * do) grows V8's heap less with the factor set at run time than with V8's
 * default, and a --heap-growing-percent given to node itself is left alone.
 */
const MODULE = fileURLToPath(new URL('../dist/cli/heap-growth.js', import.meta.url));
const LOOP = `
const { tuneHeapGrowth } = await import(${JSON.stringify(MODULE)});
const applied = process.argv[1] === 'tuned' ? tuneHeapGrowth(process.execArgv) : false;
const ring = new Array(64).fill(null);
let max = 0;
for (let i = 0; i < 20000; i++) {
  const chunk = [];
  for (let j = 0; j < 1000; j++) chunk.push({ a: j, b: 'x' + j, c: [j, j] });
  ring[i & 63] = chunk;
  if ((i & 63) === 0) max = Math.max(max, process.memoryUsage().heapTotal);
}
process.stdout.write(JSON.stringify({ applied, maxHeapMiB: max / 2 ** 20 }));
`;

async function run(mode: 'tuned' | 'default', nodeArgs: string[] = []): Promise<{ applied: boolean; maxHeapMiB: number }> {
  const { stdout } = await promisify(execFile)(process.execPath, [...nodeArgs, '--input-type=module', '-e', LOOP, mode]);
  return JSON.parse(stdout) as { applied: boolean; maxHeapMiB: number };
}

describe('the ctlake process heap growing factor', () => {
  it('keeps the heap smaller than V8 default does under garbage that gets promoted', async () => {
    const [tuned, plain] = await Promise.all([run('tuned'), run('default')]);
    expect(tuned.applied).toBe(true);
    expect(plain.applied).toBe(false);
    // Measured 74 against 99 MiB on Node 20.
    expect(tuned.maxHeapMiB).toBeLessThan(plain.maxHeapMiB * 0.9);
  }, 60_000);

  it('leaves a --heap-growing-percent given to node alone, and the emulator command', async () => {
    const given = await run('tuned', ['--heap-growing-percent=300']);
    expect(given.applied).toBe(false);
    expect(tuneHeapGrowth(['--heap_growing_percent=50'])).toBe(false);
    expect(tuneHeapGrowth(['--heap-growing-percent'])).toBe(false);
    // Nor for `ctlake emulator`, whose heap is mostly live.
    expect(tuneHeapGrowth([], 'emulator')).toBe(false);
    expect(HEAP_GROWING_PERCENT).toBe(100);
  }, 60_000);
});

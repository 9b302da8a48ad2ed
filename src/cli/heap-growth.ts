import { setFlagsFromString } from 'node:v8';

/**
 * V8's heap growing factor for the `ctlake` process: after each full
 * collection the old generation may grow to twice what survived it, where
 * V8's own choice goes up to four times on a machine with memory to spare.
 *
 * Why: an export's live heap is about 20 MB at any size (no rows are kept),
 * but at full speed every page in flight is garbage a moment later, and with
 * V8's default the old generation, and the peak RSS with it, kept growing
 * with the run: `npm run bench` at 0 ms per page measured NDJSON at 179 MB
 * for 100,000 rows and 258 MB for 1,000,000, Parquet at 240 and 297 MB. A
 * factor of 2 alone took the 1M-row peaks from 231 and 238 MiB to 189 and
 * 191 for NDJSON, from 279 and 295 to 250 and 255 for Parquet, for no CPU
 * time the runs could tell from noise (see bench/README.md). A smaller
 * factor bought little more memory for a lot of CPU: 1.1 held NDJSON at
 * 170 MB but cost about 50% more CPU in collections.
 *
 * Not for `ctlake emulator`: its heap is mostly live (the events, and the
 * results it keeps for 7 days), where a smaller factor only means more full
 * collections of a large heap.
 *
 * Set at start-up, before the first allocation that counts. V8 reads the
 * flag each time it sizes the heap, so setting it at run time is effective
 * (Node leaves its flags unfrozen for v8.setFlagsFromString). A
 * `--heap-growing-percent` given to node itself wins. The library sets
 * nothing: a program that embeds it owns its process, and can pass
 * `--heap-growing-percent=100` to node for the same bound.
 */
export const HEAP_GROWING_PERCENT = 100;

/**
 * Applies HEAP_GROWING_PERCENT unless node's own arguments (`execArgv`) set
 * the flag or the command (the first argument of `ctlake`) is `emulator`.
 * Returns whether it did.
 */
export function tuneHeapGrowth(execArgv: readonly string[], command?: string): boolean {
  if (command === 'emulator') return false;
  if (execArgv.some((arg) => /^--heap[-_]growing[-_]percent(=|$)/.test(arg))) return false;
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  return true;
}

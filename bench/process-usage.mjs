// Preloaded into a process the bench measures but does not write itself:
// `node --import ./bench/process-usage.mjs dist/cli/bin.js migrate ...`, so
// that ctlake runs exactly as a user runs it, and its CPU and peak RSS are
// still read the way bench/case.mjs reads them, from inside the process.
//
// Contract: when the process exits (process.exit() or the event loop going
// empty; not SIGKILL), it writes one JSON object to the file named by the
// environment variable CTLAKE_BENCH_USAGE_FILE:
//   { cpuUserMs, cpuSystemMs, maxRssKiB, uptimeMs }
// CPU is process.cpuUsage() over the process's whole life (start-up included,
// every thread), maxRssKiB is process.resourceUsage().maxRSS (the peak of the
// process over its whole life). The variable is removed from the environment
// at once, so that nothing the process starts writes over the file.
import { writeFileSync } from 'node:fs';

const file = process.env.CTLAKE_BENCH_USAGE_FILE;
delete process.env.CTLAKE_BENCH_USAGE_FILE;
if (file) {
  process.once('exit', () => {
    const cpu = process.cpuUsage();
    const usage = {
      cpuUserMs: Math.round(cpu.user / 1000),
      cpuSystemMs: Math.round(cpu.system / 1000),
      maxRssKiB: process.resourceUsage().maxRSS,
      uptimeMs: Math.round(process.uptime() * 1000),
    };
    writeFileSync(file, JSON.stringify(usage) + '\n');
  });
}

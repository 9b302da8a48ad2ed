// The options of `npm run bench` (bench/run.mjs): the usage text and the
// parser, in a module of their own so that a test can check the parsing
// without starting anything.
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CASES, FLOORS } from './results-table.mjs';

/**
 * The export cases, as --cases names them. The floors (raw and floor) are
 * not among them: they run with any export. Nor is paged: it is delivery's
 * pair (the same SQL through pages) and runs when delivery does.
 */
const EXPORT_CASES = CASES.filter((c) => !FLOORS.includes(c) && c !== 'paged');

export const USAGE = `usage: npm run bench -- [options]

  --rows N                    rows to export (default 1000000); the memory check also exports a tenth of them
  --small-rows N              rows of the memory check's smaller export (default rows / 10)
  --distinct-rows N           sample events behind the rows; the result cycles through them (default 100000)
  --latency LIST              delays per GetQueryResults page, in ms, comma-separated (default 0,100)
  --repeat N                  runs of each case; the median wall time is reported (default 1)
  --cases LIST                cases to run, of ndjson,ndjson.gz,parquet,delivery,migrate (default ndjson,ndjson.gz,parquet,delivery);
                              the raw and SDK floors run with any export; delivery brings its pair, paged (the same
                              SQL through pages), both over the --distinct-rows events; migrate runs only when named
  --migrate                   the same as adding migrate to --cases
  --migrate-latency MS        the migrate emulator's delay before every answer (default 200)
  --migrate-events N          sample events in its store, over 40 uneven days (default 200000)
  --migrate-slice-events N    ctlake migrate --slice-events (default 10000: about 31 slices of 200,000 events)
  --migrate-concurrency LIST  ctlake migrate --concurrency of each run, comma-separated (default 1,10)
  --quiet-wait S              before each case, wait up to S seconds for other processes to leave the CPUs idle (default 120; 0: do not wait)
  --cpu-prof DIR              write V8 CPU profiles of every case into DIR/CASE-LATENCY-ROWS-RUN/, one per thread
  --no-save                   do not write bench/results/*.json
  -h, --help                  this text

The table goes to stdout, progress to stderr.`;

function positiveInteger(name, text) {
  const value = Number(String(text).replace(/[_,]/g, ''));
  if (!Number.isInteger(value) || value < 1) throw new TypeError(`--${name} must be a whole number of at least 1, not ${JSON.stringify(text)}`);
  return value;
}

/** The options, resolved and checked; undefined for --help. A bad value is a TypeError naming the option. */
export function readOptions(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      rows: { type: 'string', default: '1000000' },
      'small-rows': { type: 'string' },
      'distinct-rows': { type: 'string', default: '100000' },
      latency: { type: 'string', default: '0,100' },
      repeat: { type: 'string', default: '1' },
      cases: { type: 'string', default: EXPORT_CASES.join(',') },
      migrate: { type: 'boolean', default: false },
      'migrate-latency': { type: 'string', default: '200' },
      'migrate-events': { type: 'string', default: '200000' },
      'migrate-slice-events': { type: 'string', default: '10000' },
      'migrate-concurrency': { type: 'string', default: '1,10' },
      'quiet-wait': { type: 'string', default: '120' },
      'cpu-prof': { type: 'string' },
      'no-save': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return undefined;
  const rows = positiveInteger('rows', values.rows);
  const latencies = values.latency.split(',').map((text) => {
    const ms = Number(text);
    if (!Number.isInteger(ms) || ms < 0) throw new TypeError(`--latency takes whole milliseconds of 0 or more, not ${JSON.stringify(text)}`);
    return ms;
  });
  const named = values.cases.split(',').filter((c) => !FLOORS.includes(c));
  const unknown = named.filter((c) => !EXPORT_CASES.includes(c) && c !== 'migrate');
  if (unknown.length) throw new TypeError(`--cases takes ${[...EXPORT_CASES, 'migrate'].join(', ')}; not ${JSON.stringify(unknown.join(','))}`);
  const exports = EXPORT_CASES.filter((c) => named.includes(c));
  const concurrencies = values['migrate-concurrency'].split(',').map((text) => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1 || n > 10) throw new TypeError(`--migrate-concurrency takes whole numbers from 1 to 10, not ${JSON.stringify(text)}`);
    return n;
  });
  const migrateLatency = Number(values['migrate-latency']);
  if (!Number.isInteger(migrateLatency) || migrateLatency < 1) throw new TypeError(`--migrate-latency takes whole milliseconds of at least 1, not ${JSON.stringify(values['migrate-latency'])}`);
  return {
    rows,
    smallRows: values['small-rows'] ? positiveInteger('small-rows', values['small-rows']) : Math.max(1, Math.round(rows / 10)),
    distinctRows: Math.min(rows, positiveInteger('distinct-rows', values['distinct-rows'])),
    latencies: [...new Set(latencies)],
    repeat: positiveInteger('repeat', values.repeat),
    // The floors are what the exports are measured against: they run with them, and only with them.
    cases: exports.length ? [...FLOORS, ...exports.flatMap((c) => (c === 'delivery' ? ['paged', 'delivery'] : [c]))] : [],
    migrate:
      values.migrate || named.includes('migrate')
        ? {
            latencyMs: migrateLatency,
            events: positiveInteger('migrate-events', values['migrate-events']),
            sliceEvents: positiveInteger('migrate-slice-events', values['migrate-slice-events']),
            concurrencies: [...new Set(concurrencies)],
          }
        : undefined,
    quietWaitMs: values['quiet-wait'] === '0' ? 0 : positiveInteger('quiet-wait', values['quiet-wait']) * 1000,
    cpuProfDir: values['cpu-prof'] ? path.resolve(values['cpu-prof']) : undefined,
    save: !values['no-save'],
  };
}

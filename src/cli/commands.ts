import type { CliIO } from './cli-io.js';
import type { CommandSpec } from './flag-table.js';

/**
 * The commands of `ctlake`, in the order the main `--help` lists them. Each
 * is loaded only when it runs (`load`), so that `ctlake --help`,
 * `ctlake --version` and a usage error load no AWS SDK, no Parquet writer
 * and no emulator: this module imports nothing but types.
 * Model: unjs/citty's lazy `subCommands`.
 */

/** A command: `args` are the words after its name; resolves with the exit code, never exits. */
export type CommandRun = (args: string[], io: CliIO, say: (line: string) => void) => Promise<number>;

export interface CommandEntry {
  name: string;
  /** Its line in the main `--help`. */
  summary: string;
  load: () => Promise<CommandRun>;
  /**
   * The command's flag table, for naming library options by their flags in
   * an error (main.ts). Loaded only once the command has run and failed,
   * from a module it has loaded already. None: options are named `--` and
   * kebab-case.
   */
  table?: (() => Promise<CommandSpec>) | undefined;
}

export const COMMANDS: readonly CommandEntry[] = [
  {
    name: 'export',
    summary: 'Export every row of a query to NDJSON or Parquet: stdout, a file, S3, or a partitioned dataset; --window for scheduled runs',
    load: () => import('./export-command.js').then((m) => m.exportCommand),
    table: () => import('./export-table.js').then((m) => m.EXPORT_SPEC),
  },
  {
    name: 'list',
    summary: 'List the queries of the last 7 days (filter by status and time)',
    load: () => import('./query-commands.js').then((m) => m.listCommand),
    table: () => import('./query-specs.js').then((m) => m.LIST_SPEC),
  },
  {
    name: 'describe',
    summary: "Show a query's status, SQL and statistics (BytesScanned, the billed bytes)",
    load: () => import('./query-commands.js').then((m) => m.describeCommand),
    table: () => import('./query-specs.js').then((m) => m.DESCRIBE_SPEC),
  },
  {
    name: 'cancel',
    summary: 'Cancel a QUEUED or RUNNING query',
    load: () => import('./query-commands.js').then((m) => m.cancelCommand),
    table: () => import('./query-specs.js').then((m) => m.CANCEL_SPEC),
  },
  {
    name: 'backfill',
    summary: 'Export a time range as parallel, resumable time-sliced queries',
    load: () => import('./job-commands.js').then((m) => m.backfillCommand),
    table: () => import('./export-table.js').then((m) => m.BACKFILL_SPEC),
  },
  {
    name: 'migrate',
    summary: 'Move a whole event data store: plan, rate limits, resumable slices, reconciliation',
    load: () => import('./migrate-command.js').then((m) => m.migrateCommand),
    table: () => import('./migrate-table.js').then((m) => m.MIGRATE_SPEC),
  },
  {
    name: 'verify',
    summary: 'Check a dataset against its _manifest.json (files, sizes, SHA-256, rows)',
    load: () => import('./verify-command.js').then((m) => m.verifyCommand),
    table: () => import('./verify-command.js').then((m) => m.VERIFY_SPEC),
  },
  {
    name: 'emulator',
    summary: 'Run a local CloudTrail Lake (real SQL on sample or your own events)',
    load: () => import('./emulator-command.js').then((m) => m.emulatorCommand),
    table: () => import('./emulator-command.js').then((m) => m.EMULATOR_SPEC),
  },
];

/** The command named `name`; undefined for an unknown one (and for `constructor`, `__proto__` and the like). */
export function findCommand(name: string): CommandEntry | undefined {
  return COMMANDS.find((c) => c.name === name);
}

/** After the commands in the main `--help`. */
export const MAIN_FOOTER = `Run 'ctlake <command> --help' or 'ctlake help <command>' for its options.
Exit codes: 0 success, 1 failure, 2 usage error, 3 the query ended FAILED,
CANCELLED or TIMED_OUT, 4 cancel of a query that had already ended,
5 verify found a dataset that does not match its manifest, 6 nothing to do,
7 some windows or slices failed, 8 another run holds the lock, 130 interrupted.`;

import type { ManifestDelivery } from '../dataset/manifest.js';
import type { Compression, OutputFormat } from './export-options.js';
import type { ExportRun } from './export-run.js';
import type { ColumnSchema } from '../rows/schema.js';
import type { ManifestExport } from '../dataset/manifest.js';

export interface QueryStatisticsSummary {
  /** GetQueryResults' TotalResultsCount. */
  totalResultsCount: number | undefined;
  /** DescribeQuery's BytesScanned: the bytes billed. */
  bytesScanned: number | undefined;
  eventsScanned: number | undefined;
  eventsMatched: number | undefined;
  executionTimeInMillis: number | undefined;
  creationTime: Date | undefined;
}

export interface ExportSummary {
  queryId: string;
  /** The SQL, as DescribeQuery reports it. */
  sql: string | undefined;
  /** Whether ctlake started the query (`sql`) rather than exporting an existing one. */
  startedQuery: boolean;
  /** Rows written; equals totalResultsCount when the service reported one. */
  rows: number;
  pages: number;
  columns: string[];
  /** Bytes written to the destination, after compression. */
  bytes: number;
  /**
   * Files committed (none for stdout): a path, an s3:// URL, a caller's
   * destination's `location`, or a dataset's data files in full (its
   * store's `root` followed by each path).
   */
  files: string[];
  /** For a dataset: its root, and this export's entry in its manifest (files with rows, bytes, SHA-256). */
  dataset?: { root: string; export: ManifestExport } | undefined;
  format: OutputFormat;
  compression: Compression;
  /** The Parquet file's schema (source column, file name, type); for NDJSON, undefined. */
  schema: ColumnSchema[] | undefined;
  /** With deliveryS3Uri: Lake's delivery, verified (its folder, files, SHA-256, signature, key), and whether the rows came from it or it was cross-checked. */
  delivery: ManifestDelivery | undefined;
  durationMs: number;
  queryStatistics: QueryStatisticsSummary;
}

/** Step 6, after a commit: what the run wrote, from the run's tally and its committed files. */
export function summarize(run: ExportRun, queryId: string): ExportSummary {
  const { options, tally } = run;
  const { files, entry } = run.dataset;
  const store = run.store;
  const stats = tally.description?.QueryStatistics;
  const stdout = options.sink.kind === 'out' && options.sink.target.kind === 'stdout';
  return {
    queryId,
    sql: tally.description?.QueryString ?? options.sql,
    startedQuery: run.startedId !== undefined,
    rows: tally.rows,
    pages: tally.pages,
    columns: [...tally.columns],
    bytes: files ? files.reduce((n, f) => n + f.bytes, 0) : run.destination!.bytesWritten(),
    files: files ? files.map((f) => store!.root + f.path) : stdout ? [] : [run.destination!.location],
    dataset: store && entry ? { root: store.root, export: entry } : undefined,
    format: options.format,
    compression: options.compression,
    schema: run.schema,
    delivery: run.delivery,
    durationMs: Math.round(performance.now() - run.startedMs),
    queryStatistics: {
      totalResultsCount: tally.totalResultsCount,
      bytesScanned: stats?.BytesScanned ?? tally.bytesScanned,
      eventsScanned: stats?.EventsScanned,
      eventsMatched: stats?.EventsMatched,
      executionTimeInMillis: stats?.ExecutionTimeInMillis,
      creationTime: stats?.CreationTime,
    },
  };
}

/** A query's cost estimate: exact, as a number, and as a line says it. */
export interface QueryCost {
  /** Dollars as an exact decimal string (`0.000032035535`): BytesScanned × price / 10^9, no rounding. */
  exact: string;
  /** `exact` as a number, for JSON: the double nearest to it, so never float noise such as 0.000032035535000000004. */
  usd: number;
  /**
   * For a person: whole cents from $0.01 up (`$1.23`, half up); below a
   * cent two significant digits, half up (`$0.000032`), so that a query
   * that scanned bytes never reads `$0.00`; below a millionth of a dollar
   * `<$0.000001`; `$0.00` only for a cost of nothing.
   */
  text: string;
}

/**
 * The estimated cost of a query that scanned `bytesScanned` bytes at
 * `pricePerGb` dollars per GB (10^9 bytes, as CloudTrail Lake bills),
 * computed in integer arithmetic (BigInt) from the price's decimal digits,
 * so that it carries no binary rounding. undefined without BytesScanned.
 * A price is a finite number of 0 or more (the CLI's `--price-per-gb`);
 * another is a TypeError.
 */
export function queryCost(bytesScanned: number | undefined, pricePerGb: number): QueryCost | undefined {
  if (bytesScanned === undefined) return undefined;
  if (!Number.isFinite(pricePerGb) || pricePerGb < 0) throw new TypeError(`pricePerGb must be a finite number of 0 or more, not ${String(pricePerGb)}`);
  const price = decimalOf(pricePerGb);
  // cost = bytes × digits / 10^(scale + 9) dollars, exactly.
  const numerator = BigInt(Math.max(0, Math.round(bytesScanned))) * price.digits;
  const scale = price.scale + 9;
  const exact = decimalText(numerator, scale);
  const tiny = numerator > 0n && numerator * 1_000_000n < 10n ** BigInt(scale);
  return { exact, usd: Number(exact), text: tiny ? '<$0.000001' : `$${costText(numerator, scale)}` };
}

/** A non-negative finite number's decimal digits and scale: 0.005 is 5 × 10^-3. JavaScript's shortest round-trip text is the decimal the user wrote. */
function decimalOf(value: number): { digits: bigint; scale: number } {
  const match = /^(\d+)(?:\.(\d+))?(?:e([+-]\d+))?$/.exec(String(value));
  if (!match) throw new TypeError(`pricePerGb must be a finite number of 0 or more, not ${String(value)}`);
  const fraction = match[2] ?? '';
  let digits = BigInt(`${match[1]}${fraction}`);
  let scale = fraction.length - Number(match[3] ?? 0);
  if (scale < 0) {
    digits *= 10n ** BigInt(-scale);
    scale = 0;
  }
  return { digits, scale };
}

/** `value / 10^scale` as a decimal string, without trailing zeros. */
function decimalText(value: bigint, scale: number): string {
  const text = value.toString().padStart(scale + 1, '0');
  const whole = text.slice(0, text.length - scale);
  const fraction = text.slice(text.length - scale).replace(/0+$/, '');
  return fraction === '' ? whole : `${whole}.${fraction}`;
}

/** `value` rounded half up to a multiple of 10^places. */
function roundTo(value: bigint, places: number): bigint {
  if (places <= 0) return value;
  const unit = 10n ** BigInt(places);
  return ((value + unit / 2n) / unit) * unit;
}

/** The rule of QueryCost.text, on `value / 10^scale` dollars. */
function costText(value: bigint, scale: number): string {
  if (value === 0n) return '0.00';
  const cent = 10n ** BigInt(Math.max(0, scale - 2));
  if (scale <= 2 || value >= cent) {
    const cents = scale <= 2 ? value * 10n ** BigInt(2 - scale) : roundTo(value, scale - 2) / cent;
    const text = cents.toString().padStart(3, '0');
    return `${text.slice(0, -2)}.${text.slice(-2)}`;
  }
  // Below a cent: two significant digits.
  const places = value.toString().length - 2;
  return decimalText(roundTo(value, places), scale);
}

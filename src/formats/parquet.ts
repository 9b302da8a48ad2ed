import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { Table, tableToIPC, util, type RecordBatch, type Schema } from 'apache-arrow';
import * as wasm from 'parquet-wasm';
import { CtlakeError } from '../errors.js';
import type { TypingOptions } from '../rows/column-types.js';
import type { FlatRecord } from '../rows/flatten-row.js';
import { columnLabel } from '../rows/parse-value.js';
import { buildSchema, lateColumnsError, type ColumnSchema } from '../rows/schema.js';
import { isUnparsedColumn } from '../rows/unparsed-column.js';
import { arrowSchema, recordBatch } from './arrow-batch.js';
import { FooterTail } from './parquet-footer.js';

export type ParquetCompression = 'zstd' | 'snappy' | 'gzip' | 'none';

export interface ParquetOptions {
  /** @default 'zstd' */
  compression: ParquetCompression;
  /**
   * Rows per row group. The writer holds one row group in memory while its
   * reader keeps up, and reads on to three when the reader stalls (measured
   * with parquet-wasm 0.8.0: 3.0 row groups at 2,000, 5,000 and 20,000 rows
   * per group; WebAssembly memory never shrinks), so this is the memory bound:
   * on 200k wide CloudTrail rows the process peaked at 268 MB RSS with the
   * default, 305 MB with 50,000.
   * @default 20000
   */
  rowGroupRows: number;
  typing: TypingOptions;
  /**
   * The file's schema, fixed up front: used as it is, instead of
   * `buildSchema` over the first page's columns (and `typing`). It is how a
   * file gets nested columns (type 'nested' with their lakeType) and a
   * fallback column (rows/unparsed-column.ts). A column the records carry
   * that it lacks fails with SCHEMA_CHANGED.
   */
  schema?: (() => readonly ColumnSchema[] | undefined) | undefined;
  /** Key-value metadata for the footer; called once, when the first page has arrived. */
  metadata: (columns: readonly ColumnSchema[]) => Record<string, string>;
  /** Receives the file's schema once it is fixed. */
  onSchema?: ((columns: readonly ColumnSchema[]) => void) | undefined;
  /** `created_by` in the footer. */
  createdBy: string;
}

const CODECS: Record<ParquetCompression, wasm.Compression> = {
  zstd: wasm.Compression.ZSTD,
  snappy: wasm.Compression.SNAPPY,
  gzip: wasm.Compression.GZIP,
  none: wasm.Compression.UNCOMPRESSED,
};

/**
 * Record batches to the bytes of one Parquet file, streamed: a chunk per
 * finished row group, then the footer. Dictionary encoding and statistics
 * are on.
 *
 * The schema is `options.schema` when given, else fixed by the first batch:
 * the columns seen so far (every record carries all of them) plus any
 * declared with `--column` but not yet seen, typed by `buildSchema`. A
 * column first seen later cannot join a file already begun; it fails with
 * SCHEMA_CHANGED, which names it and says how to declare it up front.
 *
 * A file of no rows gets its schema all the same (from `options.schema` or
 * the declared columns), from one empty batch.
 *
 * parquet-wasm's writer ignores its own write errors, so after the footer
 * the row count it records is read back and compared with the rows fed: a
 * difference fails with COUNT_MISMATCH instead of a short file.
 */
export async function* encodeParquet(batches: AsyncIterable<FlatRecord[]>, options: ParquetOptions): AsyncGenerator<Uint8Array> {
  const iterator = batches[Symbol.asyncIterator]();
  let first: IteratorResult<FlatRecord[]> = await iterator.next();
  while (!first.done && first.value.length === 0) first = await iterator.next();
  let columns: readonly ColumnSchema[];
  // Records carry every column seen so far, new ones last (ColumnSet): those past `width` are checked against the schema.
  let width: number;
  const fixed = options.schema?.();
  if (fixed) {
    columns = fixed;
    width = 0;
  } else {
    const seen = first.done ? [] : Object.keys(first.value[first.value.length - 1]!);
    const declared = Object.keys(options.typing.columns ?? {}).filter((name) => !seen.includes(name));
    columns = buildSchema([...seen, ...declared], options.typing);
    width = seen.length;
  }
  options.onSchema?.(columns);
  const metadata = new Map(Object.entries(options.metadata(columns)));
  const schema = arrowSchema(columns, new Map());
  // The fallback column is not read from records: a Lake column that spells its source is one the schema lacks.
  const known = new Set(columns.filter((c) => !isUnparsedColumn(c)).map((c) => c.source));

  async function* rest(): AsyncGenerator<FlatRecord[]> {
    if (!first.done) {
      const records = first.value;
      first = { done: true, value: undefined };
      yield records;
    }
    let done = false;
    try {
      for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
      done = true;
    } finally {
      // Left early (the reader stopped, a failure): let the source end too (an in-flight page, a held lock).
      if (!done) await iterator.return?.(undefined);
    }
  }
  const source = rest();
  let rowsFed = 0;
  let fedAny = false;
  // parquet-wasm replaces an error raised while it pulls with its own
  // ("Dyn casting error"); keep ours, to rethrow it.
  let pullError: unknown;
  const input = new ReadableStream<wasm.RecordBatch>(
    {
      async pull(controller) {
        try {
          // Encoding runs on microtasks: let timers and I/O in between batches.
          await yieldToLoop();
          const next = await source.next();
          if (next.done) {
            // parquet-wasm fails ("Dyn casting error") on a stream with no batch: give a file of no rows its schema with one empty batch.
            // (A schema of no columns is left to fail: readers refuse a Parquet file with no column.)
            if (!fedAny && columns.length > 0) {
              fedAny = true;
              controller.enqueue(toWasm(schema, recordBatch(schema, columns, [], 1)));
            }
            return controller.close();
          }
          const records = next.value;
          if (records.length === 0) return;
          // Records carry every column seen so far, new ones last (ColumnSet).
          const keys = Object.keys(records[records.length - 1]!);
          if (keys.length > width) {
            const added = keys.slice(width).filter((name) => !known.has(name));
            if (added.length) throw lateColumns(records, added, rowsFed, fixed !== undefined);
            width = keys.length;
          }
          const batch = recordBatch(schema, columns, records, rowsFed + 1);
          if (!util.compareSchemas(schema, batch.schema)) throw new Error('internal: a record batch left the file schema');
          controller.enqueue(toWasm(batch.schema, batch));
          fedAny = true;
          rowsFed += records.length;
          // Encoded: let the records go now rather than when the next batch replaces them (see encodeNdjson).
          records.length = 0;
        } catch (error) {
          pullError = error;
          throw error;
        }
      },
      async cancel() {
        await source.return(undefined);
      },
    },
    { highWaterMark: 0 },
  );

  let output: ReadableStream;
  try {
    output = await wasm.transformParquetStream(input, writerProperties(options, metadata));
  } catch (error) {
    throw pullError ?? error;
  }
  const tail = new FooterTail();
  try {
    for await (const chunk of output as unknown as AsyncIterable<Uint8Array>) {
      if (pullError) break;
      tail.push(chunk);
      yield chunk;
    }
  } catch (error) {
    throw pullError ?? error;
  } finally {
    // parquet-wasm does not cancel its input when its output is cancelled: the source is returned here, at once or once
    // its pending next() settles, so that it ends whichever way the file did.
    source.return(undefined).catch(() => undefined);
  }
  if (pullError) throw pullError;
  const written = tail.rows();
  if (written !== rowsFed) {
    throw new CtlakeError('COUNT_MISMATCH', `the Parquet writer recorded ${written} rows of the ${rowsFed} fed to it; nothing was committed, rerun the export`);
  }
}

function writerProperties(options: ParquetOptions, metadata: Map<string, string>): wasm.WriterProperties {
  // Built fresh for every file: the writer consumes its properties, and a
  // reused (consumed) object silently falls back to parquet-rs defaults.
  return new wasm.WriterPropertiesBuilder()
    .setCompression(CODECS[options.compression])
    .setDictionaryEnabled(true)
    .setStatisticsEnabled(wasm.EnabledStatistics.Chunk)
    .setMaxRowGroupSize(options.rowGroupRows)
    .setCreatedBy(options.createdBy)
    .setKeyValueMetadata(metadata)
    .build();
}

/** An apache-arrow batch handed to WebAssembly through Arrow IPC; the writer then owns it. */
function toWasm(schema: Schema, batch: RecordBatch): wasm.RecordBatch {
  const table = wasm.Table.fromIPCStream(tableToIPC(new Table(schema, [batch]), 'stream'));
  try {
    const wasmBatch = table.recordBatch(0);
    if (!wasmBatch) throw new Error('internal: Arrow IPC produced no record batch');
    return wasmBatch;
  } finally {
    table.free();
  }
}

function lateColumns(records: readonly FlatRecord[], added: readonly string[], rowsBefore: number, fixed: boolean): CtlakeError {
  const row = rowsBefore + 1 + records.findIndex((r) => added.some((name) => Object.hasOwn(r, name)));
  return lateColumnsError(added, row, fixed ? 'sql' : 'first-page');
}

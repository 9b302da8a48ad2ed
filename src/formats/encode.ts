import { Readable, type Transform } from 'node:stream';
import type { TypingOptions } from '../rows/column-types.js';
import type { FlatRecord } from '../rows/flatten-row.js';
import type { ColumnSchema } from '../rows/schema.js';
import { encodeNdjson, ndjsonCompressor, type NdjsonTypes } from './ndjson.js';
import { encodeParquet, type ParquetCompression } from './parquet.js';

export type OutputFormat = 'ndjson' | 'parquet';

/** How records become bytes: one value for every file of an export. */
export interface Encoding {
  format: OutputFormat;
  /** NDJSON: 'gzip' or 'none'; Parquet: its codec. */
  compression: ParquetCompression;
  /** NDJSON only. */
  types: NdjsonTypes;
  typing: TypingOptions;
  /** Parquet only: rows per row group, the writer's memory bound. */
  rowGroupRows: number;
  createdBy: string;
  /** Parquet only: the footer's key-value metadata, asked for once the file's schema is fixed. */
  metadata: (columns: readonly ColumnSchema[]) => Record<string, string>;
  /**
   * The export's settled schema, asked for when the first batch arrives
   * (the columns are settled before it); undefined to take the first page's.
   * See ParquetOptions.schema.
   */
  schema?: (() => readonly ColumnSchema[] | undefined) | undefined;
}

/** The file name ending for an encoding: `.parquet`, `.ndjson` or `.ndjson.gz`. */
export function fileExtension(encoding: Pick<Encoding, 'format' | 'compression'>): string {
  if (encoding.format === 'parquet') return '.parquet';
  return encoding.compression === 'gzip' ? '.ndjson.gz' : '.ndjson';
}

/**
 * The stream stages that turn record batches into the bytes of one file:
 * the encoder as a byte Readable, then the compressor, if any. `onSchema`
 * receives a Parquet file's schema once its first batch fixed it.
 */
export function encodeStages(
  batches: AsyncIterable<FlatRecord[]>,
  encoding: Encoding,
  onSchema?: (columns: readonly ColumnSchema[]) => void,
): Array<Readable | Transform> {
  if (encoding.format === 'parquet') {
    const bytes = encodeParquet(batches, {
      compression: encoding.compression,
      rowGroupRows: encoding.rowGroupRows,
      typing: encoding.typing,
      schema: encoding.schema,
      createdBy: encoding.createdBy,
      metadata: encoding.metadata,
      onSchema,
    });
    return [Readable.from(bytes, { objectMode: false })];
  }
  const stages: Array<Readable | Transform> = [Readable.from(encodeNdjson(batches, encoding.types, encoding.typing, encoding.schema), { objectMode: false })];
  const compressor = ndjsonCompressor(encoding.compression === 'gzip' ? 'gzip' : 'none');
  if (compressor) stages.push(compressor);
  return stages;
}

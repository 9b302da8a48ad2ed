import { setImmediate as yieldToLoop } from 'node:timers/promises';
import * as wasm from 'parquet-wasm';

export type ParquetCompression = 'zstd' | 'snappy' | 'gzip' | 'none';

/** What the WebAssembly writer is told of one file: plain data, so that it can be sent to a writer thread. */
export interface WriterSpec {
  compression: ParquetCompression;
  rowGroupRows: number;
  createdBy: string;
  /** The footer's key-value metadata, in order. */
  metadata: Array<[string, string]>;
}

const CODECS: Record<ParquetCompression, wasm.Compression> = {
  zstd: wasm.Compression.ZSTD,
  snappy: wasm.Compression.SNAPPY,
  gzip: wasm.Compression.GZIP,
  none: wasm.Compression.UNCOMPRESSED,
};

/**
 * The bytes of one Parquet file from its record batches, each given as the
 * Arrow IPC stream of one batch (tableToIPC): parquet-wasm's
 * transformParquetStream, on this thread. Dictionary encoding and
 * statistics are on. It pulls the next batch only when it wants one, so it
 * holds at most one row group (`rowGroupRows`), encoded, besides the batch
 * it reads. An error of `batches` ends it; parquet-wasm may replace that
 * error with its own ("Dyn casting error"), so the caller keeps the first.
 */
export async function* writeParquetHere(batches: AsyncIterator<Uint8Array>, spec: WriterSpec): AsyncGenerator<Uint8Array> {
  const input = new ReadableStream<wasm.RecordBatch>(
    {
      async pull(controller) {
        // Encoding runs on microtasks: let timers and I/O in between batches.
        await yieldToLoop();
        const next = await batches.next();
        if (next.done) return controller.close();
        controller.enqueue(fromIpc(next.value));
      },
      async cancel() {
        await batches.return?.(undefined);
      },
    },
    { highWaterMark: 0 },
  );
  const output = await wasm.transformParquetStream(input, writerProperties(spec));
  yield* output as unknown as AsyncIterable<Uint8Array>;
}

function writerProperties(spec: WriterSpec): wasm.WriterProperties {
  // Built fresh for every file: the writer consumes its properties, and a
  // reused (consumed) object silently falls back to parquet-rs defaults.
  return new wasm.WriterPropertiesBuilder()
    .setCompression(CODECS[spec.compression])
    .setDictionaryEnabled(true)
    .setStatisticsEnabled(wasm.EnabledStatistics.Chunk)
    .setMaxRowGroupSize(spec.rowGroupRows)
    .setCreatedBy(spec.createdBy)
    .setKeyValueMetadata(new Map(spec.metadata))
    .build();
}

/** One batch's Arrow IPC stream as a WebAssembly record batch, which the writer then owns. */
function fromIpc(ipc: Uint8Array): wasm.RecordBatch {
  const table = wasm.Table.fromIPCStream(ipc);
  try {
    const batch = table.recordBatch(0);
    if (!batch) throw new Error('internal: Arrow IPC produced no record batch');
    return batch;
  } finally {
    table.free();
  }
}

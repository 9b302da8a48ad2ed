import { createGzip, constants as zlib } from 'node:zlib';
import type { Transform } from 'node:stream';
import type { FlatRecord } from '../rows/flatten-row.js';

export type NdjsonCompression = 'none' | 'gzip';

/**
 * Record batches to NDJSON: one JSON object per line, UTF-8, keys in column
 * order, values exactly as the service returned them (strings, or null for an
 * absent column). One chunk per batch, so the cost per row is one
 * JSON.stringify and nothing else; memory is one batch's text.
 */
export async function* encodeNdjson(batches: AsyncIterable<FlatRecord[]>): AsyncGenerator<string> {
  for await (const batch of batches) {
    if (batch.length === 0) continue;
    let text = '';
    for (const record of batch) text += JSON.stringify(record) + '\n';
    yield text;
  }
}

/** The compressor to put after the encoder, if any. gzip at level 6 (zlib's default). */
export function ndjsonCompressor(compression: NdjsonCompression): Transform | undefined {
  return compression === 'gzip' ? createGzip({ level: zlib.Z_DEFAULT_COMPRESSION }) : undefined;
}

/**
 * The row count a Parquet file's footer records, read from the file's last
 * bytes alone: `FOOTER PAR1`, where the 4 bytes before `PAR1` are the
 * footer's length and the footer is a Thrift compact-protocol FileMetaData
 * whose field 3 is num_rows. Only the footer is needed, however large the
 * file: parquet-wasm's reader also follows the page indexes, at absolute
 * offsets that lie outside a tail, so it cannot read a tail of a file
 * larger than the tail. Throws an Error naming what is wrong.
 */
export function footerRows(tail: readonly Uint8Array[]): number {
  const total = tail.reduce((n, c) => n + c.length, 0);
  const end = lastBytes(tail, Math.min(total, 8));
  if (end.length < 8 || end[4] !== 0x50 || end[5] !== 0x41 || end[6] !== 0x52 || end[7] !== 0x31) throw new Error('no PAR1 at the end: not a Parquet file, or cut short');
  const length = end[0]! | (end[1]! << 8) | (end[2]! << 16) | (end[3]! << 24);
  if (length <= 0 || length + 8 > total) throw new Error(`its footer (${length} bytes) is not within the bytes read`);
  const footer = lastBytes(tail, length + 8).subarray(0, length);
  return readNumRows(footer);
}

/**
 * The last chunks of a Parquet file as it streams past, enough to hold its
 * footer (one of 1,000 row groups of 30 columns is about 3 MB): what
 * footerRows reads once the file has ended.
 */
export class FooterTail {
  static readonly BYTES = 8 * 1024 * 1024;
  readonly #chunks: Uint8Array[] = [];
  #bytes = 0;

  push(chunk: Uint8Array): void {
    this.#chunks.push(chunk);
    this.#bytes += chunk.length;
    while (this.#chunks.length > 1 && this.#bytes - this.#chunks[0]!.length >= FooterTail.BYTES) this.#bytes -= this.#chunks.shift()!.length;
  }

  /** The row count the footer records; throws as footerRows does. */
  rows(): number {
    return footerRows(this.#chunks);
  }
}

function lastBytes(chunks: readonly Uint8Array[], count: number): Uint8Array {
  const out = new Uint8Array(count);
  let at = count;
  for (let i = chunks.length - 1; i >= 0 && at > 0; i--) {
    const chunk = chunks[i]!;
    const take = Math.min(at, chunk.length);
    out.set(chunk.subarray(chunk.length - take), at - take);
    at -= take;
  }
  return out;
}

// Thrift compact protocol: field header = (delta << 4) | type.
const BOOL_TRUE = 1;
const BOOL_FALSE = 2;
const BYTE = 3;
const I16 = 4;
const I32 = 5;
const I64 = 6;
const DOUBLE = 7;
const BINARY = 8;
const LIST = 9;
const SET = 10;
const MAP = 11;
const STRUCT = 12;

/** FileMetaData's field 3 (num_rows, i64), skipping fields 1 and 2 (version, schema) and whatever else comes first. */
function readNumRows(bytes: Uint8Array): number {
  let pos = 0;
  const byte = () => {
    if (pos >= bytes.length) throw new Error('its footer ends inside a field');
    return bytes[pos++]!;
  };
  const varint = (): bigint => {
    let result = 0n;
    for (let shift = 0n; ; shift += 7n) {
      const b = byte();
      result |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return result;
      if (shift > 63n) throw new Error('its footer has a varint longer than 64 bits');
    }
  };
  const zigzag = (v: bigint) => (v >> 1n) ^ -(v & 1n);
  const skip = (type: number): void => {
    switch (type) {
      case BOOL_TRUE:
      case BOOL_FALSE:
        return;
      case BYTE:
        pos += 1;
        return;
      case I16:
      case I32:
      case I64:
        varint();
        return;
      case DOUBLE:
        pos += 8;
        return;
      case BINARY: {
        // Read the length first: `pos += varint()` would add it to pos as it was before the varint.
        const length = Number(varint());
        pos += length;
        return;
      }
      case LIST:
      case SET: {
        const header = byte();
        const size = header >> 4 === 15 ? Number(varint()) : header >> 4;
        const element = header & 0x0f;
        // Booleans in a list take a byte each, not a field type.
        if (element === BOOL_TRUE || element === BOOL_FALSE) pos += size;
        else for (let i = 0; i < size; i++) skip(element);
        return;
      }
      case MAP: {
        const size = Number(varint());
        if (size === 0) return;
        const types = byte();
        for (let i = 0; i < size; i++) {
          skip(types >> 4);
          skip(types & 0x0f);
        }
        return;
      }
      case STRUCT:
        for (let id = 0; ; ) {
          const header = byte();
          if (header === 0) return;
          id = header >> 4 ? id + (header >> 4) : Number(zigzag(varint()));
          skip(header & 0x0f);
        }
      default:
        throw new Error(`its footer has an unknown Thrift type ${type}`);
    }
  };
  for (let id = 0; ; ) {
    const header = byte();
    if (header === 0) throw new Error('its footer has no num_rows');
    id = header >> 4 ? id + (header >> 4) : Number(zigzag(varint()));
    const type = header & 0x0f;
    if (id === 3 && type === I64) return Number(zigzag(varint()));
    skip(type);
  }
}

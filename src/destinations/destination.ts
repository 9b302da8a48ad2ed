import type { Writable } from 'node:stream';

/**
 * Bytes to a place: the sink of one export's single output. ctlake's file,
 * stdout and S3 destinations implement it, and so may a library user's
 * (`exportQuery({ destination })`, or an ObjectStore's `create()`). Any
 * format can write to any destination.
 *
 * The contract, as exportQuery keeps it:
 * - It writes the encoded bytes to `writable` in one `pipeline()` and ends
 *   it; backpressure is honoured, so the writable's own buffering is the
 *   memory bound (keep it bounded: do not hold the whole output).
 *   `bytesWritten()` may be called at any time, for progress and the summary.
 * - Then exactly one ending. `commit()`, once, after the writable finished
 *   without error: it makes the complete output visible; until it resolves
 *   nothing may be (write under a temporary name, a multipart upload, a
 *   staged blob). Or `abort()`, on any failure at any point: before a byte
 *   was written (the query failed), while writing (the writable may be
 *   destroyed by then), or after a commit() that rejected; it removes what
 *   was written, so that nothing partial is ever visible. abort() may be
 *   called more than once and should not reject (a rejection is only
 *   reported as a warning; the export's own error is what the caller gets).
 * - After commit() resolved, only `bytesWritten()` is called (for the
 *   summary); after abort(), only abort() again. ctlake never closes a
 *   caller's destination otherwise.
 */
export interface Destination {
  /** What the user named: a path, `stdout`, a URL; messages and `summary.files` name the destination by it. */
  readonly location: string;
  /** Where the encoded bytes go; the export pipeline ends it. */
  readonly writable: Writable;
  /** Bytes accepted so far, after compression. */
  bytesWritten(): number;
  /** Makes the finished output visible. Called once, after the writable finished. */
  commit(): Promise<void>;
  /**
   * Removes what was written. Safe to call at any point, and more than once.
   * A pipe, a FIFO or a device cannot unwrite what its reader already took:
   * there abort() only stops and closes, and the error is the reader's only
   * sign that the stream is short.
   */
  abort(): Promise<void>;
}

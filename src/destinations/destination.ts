import type { Writable } from 'node:stream';

/**
 * Bytes to a place. A destination has exactly two endings: `commit()` once the
 * writable has finished without error, which makes the output visible, and
 * `abort()` on any failure, which removes whatever was written, so that
 * nothing partial is ever visible at the destination (except where nothing
 * can be taken back: see abort()). Any format can write to any destination.
 */
export interface Destination {
  /** What the user named: a path, or `stdout`. */
  readonly location: string;
  /** Where the encoded bytes go; the export pipeline ends it. */
  readonly writable: Writable;
  /** Bytes accepted so far, after compression. */
  bytesWritten(): number;
  /** Makes the finished output visible. Call once, after the writable finished. */
  commit(): Promise<void>;
  /**
   * Removes what was written. Safe to call at any point, and more than once.
   * A pipe, a FIFO or a device cannot unwrite what its reader already took:
   * there abort() only stops and closes, and the error is the reader's only
   * sign that the stream is short.
   */
  abort(): Promise<void>;
}

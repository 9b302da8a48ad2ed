import { Writable } from 'node:stream';
import { CtlakeError } from '../errors.js';
import type { Destination } from './destination.js';
import { destinationError } from './file.js';

/**
 * Standard output as a destination. Data only, never logs. The target is not
 * ended (the process owns it); each chunk counts as written once the target
 * has taken it, so backpressure from a slow reader reaches the export. When
 * the reader goes away (EPIPE, as with `| head -1`) the write fails with
 * DESTINATION_CLOSED, which the CLI treats as a quiet success. A pipe cannot
 * be unwritten, so abort() does nothing.
 */
export function stdoutDestination(target: NodeJS.WritableStream = process.stdout): Destination {
  let bytes = 0;
  let closed: Error | undefined;
  const onError = (error: NodeJS.ErrnoException) => {
    closed = error;
  };
  target.on('error', onError);
  const toError = (error: NodeJS.ErrnoException) =>
    error.code === 'EPIPE' || error.code === 'ERR_STREAM_DESTROYED'
      ? new CtlakeError('DESTINATION_CLOSED', 'stdout closed by its reader', { cause: error })
      : destinationError('stdout', error);

  const writable = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      if (closed) return callback(toError(closed));
      target.write(chunk, (error?: Error | null) => {
        if (error) return callback(toError(error));
        bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
        callback();
      });
    },
    final(callback) {
      target.removeListener('error', onError);
      callback(closed ? toError(closed) : null);
    },
    destroy(error, callback) {
      target.removeListener('error', onError);
      callback(error);
    },
  });
  return {
    location: 'stdout',
    writable,
    bytesWritten: () => bytes,
    commit: async () => undefined,
    abort: async () => {
      target.removeListener('error', onError);
    },
  };
}

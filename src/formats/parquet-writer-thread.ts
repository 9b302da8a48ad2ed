/**
 * The entry of a Parquet writer thread (a worker_threads Worker started by
 * parquet-writer-pool.ts): for each file it is sent, writeParquetHere over
 * the Arrow IPC batches as they arrive, against the credits it grants, and
 * the file's bytes back as they come, transferred. See
 * parquet-writer-pool.ts for the protocol.
 */
import { parentPort } from 'node:worker_threads';
import { writeParquetHere, type WriterSpec } from './parquet-wasm-writer.js';
import type { FromWriter, ToWriter } from './parquet-writer-pool.js';

interface Session {
  readonly id: number;
  readonly queue: Uint8Array[];
  ended: boolean;
  cancelled: boolean;
  wake: (() => void) | undefined;
}

const port = parentPort;
if (!port) throw new Error('internal: parquet-writer-thread.js runs as a worker thread only');
const sessions = new Map<number, Session>();

function send(message: FromWriter, transfer?: ArrayBuffer[]): void {
  port!.postMessage(message, transfer);
}

port.on('message', (message: ToWriter) => {
  if (message.type === 'start') {
    const session: Session = { id: message.id, queue: [], ended: false, cancelled: false, wake: undefined };
    sessions.set(message.id, session);
    void run(session, message.spec);
    send({ type: 'credit', id: session.id });
    return;
  }
  const session = sessions.get(message.id);
  if (!session) return;
  if (message.type === 'batch') session.queue.push(message.ipc);
  else if (message.type === 'end') session.ended = true;
  else {
    session.cancelled = true;
    sessions.delete(session.id);
  }
  session.wake?.();
});

/** The file's batches as they arrive; a credit goes back as each is taken. */
async function* batchesOf(session: Session): AsyncGenerator<Uint8Array> {
  for (;;) {
    // Thrown, not returned: a writer whose input ended would still write its row group and a footer.
    if (session.cancelled) throw new Error('cancelled');
    const batch = session.queue.shift();
    if (batch) {
      if (!session.ended) send({ type: 'credit', id: session.id });
      yield batch;
      continue;
    }
    if (session.ended) return;
    await new Promise<void>((resolve) => (session.wake = resolve));
    session.wake = undefined;
  }
}

async function run(session: Session, spec: WriterSpec): Promise<void> {
  try {
    for await (const chunk of writeParquetHere(batchesOf(session), spec)) {
      if (session.cancelled) return;
      // Transferred: the writer keeps no chunk it gave. A view of a larger buffer is copied first.
      const own = chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength ? chunk : chunk.slice();
      send({ type: 'chunk', id: session.id, bytes: own }, [own.buffer as ArrayBuffer]);
    }
    if (!session.cancelled) send({ type: 'done', id: session.id });
  } catch (error) {
    if (!session.cancelled) send({ type: 'error', id: session.id, name: error instanceof Error ? error.name : 'Error', message: error instanceof Error ? error.message : String(error) });
  } finally {
    sessions.delete(session.id);
  }
}

import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { WriterSpec } from './parquet-wasm-writer.js';

/**
 * The messages between an export's thread and a Parquet writer thread
 * (parquet-writer-thread.ts). Each file is a session with its own id; one
 * thread serves many. Batches go as Arrow IPC bytes and the file's bytes
 * come back, both transferred, never copied or cloned.
 *
 * Flow control: the thread grants a credit for each batch it can take (one
 * at the start, one each time its writer takes a batch), and a batch is
 * sent only against a credit, so a session holds at most two batches on
 * the thread: the one being written and the next.
 */
export type ToWriter =
  | { type: 'start'; id: number; spec: WriterSpec }
  | { type: 'batch'; id: number; ipc: Uint8Array }
  | { type: 'end'; id: number }
  /** The file is no longer wanted: the thread drops it and sends nothing more for it. */
  | { type: 'cancel'; id: number };

export type FromWriter =
  | { type: 'credit'; id: number }
  | { type: 'chunk'; id: number; bytes: Uint8Array }
  | { type: 'done'; id: number }
  | { type: 'error'; id: number; name: string; message: string };

/**
 * Writer threads: at most this many per process, however many files are
 * written at once (a dataset's open files, migrate's slices). A file goes
 * to an idle thread, else a new one while there are fewer than this, else
 * the least busy. One core is left to the thread that reads the pages.
 */
const MAX_THREADS = Math.max(1, Math.min(4, availableParallelism() - 1));

/** A thread with no file for this long is stopped, which gives its memory back (WebAssembly's never shrinks). */
const IDLE_MS = 5_000;

/** The bytes a session keeps for its reader before it sends no more batches. */
const MAX_QUEUED_CHUNKS = 2;

/**
 * The bytes of one Parquet file written on a writer thread: what
 * writeParquetHere(batches, spec) gives on this one, the same bytes, while
 * this thread goes on building the next batches. `batches` is read against
 * the thread's credits: at most two batches are on the thread, and no
 * batch is sent while two chunks wait for the reader.
 *
 * An error of `batches` ends the file with that error; a failure of the
 * thread (its writer's error, or the thread gone) with an Error naming it.
 * Ending early (return, an error) cancels the file on the thread at once;
 * `batches` is returned once no `next()` of it is pending.
 */
export async function* writeParquetOnThread(batches: AsyncIterator<Uint8Array>, spec: WriterSpec): AsyncGenerator<Uint8Array> {
  const session = new WriterSession(batches);
  try {
    session.open(spec);
    for (;;) {
      const next = await session.next();
      if (next === undefined) return;
      yield next;
    }
  } finally {
    session.stop();
  }
}

class WriterSession {
  readonly #batches: AsyncIterator<Uint8Array>;
  #thread: WriterThread | undefined;
  #id = 0;
  #credits = 0;
  #stopped = false;
  #ended = false;
  #failure: { error: unknown } | undefined;
  readonly #chunks: Uint8Array[] = [];
  #wakeReader: (() => void) | undefined;
  #wakeFeeder: (() => void) | undefined;
  #feeding: Promise<void> | undefined;

  constructor(batches: AsyncIterator<Uint8Array>) {
    this.#batches = batches;
  }

  open(spec: WriterSpec): void {
    const thread = pickThread();
    this.#thread = thread;
    this.#id = thread.open(this);
    thread.post({ type: 'start', id: this.#id, spec });
    this.#feeding = this.#feed();
  }

  /** The next chunk, or undefined at the end; throws the file's failure. */
  async next(): Promise<Uint8Array | undefined> {
    for (;;) {
      const chunk = this.#chunks.shift();
      if (chunk) {
        this.#kickFeeder();
        return chunk;
      }
      if (this.#failure) throw this.#failure.error;
      if (this.#ended) return undefined;
      await new Promise<void>((resolve) => (this.#wakeReader = resolve));
      this.#wakeReader = undefined;
    }
  }

  /** A message of this session from its thread. */
  receive(message: FromWriter): void {
    if (this.#stopped) return;
    switch (message.type) {
      case 'credit':
        this.#credits++;
        this.#kickFeeder();
        return;
      case 'chunk':
        this.#chunks.push(message.bytes);
        break;
      case 'done':
        this.#ended = true;
        this.#release();
        break;
      case 'error': {
        const error = new Error(`the Parquet writer failed: ${message.message}`);
        error.name = message.name;
        this.fail(error);
        return;
      }
    }
    this.#wakeReader?.();
  }

  /** Ends the file with `error` (the first one wins): the thread is told to drop it. */
  fail(error: unknown): void {
    if (this.#failure || this.#stopped) return;
    this.#failure = { error };
    this.#cancel();
    this.#wakeReader?.();
  }

  /** The reader is done with the file (its end, an error, or it stopped reading). */
  stop(): void {
    if (this.#stopped) return;
    this.#cancel();
    this.#stopped = true;
    this.#kickFeeder();
    // Returned once no next() of it is pending: the source then ends (an in-flight page, a held lock).
    void this.#feeding?.then(() => this.#batches.return?.(undefined)).catch(() => undefined);
  }

  async #feed(): Promise<void> {
    try {
      for (;;) {
        while (!this.#stopped && !this.#failure && (this.#credits === 0 || this.#chunks.length >= MAX_QUEUED_CHUNKS)) {
          await new Promise<void>((resolve) => (this.#wakeFeeder = resolve));
          this.#wakeFeeder = undefined;
        }
        if (this.#stopped || this.#failure) return;
        const next = await this.#batches.next();
        if (this.#stopped || this.#failure) return;
        if (next.done) {
          this.#thread!.post({ type: 'end', id: this.#id });
          return;
        }
        this.#credits--;
        const ipc = next.value;
        this.#thread!.post({ type: 'batch', id: this.#id, ipc }, [ipc.buffer as ArrayBuffer]);
      }
    } catch (error) {
      this.fail(error);
    }
  }

  #kickFeeder(): void {
    this.#wakeFeeder?.();
  }

  #cancel(): void {
    if (this.#thread?.has(this.#id)) this.#thread.post({ type: 'cancel', id: this.#id });
    this.#release();
  }

  #release(): void {
    this.#thread?.close(this.#id);
  }
}

/** One worker thread running parquet-writer-thread.js, and the files open on it. */
class WriterThread {
  readonly #worker: Worker;
  readonly #sessions = new Map<number, WriterSession>();
  #nextId = 1;
  #idle: NodeJS.Timeout | undefined;
  #gone = false;

  constructor() {
    this.#worker = startWorker();
    this.#worker.on('message', (message: FromWriter) => this.#sessions.get(message.id)?.receive(message));
    this.#worker.on('error', (error) => this.#lose(new Error(`the Parquet writer thread failed: ${error.message}`)));
    this.#worker.on('messageerror', (error) => this.#lose(new Error(`a message from the Parquet writer thread could not be read: ${error.message}`)));
    this.#worker.on('exit', (code) => this.#lose(new Error(`the Parquet writer thread exited (code ${code})`)));
  }

  get load(): number {
    return this.#sessions.size;
  }

  open(session: WriterSession): number {
    const id = this.#nextId++;
    this.#sessions.set(id, session);
    clearTimeout(this.#idle);
    this.#idle = undefined;
    this.#worker.ref();
    return id;
  }

  has(id: number): boolean {
    return this.#sessions.has(id);
  }

  close(id: number): void {
    if (!this.#sessions.delete(id) || this.#sessions.size > 0 || this.#gone) return;
    // Idle: it keeps no process alive, and stops after a while.
    this.#worker.unref();
    this.#idle = setTimeout(() => this.#retire(), IDLE_MS).unref();
  }

  post(message: ToWriter, transfer?: ArrayBuffer[]): void {
    this.#worker.postMessage(message, transfer);
  }

  #retire(): void {
    if (this.#sessions.size > 0) return;
    this.#gone = true;
    removeThread(this);
    void this.#worker.terminate();
  }

  #lose(error: Error): void {
    if (this.#gone && this.#sessions.size === 0) return;
    this.#gone = true;
    removeThread(this);
    const open = [...this.#sessions.values()];
    this.#sessions.clear();
    for (const session of open) session.fail(error);
  }
}

const threads: WriterThread[] = [];

function pickThread(): WriterThread {
  let least: WriterThread | undefined;
  for (const thread of threads) if (least === undefined || thread.load < least.load) least = thread;
  if (least !== undefined && (least.load === 0 || threads.length >= MAX_THREADS)) return least;
  const thread = new WriterThread();
  threads.push(thread);
  return thread;
}

function removeThread(thread: WriterThread): void {
  const at = threads.indexOf(thread);
  if (at >= 0) threads.splice(at, 1);
}

/**
 * The writer thread's Worker. It inherits the process's Node and V8 flags
 * (`--expose-gc`, `--cpu-prof`, `--import` hooks), unless they name the
 * main script's source, which a worker refuses (`--input-type` with `-e`):
 * then it gets the rest (workerFlags), or none if Node refuses those too
 * (a V8 flag given to a worker explicitly is refused, inherited it is not).
 */
function startWorker(): Worker {
  // Its stdout is never the process's (data goes to stdout only): read and dropped. Its stderr goes to the process's.
  const start = (execArgv?: string[]) => new Worker(threadUrl(), { stdout: true, ...(execArgv ? { execArgv } : {}) });
  const flags = workerFlags(process.execArgv);
  let worker: Worker;
  if (flags.length === process.execArgv.length) worker = start();
  else {
    try {
      worker = start(flags);
    } catch (error) {
      if ((error as { code?: string }).code !== 'ERR_WORKER_INVALID_EXEC_ARGV') throw error;
      worker = start([]);
    }
  }
  worker.stdout.resume();
  return worker;
}

/**
 * The process's Node flags but those that name the main script's source (a
 * worker refuses `--input-type`, and `-e` or `-p` would carry the script's
 * text), with their values.
 */
export function workerFlags(flags: readonly string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i < flags.length; i++) {
    const flag = flags[i]!;
    if (/^--input-type(=|$)/.test(flag) || /^--(eval|print)=/.test(flag)) {
      if (flag === '--input-type') i++;
      continue;
    }
    if (flag === '-e' || flag === '--eval' || flag === '-p' || flag === '--print') {
      i++;
      continue;
    }
    kept.push(flag);
  }
  return kept;
}

/**
 * parquet-writer-thread.js beside this file; run from the TypeScript
 * sources (the tests, through vitest), the built one in dist/, which
 * `npm test` builds before it runs them.
 */
function threadUrl(): URL {
  const here = import.meta.url;
  if (here.endsWith('.ts')) return new URL(here.replace(/\/src\/formats\/parquet-writer-pool\.ts$/, '/dist/formats/parquet-writer-thread.js'));
  return new URL('./parquet-writer-thread.js', here);
}

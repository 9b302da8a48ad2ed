import type { RetryOptions } from '../source/retry.js';

/** What the CLI may touch of its process: injected, so that tests run `main` in-process. */
export interface CliIO {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: Record<string, string | undefined>;
  /** Aborted on SIGINT or SIGTERM by the runner. */
  signal?: AbortSignal | undefined;
  /** Standard input, for `--sql-file -`. @default none */
  stdin?: NodeJS.ReadableStream | undefined;
  /** Whether stderr is a terminal: a live progress line and text logs; else JSON log lines. */
  stderrIsTTY?: boolean | undefined;
  /** Backoff override, for tests that must not wait seconds. */
  retry?: Partial<RetryOptions> | undefined;
  pollMinMs?: number | undefined;
}

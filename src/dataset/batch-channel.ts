/**
 * A hand-off from one producer to one consumer, holding at most one item:
 * `push()` resolves once the consumer has taken the item before it, so a
 * slow file slows the router that feeds it (backpressure) and memory per
 * open file stays at one batch. `close()` ends the iteration after the
 * items pushed; `fail()` rejects the producer's pending and later pushes,
 * so that a file whose writer failed never leaves the router waiting.
 */
export class BatchChannel<T> implements AsyncIterable<T> {
  #item: { value: T } | undefined;
  #closed = false;
  #error: unknown;
  #taken: (() => void) | undefined;
  #takenFailed: ((error: unknown) => void) | undefined;
  #ready: (() => void) | undefined;

  async push(value: T): Promise<void> {
    if (this.#error !== undefined) throw this.#error;
    if (this.#closed) throw new Error('internal: push after close');
    this.#item = { value };
    this.#ready?.();
    await new Promise<void>((resolve, reject) => {
      this.#taken = resolve;
      this.#takenFailed = reject;
    });
  }

  close(): void {
    this.#closed = true;
    this.#ready?.();
  }

  fail(error: unknown): void {
    this.#error ??= error;
    this.#takenFailed?.(error);
    this.#closed = true;
    this.#ready?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    for (;;) {
      if (this.#item) {
        const { value } = this.#item;
        this.#item = undefined;
        const taken = this.#taken;
        this.#taken = this.#takenFailed = undefined;
        taken?.();
        yield value;
        continue;
      }
      if (this.#error !== undefined) throw this.#error;
      if (this.#closed) return;
      await new Promise<void>((resolve) => (this.#ready = resolve));
      this.#ready = undefined;
    }
  }
}

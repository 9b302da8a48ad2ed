import { setImmediate as yieldToLoop } from 'node:timers/promises';

/**
 * Wraps an async iterable so that the next item is being fetched while the
 * consumer handles the current one: network and encoding overlap. At most one
 * item is held ahead of the consumer, so memory grows by one item, not more,
 * and a consumer that stops pulling stops the source after that one item.
 *
 * When the consumer stops early, the source's `return()` runs after the item
 * in flight settles; pass the source an AbortSignal to cut that short.
 *
 * Over queryPages on a client with useFastPages, the generator itself asks
 * for one page beyond the one it yielded (see queryPages), so an export
 * holds at most three pages: the consumer's, the one held here, and that
 * request's, in flight or parsed.
 */
export async function* readAhead<T>(source: AsyncIterable<T>): AsyncGenerator<T> {
  const iterator = source[Symbol.asyncIterator]();
  let pending = iterator.next();
  let finished = false;
  try {
    for (;;) {
      const result = await pending;
      if (result.done) {
        finished = true;
        return;
      }
      pending = iterator.next();
      // Observed on the next turn of the loop; this keeps an early stop from
      // turning the in-flight item's failure into an unhandled rejection.
      pending.catch(() => undefined);
      // Let the source run until it waits on I/O before the consumer's
      // synchronous work starts: an SDK call is dozens of promise steps before
      // its request reaches the socket, and without this turn of the event
      // loop the next request would go out only after this item is encoded.
      await yieldToLoop();
      yield result.value;
    }
  } catch (error) {
    finished = true;
    throw error;
  } finally {
    if (!finished) await iterator.return?.();
  }
}

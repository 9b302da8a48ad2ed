/**
 * withRetry when the export's signal is aborted as a call ends: the call's
 * answer is not used, the caller gets INTERRUPTED, and nobody is told of a
 * retry that never comes (p-retry checks the signal after a call that
 * succeeded, and reports that as a failed attempt).
 */
import { describe, expect, it } from 'vitest';
import { isCtlakeError } from '../src/errors.js';
import { withRetry, type RetryEvent } from '../src/source/retry.js';

describe('withRetry and an abort as the call ends', () => {
  it('rejects INTERRUPTED with no retry reported when the call succeeded as the signal was aborted', async () => {
    const controller = new AbortController();
    const retries: RetryEvent[] = [];
    const call = async () => {
      controller.abort();
      return 'answer';
    };
    const error = await withRetry(call, { operation: 'GetQueryResults', signal: controller.signal, retry: { retries: 3, minDelayMs: 1, maxDelayMs: 1 }, onRetry: (e) => retries.push(e) }).catch((e: unknown) => e);
    expect(isCtlakeError(error, 'INTERRUPTED')).toBe(true);
    expect(retries).toEqual([]);
  });

  it('still reports the retries of a call that failed while the signal was not aborted', async () => {
    const retries: RetryEvent[] = [];
    let calls = 0;
    const call = async () => {
      if (++calls < 3) throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
      return 'answer';
    };
    expect(await withRetry(call, { operation: 'GetQueryResults', signal: new AbortController().signal, retry: { retries: 3, minDelayMs: 1, maxDelayMs: 1 }, onRetry: (e) => retries.push(e) })).toBe('answer');
    expect(retries.map((e) => e.attempt)).toEqual([1, 2]);
  });
});

import type { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { optionError } from '../errors.js';
import { CallStats } from './call-stats.js';
import { callKind, RateLimiter } from './rate-limit.js';

export interface LimitClientOptions {
  /** Paces every request the client sends; share one across the clients and exports of an account. */
  limiter?: RateLimiter | undefined;
  /** Records every request the client sends. */
  stats?: CallStats | undefined;
}

/** The middleware's name: limiting a client again replaces it, never stacks a second one. */
export const LIMIT_MIDDLEWARE_NAME = 'ctlakeRateLimitMiddleware';

/** What of the SDK's handler context the middleware reads. */
interface LimitContext {
  commandName?: string;
  __smithy_context?: { abortSignal?: AbortSignal };
}

type Next = (args: unknown) => Promise<unknown>;

/**
 * Adds to `client` one middleware that takes a slot of `limiter` for each
 * request and records each in `stats`; returns the client. With neither,
 * the client is left as it is.
 *
 * Where it sits: in the finalizeRequest step, after the SDK's retry
 * middleware and right before its signing middleware. So every HTTP request
 * takes a slot: each `client.send` (each retry of ctlake's retry layer is
 * one), and each retry of the SDK's own strategy too when a caller's client
 * has one. The wait comes after the credentials are resolved and before the
 * request is signed, so that a slot is followed by the request at once (a
 * credential refresh does not sit between the two and bunch the requests
 * behind it) and a signature never ages in the queue. The signing, the
 * credential chain and the endpoint resolution are the SDK's, untouched.
 *
 * The send's abortSignal (`client.send(command, { abortSignal })`) ends the
 * wait: the send rejects with the signal's reason, as the SDK's own abort does.
 *
 * Recorded: one request per operation once its slot is granted, whether it
 * is answered or fails; a throttled answer (CallStats); for GetQueryResults,
 * the time from the slot to the parsed answer, which is the signing, the
 * request and the parse of the page (ctlake's fast path, src/source/fast-pages.ts, and one event-loop turn); the time spent waiting, an
 * aborted wait's too. A request refused before it took a slot (an abort,
 * a full queue) is not counted as sent.
 */
export function limitClient<C extends CloudTrailClient>(client: C, options: LimitClientOptions = {}): C {
  if (typeof options !== 'object' || options === null) throw optionError('options', options, 'an object such as { limiter, stats }');
  const { limiter, stats } = options;
  if (limiter !== undefined && !(limiter instanceof RateLimiter)) throw optionError('rateLimiter', limiter, 'a RateLimiter');
  if (stats !== undefined && !(stats instanceof CallStats)) throw optionError('callStats', stats, 'a CallStats');
  if (!limiter && !stats) return client;
  const middleware = (next: Next, context: LimitContext) => async (args: unknown) => {
    const command = context.commandName ?? '';
    const operation = command.replace(/Command$/, '');
    if (limiter) {
      const asked = performance.now();
      try {
        await limiter.acquire(callKind(command), context.__smithy_context?.abortSignal);
      } finally {
        // An aborted wait was time spent waiting too.
        stats?.recordWait(performance.now() - asked);
      }
    }
    const sent = performance.now();
    let result: unknown;
    try {
      result = await next(args);
    } catch (error) {
      stats?.recordRequest(operation, { error: error ?? new Error(String(error)) });
      throw error;
    }
    stats?.recordRequest(operation, { latencyMs: performance.now() - sent });
    return result;
  };
  client.middlewareStack.addRelativeTo(middleware as never, {
    relation: 'before',
    toMiddleware: 'httpSigningMiddleware',
    name: LIMIT_MIDDLEWARE_NAME,
    override: true,
  });
  return client;
}

import { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { CtlakeError, maskSecrets, quoted } from '../errors.js';
import { CredentialLog, profileClientConfig, useProfile } from './aws-profile.js';
import type { CallStats } from './call-stats.js';
import { useFastPages } from './fast-pages.js';
import { limitClient } from './limit-client.js';
import type { RateLimiter } from './rate-limit.js';

export interface ClientOptions {
  /** AWS region; else the SDK's chain (AWS_REGION, the profile's region). */
  region?: string | undefined;
  /**
   * A profile from ~/.aws/config and ~/.aws/credentials (AWS_CONFIG_FILE,
   * AWS_SHARED_CREDENTIALS_FILE); else AWS_PROFILE or `default`. Read as
   * AWS_PROFILE is: its region, credentials, `endpoint_url`, `services`
   * section and `ignore_configured_endpoint_urls`. A named profile that is
   * in neither file fails with INVALID_OPTION.
   */
  profile?: string | undefined;
  /**
   * The CloudTrail endpoint, e.g. an emulator's URL. Else the SDK reads
   * AWS_ENDPOINT_URL_CLOUDTRAIL, then AWS_ENDPOINT_URL, then the profile's
   * `services` section and `endpoint_url` (none of them when
   * AWS_IGNORE_CONFIGURED_ENDPOINT_URLS or the profile's
   * `ignore_configured_endpoint_urls` is true), then the region's endpoint.
   */
  endpointUrl?: string | undefined;
  /**
   * A request whose socket stays silent this long fails with a TimeoutError,
   * which is retried like any network fault. Without it a stalled connection
   * would hang the export for ever.
   * @default 60000
   */
  requestTimeoutMs?: number | undefined;
  /**
   * The most one request may take as a whole, from sending it to the last
   * byte of its answer. A request that passes it fails with a TimeoutError,
   * retried as any timeout is. The idle timeout alone cannot end an answer
   * that trickles in a few bytes at a time; this does. Generous, as a
   * 1,000-row page of wide rows is megabytes.
   * @default 120000
   */
  requestDeadlineMs?: number | undefined;
  /**
   * Paces every request the client sends to Lake's rates (limitClient in
   * ./limit-client.ts). Share one RateLimiter among all the clients and
   * exports of one account and region: the rates are the account's.
   * @default none: requests go as fast as they are made
   */
  rateLimiter?: RateLimiter | undefined;
  /** Records every request the client sends: counts, throttled answers, page latencies, waits. @default none */
  callStats?: CallStats | undefined;
}

export const DEFAULT_REQUEST_DEADLINE_MS = 120_000;

/**
 * The CloudTrail client ctlake uses when the caller brings none. Its own retry
 * is off (`maxAttempts: 1`): src/source/retry.ts is the single retry layer, so
 * that a throttled page is retried with our capped, abortable backoff and not
 * 3 × N times.
 *
 * An endpoint that is not an http(s) URL fails here with INVALID_OPTION, before
 * any request: the SDK would only fail at the first call, with an error that
 * reads like a bad answer.
 *
 * The profile is read as AWS_PROFILE is, and a profile or credential failure
 * is told apart from the service's (useProfile in ./aws-profile.ts).
 *
 * A 2xx GetQueryResults answer skips the SDK's schema deserializer
 * (useFastPages in ./fast-pages.ts).
 *
 * With `rateLimiter` or `callStats`, every request also takes a slot and is
 * recorded (limitClient); one that is not a RateLimiter or CallStats is a
 * TypeError naming the option.
 */
export function createCloudTrailClient(options: ClientOptions = {}): CloudTrailClient {
  if (options.endpointUrl) checkEndpointUrl(options.endpointUrl);
  const log = new CredentialLog();
  const client = new CloudTrailClient({
    maxAttempts: 1,
    logger: log,
    requestHandler: { socketTimeout: options.requestTimeoutMs ?? 60_000, connectionTimeout: 10_000 },
    ...(options.region ? { region: options.region } : {}),
    ...(options.profile ? { profile: options.profile } : {}),
    ...(options.endpointUrl ? { endpoint: options.endpointUrl } : {}),
    ...profileClientConfig(options.profile),
  });
  // The SDK's logger middleware copies every response through its
  // schema-driven sensitive-field filter before handing it to the logger,
  // even to the default logger that discards it. On a 1,000-row SELECT * page
  // that copy is more than half of the client's work (measured: 40 ms per
  // page with it, 16 ms without). ctlake gives the client no logger.
  client.middlewareStack.remove('loggerMiddleware');
  // GetQueryResults answers are parsed once, their rows kept as parsed, and
  // their NextToken read before the parse (./fast-pages.ts); errors and
  // every other operation stay the SDK's.
  useFastPages(client);
  useProfile(client, { serviceId: 'CloudTrail', profile: options.profile, explicitEndpoint: Boolean(options.endpointUrl), log });
  // The SDK reads config.requestHandler at every send (Command.resolveMiddleware),
  // so wrapping the handler it built keeps its socket settings and adds the deadline.
  const config = client.config as unknown as { requestHandler: RequestHandler };
  config.requestHandler = withDeadline(config.requestHandler, options.requestDeadlineMs ?? DEFAULT_REQUEST_DEADLINE_MS);
  return limitClient(client, { limiter: options.rateLimiter, stats: options.callStats });
}

interface HandlerOptions {
  abortSignal?: AbortSignal | undefined;
  [key: string]: unknown;
}

/** What ctlake needs of the SDK's request handler (a NodeHttpHandler). */
interface RequestHandler {
  handle(request: unknown, options?: HandlerOptions): Promise<{ response: { body?: unknown } }>;
}

/**
 * The error a request that outlived its deadline fails with: named
 * TimeoutError with code ETIMEDOUT, as the SDK's own timeouts are, so that
 * the retry classification (src/source/retry.ts) retries it as a timeout.
 */
function deadlineError(ms: number): Error {
  return Object.assign(new Error(`the request took longer than its deadline of ${ms} ms (an answer that trickles or stalls)`), { name: 'TimeoutError', code: 'ETIMEDOUT' });
}

/**
 * `inner` with an overall deadline per request. Until the answer's headers
 * arrive the deadline aborts the request through its abortSignal; after
 * that it destroys the body stream the SDK is reading, so that a body
 * arriving byte by byte fails too. The caller's own abort stays an abort.
 */
function withDeadline(inner: RequestHandler, ms: number): RequestHandler {
  const handler = Object.create(inner) as RequestHandler;
  handler.handle = async (request: unknown, options: HandlerOptions = {}) => {
    // One controller per request that the caller's signal and the timer both
    // abort. Not AbortSignal.any: its listeners on a long-lived caller signal
    // (one export's, over 100,000 pages) are let go only by the GC.
    const controller = new AbortController();
    const error = deadlineError(ms);
    const caller = options.abortSignal;
    let expired = false;
    let body: (NodeJS.ReadableStream & { destroy?: (error?: Error) => void; destroyed?: boolean }) | undefined;
    const onCaller = () => controller.abort(caller?.reason);
    const timer = setTimeout(() => {
      expired = true;
      controller.abort(error);
      if (body && !body.destroyed) body.destroy?.(error);
    }, ms);
    const done = () => {
      clearTimeout(timer);
      caller?.removeEventListener('abort', onCaller);
    };
    if (caller?.aborted) controller.abort(caller.reason);
    else caller?.addEventListener('abort', onCaller, { once: true });
    let result: Awaited<ReturnType<RequestHandler['handle']>>;
    try {
      result = await inner.handle.call(inner, request, { ...options, abortSignal: controller.signal });
    } catch (failure) {
      done();
      throw expired ? error : failure;
    }
    const stream = result.response.body as typeof body;
    if (!stream || typeof stream.once !== 'function' || typeof stream.destroy !== 'function') {
      done();
      return result;
    }
    body = stream;
    stream.once('end', done);
    stream.once('close', done);
    stream.once('error', done);
    return result;
  };
  return handler;
}

function checkEndpointUrl(text: string): void {
  let protocol: string | undefined;
  try {
    protocol = new URL(text).protocol;
  } catch {
    protocol = undefined;
  }
  if (protocol !== 'http:' && protocol !== 'https:') {
    throw new CtlakeError(
      'INVALID_OPTION',
      (n) => `the CloudTrail endpoint must be an http:// or https:// URL such as http://127.0.0.1:4566, not ${quoted(maskSecrets(text))}; check ${n('endpointUrl')}, AWS_ENDPOINT_URL_CLOUDTRAIL and AWS_ENDPOINT_URL`,
      { option: 'endpointUrl' },
    );
  }
}

import { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { CtlakeError } from '../errors.js';

export interface ClientOptions {
  /** AWS region; else the SDK's chain (AWS_REGION, the profile's region). */
  region?: string | undefined;
  /** A profile from ~/.aws/config and ~/.aws/credentials; else AWS_PROFILE or `default`. */
  profile?: string | undefined;
  /**
   * The CloudTrail endpoint, e.g. an emulator's URL. Else the SDK reads
   * AWS_ENDPOINT_URL_CLOUDTRAIL, then AWS_ENDPOINT_URL, then the region's endpoint.
   */
  endpointUrl?: string | undefined;
  /**
   * A request whose socket stays silent this long fails with a TimeoutError,
   * which is retried like any network fault. Without it a stalled connection
   * would hang the export for ever.
   * @default 60000
   */
  requestTimeoutMs?: number | undefined;
}

/**
 * The CloudTrail client ctlake uses when the caller brings none. Its own retry
 * is off (`maxAttempts: 1`): src/source/retry.ts is the single retry layer, so
 * that a throttled page is retried with our capped, abortable backoff and not
 * 3 × N times.
 *
 * An endpoint that is not an http(s) URL fails here with INVALID_OPTION, before
 * any request: the SDK would only fail at the first call, with an error that
 * reads like a bad answer.
 */
export function createCloudTrailClient(options: ClientOptions = {}): CloudTrailClient {
  if (options.endpointUrl) checkEndpointUrl(options.endpointUrl);
  const client = new CloudTrailClient({
    maxAttempts: 1,
    requestHandler: { socketTimeout: options.requestTimeoutMs ?? 60_000, connectionTimeout: 10_000 },
    ...(options.region ? { region: options.region } : {}),
    ...(options.profile ? { profile: options.profile } : {}),
    ...(options.endpointUrl ? { endpoint: options.endpointUrl } : {}),
  });
  // The SDK's logger middleware copies every response through its
  // schema-driven sensitive-field filter before handing it to the logger,
  // even to the default logger that discards it. On a 1,000-row SELECT * page
  // that copy is more than half of the client's work (measured: 40 ms per
  // page with it, 16 ms without). ctlake gives the client no logger.
  client.middlewareStack.remove('loggerMiddleware');
  return client;
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
      `the CloudTrail endpoint must be an http:// or https:// URL such as http://127.0.0.1:4566, not '${text}'; check --endpoint-url, AWS_ENDPOINT_URL_CLOUDTRAIL and AWS_ENDPOINT_URL`,
    );
  }
}

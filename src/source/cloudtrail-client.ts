import { CloudTrailClient } from '@aws-sdk/client-cloudtrail';

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
 */
export function createCloudTrailClient(options: ClientOptions = {}): CloudTrailClient {
  return new CloudTrailClient({
    maxAttempts: 1,
    requestHandler: { socketTimeout: options.requestTimeoutMs ?? 60_000, connectionTimeout: 10_000 },
    ...(options.region ? { region: options.region } : {}),
    ...(options.profile ? { profile: options.profile } : {}),
    ...(options.endpointUrl ? { endpoint: options.endpointUrl } : {}),
  });
}

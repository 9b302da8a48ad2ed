import type { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { CtlakeError, quoted } from '../errors.js';
import { checkedStatus, isPending, MAX_QUERY_WAIT_MS, pollDescribeQuery, queryEndedError, unexpected, type WaitOptions } from './query-status.js';

/**
 * Lake's own delivery of a query's results to S3 (StartQuery
 * DeliveryS3Uri): DescribeQuery says DeliveryStatus PENDING until the
 * result_N.csv.gz files and result_sign.json are written, then SUCCESS,
 * or one of the failures below. A query that ends FAILED, CANCELLED or
 * TIMED_OUT delivers nothing.
 */

/** The DeliveryStatus values of the service model. */
export type DeliveryStatus =
  | 'SUCCESS'
  | 'FAILED'
  | 'FAILED_SIGNING_FILE'
  | 'PENDING'
  | 'RESOURCE_NOT_FOUND'
  | 'ACCESS_DENIED'
  | 'ACCESS_DENIED_SIGNING_FILE'
  | 'CANCELLED'
  | 'UNKNOWN';

export const DELIVERY_STATUSES: readonly DeliveryStatus[] = Object.freeze([
  'SUCCESS',
  'FAILED',
  'FAILED_SIGNING_FILE',
  'PENDING',
  'RESOURCE_NOT_FOUND',
  'ACCESS_DENIED',
  'ACCESS_DENIED_SIGNING_FILE',
  'CANCELLED',
  'UNKNOWN',
]);

/**
 * waitForQuery's options, less the query's: `signal`, `retry`, `onRetry`,
 * `onStatus`, and the poll delays and bound, whose defaults here are
 * 1000 ms, 10000 ms and MAX_DELIVERY_WAIT_MS (the bound counts the time
 * the query runs and the delivery is PENDING).
 */
export type DeliveryWaitOptions = Omit<WaitOptions, 'queryId' | 'eventDataStore'>;

/**
 * A query may run for an hour (then Lake ends it TIMED_OUT), and Lake
 * writes the files after that: three hours bounds both with room to spare.
 */
export const MAX_DELIVERY_WAIT_MS = MAX_QUERY_WAIT_MS + 3_600_000;

export interface Delivery {
  /** Where the query's results were delivered, as DescribeQuery gives it (`s3://bucket/prefix`). */
  deliveryS3Uri: string;
  deliveryStatus: 'SUCCESS';
}

/**
 * Polls DescribeQuery until the query's DeliveryStatus leaves PENDING (an
 * answer without one counts as pending while the wait lasts). Resolves
 * with the delivery on SUCCESS. Rejects with DELIVERY_FAILED for every
 * other status (deliveryFailure), and for a query started without a
 * DeliveryS3Uri; with the QUERY_* error of queryEndedError when the query
 * itself ends without FINISHED; with UNEXPECTED_RESPONSE for a status the
 * model does not know, or once `maxWaitMs` has passed; with INTERRUPTED on
 * abort. Every poll is retried as every call is.
 */
export async function waitForDelivery(client: CloudTrailClient, queryId: string, options: DeliveryWaitOptions): Promise<Delivery> {
  const poll = { ...options, queryId, pollMinMs: options.pollMinMs ?? 1000, pollMaxMs: options.pollMaxMs ?? 10_000, maxWaitMs: options.maxWaitMs ?? MAX_DELIVERY_WAIT_MS };
  return pollDescribeQuery<Delivery>(client, poll, {
    settle: (description) => {
      options.onStatus?.(description);
      const queryStatus = checkedStatus(description.QueryStatus, 'DescribeQuery', queryId);
      if (!isPending(queryStatus) && queryStatus !== 'FINISHED') throw queryEndedError(queryId, queryStatus, description.ErrorMessage);
      const uri = description.DeliveryS3Uri;
      if (typeof uri !== 'string' || uri === '') {
        throw new CtlakeError('DELIVERY_FAILED', `query ${queryId} has no DeliveryS3Uri: Lake delivers only the results of a query started with one; start the query with a DeliveryS3Uri (s3://bucket/prefix)`, {
          queryId,
          option: 'deliveryS3Uri',
        });
      }
      const status = description.DeliveryStatus as string | undefined;
      if (status !== undefined && !DELIVERY_STATUSES.includes(status as DeliveryStatus)) {
        unexpected((n) => `DescribeQuery: the answer has DeliveryStatus ${quoted(status)}, none of ${DELIVERY_STATUSES.join(', ')}; check ${n('endpointUrl')}`, queryId);
      }
      if (status === 'SUCCESS') return { deliveryS3Uri: uri, deliveryStatus: 'SUCCESS' };
      if (status !== undefined && status !== 'PENDING') throw deliveryFailure(queryId, uri, status as Exclude<DeliveryStatus, 'SUCCESS' | 'PENDING'>);
      return undefined;
    },
    tooLong: (description, waited) => {
      const still = `still ${description.DeliveryStatus ?? 'without a DeliveryStatus'} (query ${description.QueryStatus}) after ${waited >= 120_000 ? `${Math.round(waited / 60_000)} minutes` : `${Math.round(waited / 1000)} s`}`;
      return new CtlakeError('UNEXPECTED_RESPONSE', `DescribeQuery: the delivery of query ${queryId} to ${description.DeliveryS3Uri} is ${still}; the service is not settling it`, { queryId, status: description.DeliveryStatus });
    },
  });
}

/** The bucket of `s3://bucket/prefix`, for messages; the URI itself when it is not one. */
function bucketOf(uri: string): string {
  const match = /^s3:\/\/([^/]+)/.exec(uri);
  return match ? match[1]! : uri;
}

/**
 * The DELIVERY_FAILED error of a DeliveryStatus that is not SUCCESS or
 * PENDING: it names the status, the query and what to do. Its `status` is
 * the DeliveryStatus.
 */
export function deliveryFailure(queryId: string, uri: string, status: Exclude<DeliveryStatus, 'SUCCESS' | 'PENDING'>): CtlakeError {
  const bucket = quoted(bucketOf(uri), 120);
  const policy = `the policy of bucket ${bucket} must allow s3:PutObject (and s3:GetBucketAcl) to the service principal cloudtrail.amazonaws.com, and a KMS key of the bucket must let CloudTrail use it`;
  const fixes: Record<typeof status, string> = {
    ACCESS_DENIED: `CloudTrail may not write to ${quoted(uri, 160)}: ${policy}; then run the query again`,
    ACCESS_DENIED_SIGNING_FILE: `CloudTrail wrote the result files but may not write result_sign.json to ${quoted(uri, 160)}: ${policy}; then run the query again`,
    RESOURCE_NOT_FOUND: `the bucket ${bucket} does not exist (or is in another partition); create it, or start the query with a DeliveryS3Uri of a bucket that exists`,
    FAILED_SIGNING_FILE: `CloudTrail wrote the result files to ${quoted(uri, 160)} but could not sign them, so the delivery cannot be verified; run the query again, or export it through GetQueryResults`,
    CANCELLED: `the delivery to ${quoted(uri, 160)} was cancelled (the query was cancelled while its results were written); what was written is incomplete: run the query again`,
    FAILED: `CloudTrail could not write the results to ${quoted(uri, 160)}; check that the bucket exists and that ${policy}, then run the query again`,
    UNKNOWN: `CloudTrail reports the delivery to ${quoted(uri, 160)} as UNKNOWN; look in the bucket, and run the query again if result_sign.json is not there`,
  };
  return new CtlakeError('DELIVERY_FAILED', `query ${queryId}: delivery ${status}: ${fixes[status]}`, { queryId, status });
}

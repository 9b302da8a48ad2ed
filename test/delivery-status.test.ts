import { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { afterEach, describe, expect, it } from 'vitest';
import { CtlakeError, isCtlakeError } from '../src/errors.js';
import { waitForDelivery } from '../src/source/delivery-status.js';
import { fakeEndpoint, json, type FakeAnswer, type FakeEndpoint } from './support/fake-endpoint.js';
import { FAST_RETRY, QUERY_ID } from './support/lake.js';

// The emulator refuses DeliveryS3Uri for now: these canned DescribeQuery answers are served over HTTP to the real SDK.

const URI = 's3://audit-bucket/lake';
let endpoint: FakeEndpoint | undefined;
let client: CloudTrailClient | undefined;

afterEach(async () => {
  client?.destroy();
  await endpoint?.close();
  endpoint = client = undefined;
});

/** A client of an endpoint that answers DescribeQuery with `answers` in turn, the last one from then on. */
async function serving(answers: FakeAnswer[]): Promise<CloudTrailClient> {
  let next = 0;
  endpoint = await fakeEndpoint(() => answers[Math.min(next++, answers.length - 1)]!);
  client = new CloudTrailClient({ endpoint: endpoint.url, region: 'us-east-1', credentials: { accessKeyId: 'AKID', secretAccessKey: 'secret' }, maxAttempts: 1 });
  return client;
}

const described = (queryStatus: string, deliveryStatus?: string, extra: Record<string, unknown> = {}) =>
  json({ QueryId: QUERY_ID, QueryStatus: queryStatus, DeliveryS3Uri: URI, ...(deliveryStatus ? { DeliveryStatus: deliveryStatus } : {}), ...extra });

const fast = { retry: FAST_RETRY, pollMinMs: 1, pollMaxMs: 2 };

async function failure(promise: Promise<unknown>): Promise<CtlakeError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CtlakeError);
  return error as CtlakeError;
}

describe('waitForDelivery', () => {
  it('waits while the query runs and the delivery is PENDING, and resolves on SUCCESS', async () => {
    const c = await serving([described('RUNNING'), described('RUNNING', 'PENDING'), described('FINISHED', 'PENDING'), described('FINISHED', 'SUCCESS')]);
    const seen: Array<string | undefined> = [];
    const delivery = await waitForDelivery(c, QUERY_ID, { ...fast, onStatus: (d) => seen.push(d.DeliveryStatus) });
    expect(delivery).toEqual({ deliveryS3Uri: URI, deliveryStatus: 'SUCCESS' });
    expect(seen).toEqual([undefined, 'PENDING', 'PENDING', 'SUCCESS']);
    expect(endpoint!.calls).toEqual(['DescribeQuery', 'DescribeQuery', 'DescribeQuery', 'DescribeQuery']);
  });

  it('retries a throttled poll', async () => {
    const c = await serving([json({ __type: 'ThrottlingException', message: 'slow down' }, 400), described('FINISHED', 'SUCCESS')]);
    const retries: string[] = [];
    await waitForDelivery(c, QUERY_ID, { ...fast, onRetry: (event) => retries.push(event.operation) });
    expect(retries).toEqual(['DescribeQuery']);
  });

  const failures: Array<[string, RegExp]> = [
    ['ACCESS_DENIED', /delivery ACCESS_DENIED: CloudTrail may not write to "s3:\/\/audit-bucket\/lake": the policy of bucket "audit-bucket" must allow s3:PutObject .* cloudtrail\.amazonaws\.com/],
    ['ACCESS_DENIED_SIGNING_FILE', /delivery ACCESS_DENIED_SIGNING_FILE: CloudTrail wrote the result files but may not write result_sign\.json .* policy of bucket "audit-bucket"/],
    ['RESOURCE_NOT_FOUND', /delivery RESOURCE_NOT_FOUND: the bucket "audit-bucket" does not exist/],
    ['FAILED_SIGNING_FILE', /delivery FAILED_SIGNING_FILE: .* could not sign them, so the delivery cannot be verified; run the query again/],
    ['CANCELLED', /delivery CANCELLED: .* was cancelled/],
    ['FAILED', /delivery FAILED: CloudTrail could not write the results/],
    ['UNKNOWN', /delivery UNKNOWN: /],
  ];
  for (const [status, message] of failures) {
    it(`fails DELIVERY_FAILED on ${status}, naming the status, the query and the fix`, async () => {
      const c = await serving([described('FINISHED', 'PENDING'), described('FINISHED', status)]);
      const error = await failure(waitForDelivery(c, QUERY_ID, fast));
      expect(error.code).toBe('DELIVERY_FAILED');
      expect(error.status).toBe(status);
      expect(error.queryId).toBe(QUERY_ID);
      expect(error.message).toMatch(new RegExp(`^query ${QUERY_ID}: `));
      expect(error.message).toMatch(message);
    });
  }

  it('fails DELIVERY_FAILED for a query started without DeliveryS3Uri', async () => {
    const c = await serving([json({ QueryId: QUERY_ID, QueryStatus: 'FINISHED' })]);
    const error = await failure(waitForDelivery(c, QUERY_ID, fast));
    expect(error.code).toBe('DELIVERY_FAILED');
    expect(error.message).toContain(`query ${QUERY_ID} has no DeliveryS3Uri`);
  });

  it('fails as the query did when it ends without FINISHED', async () => {
    const c = await serving([described('RUNNING', 'PENDING'), described('TIMED_OUT', 'PENDING')]);
    expect((await failure(waitForDelivery(c, QUERY_ID, fast))).code).toBe('QUERY_TIMED_OUT');
  });

  it('refuses a DeliveryStatus the model does not have, and an answer without QueryStatus', async () => {
    const c = await serving([described('FINISHED', 'DELIVERED')]);
    const error = await failure(waitForDelivery(c, QUERY_ID, fast));
    expect(error.code).toBe('UNEXPECTED_RESPONSE');
    expect(error.message).toContain('DeliveryStatus "DELIVERED", none of SUCCESS, FAILED');
    await endpoint!.close();
    client!.destroy();
    const d = await serving([json({})]);
    expect((await failure(waitForDelivery(d, QUERY_ID, fast))).code).toBe('UNEXPECTED_RESPONSE');
  });

  it('never waits unbounded: a delivery PENDING for ever ends after maxWaitMs', async () => {
    const c = await serving([described('FINISHED', 'PENDING')]);
    const error = await failure(waitForDelivery(c, QUERY_ID, { ...fast, maxWaitMs: 30 }));
    expect(error.code).toBe('UNEXPECTED_RESPONSE');
    expect(error.message).toMatch(/the delivery of query .* to s3:\/\/audit-bucket\/lake is still PENDING \(query FINISHED\) after \d+ s; the service is not settling it/);
  });

  it('stops with INTERRUPTED when aborted', async () => {
    const c = await serving([described('FINISHED', 'PENDING')]);
    const controller = new AbortController();
    const waiting = waitForDelivery(c, QUERY_ID, { ...fast, pollMinMs: 10_000, pollMaxMs: 10_000, signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    expect(isCtlakeError(await failure(waiting), 'INTERRUPTED')).toBe(true);
  });
});

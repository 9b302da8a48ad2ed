import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { GetQueryResultsCommand, type DescribeQueryCommandOutput } from '@aws-sdk/client-cloudtrail';
import { CtlakeError, quoted } from '../errors.js';
import type { ObjectStore } from '../destinations/store.js';
import type { ManifestDelivery } from '../dataset/manifest.js';
import { parseS3Url } from '../destinations/target.js';
import { ColumnSet, type FlatRecord } from '../rows/flatten-row.js';
import { deliveredRows } from '../rows/delivery-csv.js';
import { publicKeysAround, resultFileOrder, SIGN_FILE } from '../source/delivery-sign.js';
import { verifyDeliveryFolder } from '../dataset/verify-delivery.js';
import { waitForDelivery } from '../source/delivery-status.js';
import { waitForQuery } from '../source/query-status.js';
import { withRetry } from '../source/retry.js';
import type { ExportRun } from './export-run.js';

/**
 * The delivery of the run's query: DeliveryStatus waited for until SUCCESS
 * (each failure status is DELIVERY_FAILED, naming it), then the folder
 * verified as `ctlake verify` does (verifyDeliveryFolder): every file
 * `result_sign.json` lists against its SHA-256 (of the compressed bytes),
 * the signature against Lake's public key for its time (ListPublicKeys),
 * and nothing unsigned beside them. Any problem is VERIFY_FAILED naming the
 * file and what differed, before a delivered row is used.
 */
export async function verifiedDelivery(
  run: ExportRun,
  queryId: string,
  consume?: (name: string, stream: Readable) => Promise<void>,
): Promise<{ record: Omit<ManifestDelivery, 'via' | 'rows'>; store: ObjectStore; order: string[] }> {
  const options = run.options;
  const call = { signal: run.controller.signal, retry: options.retry, onRetry: options.onRetry };
  const delivery = await waitForDelivery(run.client, queryId, { ...call, pollMinMs: options.pollMinMs, pollMaxMs: options.pollMaxMs, maxWaitMs: options.maxWaitMs });
  const store = await deliveryStore(run, delivery.deliveryS3Uri);
  const report = await verifyDeliveryFolder(store, { publicKeys: (time) => publicKeysAround(run.client, time, call), consume });
  if (!report.ok) throw verifyFailed(queryId, delivery.deliveryS3Uri, report.problems);
  const sign = report.sign!;
  return {
    record: {
      s3Uri: delivery.deliveryS3Uri,
      deliveryStatus: delivery.deliveryStatus,
      files: report.files.map((f) => ({ name: f.name, sha256: f.sha256, bytes: f.bytes })),
      signature: sign.hashSignature,
      publicKeyFingerprint: report.fingerprint!,
      queryCompleteTime: report.queryCompleteTime,
      verified: true,
    },
    store,
    order: resultFileOrder(sign),
  };
}

/**
 * The rows of the delivered files, in the order the sign file lists them,
 * flattened as pages' rows are, after verifiedDelivery. Each file is hashed
 * again as it is read and must still match (a file replaced between the
 * check and the read fails before anything is committed). The rows counted
 * must equal the query's TotalResultsCount (COUNT_MISMATCH otherwise).
 * `settle` gives the columns settled from the SQL, as for pages.
 */
export async function* deliveredBatches(
  run: ExportRun,
  queryId: string,
  settle: (description: DescribeQueryCommandOutput | undefined) => Promise<readonly string[] | undefined>,
): AsyncGenerator<FlatRecord[]> {
  const options = run.options;
  const description = await waitForQuery(run.client, {
    ...options,
    queryId,
    signal: run.controller.signal,
    onStatus: (d) => options.onStatus?.(d.QueryStatus ?? 'UNKNOWN'),
  });
  run.tally.description = description;
  clearTimeout(run.timer);
  const total = await totalResultsCount(run, queryId);
  run.tally.totalResultsCount = total;
  const { record, store, order } = await verifiedDelivery(run, queryId);
  const hashes = new Map(record.files.map((f) => [f.name, f.sha256]));
  const columns = new ColumnSet();
  run.tally.columns = columns.names;
  const sources = await settle(description);
  if (sources !== undefined) columns.expect(sources);
  let rows = 0;
  for (const name of order) {
    const hash = createHash('sha256');
    const source = await store.read(name);
    source.on('data', (chunk: Buffer) => hash.update(chunk));
    for await (const batch of deliveredRows(source, { fileName: name, signal: run.controller.signal })) {
      const records = batch.map((row) => columns.toRecord(row));
      rows += records.length;
      run.tally.rows = rows;
      yield records;
    }
    if (hash.digest('hex') !== hashes.get(name)) throw verifyFailed(queryId, record.s3Uri, [`${quoted(name)} changed after it was verified (its SHA-256 differs from ${SIGN_FILE})`]);
    run.tally.pages++;
  }
  if (total !== undefined && rows !== total) {
    throw new CtlakeError('COUNT_MISMATCH', `query ${queryId}: the delivered files hold ${rows} rows but the service reported TotalResultsCount ${total}; nothing was committed`, { queryId });
  }
  run.delivery = { ...record, via: 'delivery', rows };
}

/**
 * The pages' batches, then a cross-check of the delivery before the
 * consumer sees their end: the delivery verified, and its files holding as
 * many rows as the pages did (COUNT_MISMATCH otherwise). So a writer never
 * commits an export whose delivery does not agree. Each file is read once:
 * its rows are counted as it is hashed.
 */
export async function* crossCheckedBatches(run: ExportRun, queryId: string, batches: AsyncIterable<FlatRecord[]>): AsyncGenerator<FlatRecord[]> {
  for await (const batch of batches) yield batch;
  let rows = 0;
  const { record } = await verifiedDelivery(run, queryId, async (name, stream) => {
    for await (const batch of deliveredRows(stream, { fileName: name, signal: run.controller.signal })) rows += batch.length;
  });
  if (rows !== run.tally.rows) {
    throw new CtlakeError('COUNT_MISMATCH', `query ${queryId}: the pages held ${run.tally.rows} rows but the delivery ${record.s3Uri} holds ${rows}; nothing was committed`, { queryId });
  }
  run.delivery = { ...record, via: 'cross-check', rows };
}

/** TotalResultsCount from one GetQueryResults of one row: the delivered files must add up to it. */
async function totalResultsCount(run: ExportRun, queryId: string): Promise<number | undefined> {
  const response = await withRetry(() => run.client.send(new GetQueryResultsCommand({ QueryId: queryId, MaxQueryResults: 1 }), { abortSignal: run.controller.signal }), {
    operation: 'GetQueryResults',
    queryId,
    signal: run.controller.signal,
    retry: run.options.retry,
    onRetry: run.options.onRetry,
  });
  const total = response.QueryStatistics?.TotalResultsCount;
  return Number.isSafeInteger(total) && (total as number) >= 0 ? total : undefined;
}

/** The delivery folder as an ObjectStore on S3, through the run's S3 client (built once, destroyed with the run). */
async function deliveryStore(run: ExportRun, s3Uri: string): Promise<ObjectStore> {
  const url = parseS3Url(s3Uri);
  if (!url) throw new CtlakeError('UNEXPECTED_RESPONSE', `DescribeQuery: DeliveryS3Uri ${quoted(s3Uri)} is not an s3:// URI`);
  const options = run.options;
  const s3Module = await import('../destinations/s3.js');
  run.s3 ??= options.s3Client ?? s3Module.createS3Client({ region: options.region, profile: options.profile, endpointUrl: options.s3EndpointUrl, forcePathStyle: options.s3ForcePathStyle });
  const prefix = url.key === '' || url.key.endsWith('/') ? url.key : `${url.key}/`;
  return s3Module.s3Store(run.s3, url.bucket, prefix, options.s3);
}

function verifyFailed(queryId: string, s3Uri: string, problems: string[]): CtlakeError {
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more: ctlake verify ${s3Uri} lists them)` : '';
  return new CtlakeError('VERIFY_FAILED', `query ${queryId}: the delivery ${s3Uri} does not verify: ${problems[0]}${more}; nothing was committed`, { queryId });
}


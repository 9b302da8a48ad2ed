import { createHash } from 'node:crypto';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { createGzip } from 'node:zlib';
import type { S3Client } from '@aws-sdk/client-s3';
import { DEFAULT_ROWS_PER_FILE, resultFileLines, resultFileName, resultFileRanges, type ResultTableRow } from './result-csv.js';
import { ServiceError } from './service-error.js';
import { SigningKey } from './signing.js';

/**
 * Lake's delivery of query results to S3 (StartQuery's DeliveryS3Uri), as the
 * emulator plays it against an S3-compatible endpoint it is given.
 *
 * When a query FINISHES, its results go to
 * `<prefix>/AWSLogs/<account>/CloudTrail-Lake/Query/<yyyy>/<mm>/<dd>/<queryId>/`
 * (the UTC date the query completed), as `result_1.csv.gz`, `result_2.csv.gz`,
 * ... (result-csv.ts) and then `result_sign.json`, the sign file Lake
 * documents: the files' SHA-256 (of the gzip bytes), and a SHA256withRSA
 * signature over those hashes joined by single spaces (signing.ts).
 *
 * DescribeQuery's DeliveryStatus is PENDING until both are written and at
 * least one DescribeQuery has shown the FINISHED query as PENDING, so that a
 * client must wait for delivery as it must on the service; then SUCCESS, or
 * how it failed (see `failureStatus`). A query that ends FAILED, CANCELLED or
 * TIMED_OUT delivers nothing: DeliveryStatus FAILED for the first, CANCELLED
 * for the other two (Lake does not document these; choices of the emulator).
 */

/** DescribeQuery's DeliveryStatus, as the service model enumerates it. */
export type DeliveryStatus = 'SUCCESS' | 'FAILED' | 'FAILED_SIGNING_FILE' | 'PENDING' | 'RESOURCE_NOT_FOUND' | 'ACCESS_DENIED' | 'ACCESS_DENIED_SIGNING_FILE' | 'CANCELLED' | 'UNKNOWN';

/** The ways a delivery can fail, which FaultOptions.deliveryFailure can force. */
export type DeliveryFailure = 'FAILED' | 'FAILED_SIGNING_FILE' | 'RESOURCE_NOT_FOUND' | 'ACCESS_DENIED' | 'ACCESS_DENIED_SIGNING_FILE';
export const DELIVERY_FAILURES: readonly DeliveryFailure[] = ['FAILED', 'FAILED_SIGNING_FILE', 'RESOURCE_NOT_FOUND', 'ACCESS_DENIED', 'ACCESS_DENIED_SIGNING_FILE'];

export const SIGN_FILE_NAME = 'result_sign.json';

export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string | undefined;
}

/** How the emulator delivers (EmulatorOptions). */
export interface DeliveryOptions {
  /** The S3-compatible endpoint results are written to, e.g. `http://127.0.0.1:9000`. @default none: StartQuery refuses DeliveryS3Uri */
  s3EndpointUrl?: string | undefined;
  /** Path-style addressing (`endpoint/bucket/key`), which local S3 servers need. @default true */
  s3ForcePathStyle?: boolean | undefined;
  /** Credentials for the endpoint. @default the AWS SDK's default chain (AWS_ACCESS_KEY_ID and the rest) */
  s3Credentials?: S3Credentials | undefined;
  /** How long after a query finishes its delivery starts. @default 50 */
  deliveryDelayMs?: number | undefined;
  /** Rows per result file; more rows make result_2.csv.gz and so on. @default 100000 */
  deliveryFileRows?: number | undefined;
  /** The RSA private key (PEM) that signs sign files, for reproducible signatures. @default a 2048-bit key made for the emulator's life */
  signingKey?: string | Buffer | undefined;
}

/** Where a query's results go: the bucket and key prefix of its DeliveryS3Uri. */
export interface DeliveryTarget {
  bucket: string;
  /** Without leading or trailing slashes; '' for the bucket's root. */
  prefix: string;
}

/** A query's delivery, kept with the query (StoredQuery.delivery). */
export interface QueryDelivery {
  /** DeliveryS3Uri as StartQuery was given it. */
  uri: string;
  target: DeliveryTarget;
  /** `s3://bucket/.../<queryId>/`, once the query finished. */
  folder: string | undefined;
  /** How the writing ended; undefined while it goes on. */
  outcome: DeliveryStatus | undefined;
  /** Whether a DescribeQuery has shown the finished query as PENDING. */
  shownPending: boolean;
  /** Why the delivery failed (the S3 error), for tests and logs; not on the wire. */
  error: string | undefined;
}

/**
 * Checks a DeliveryS3Uri as the service does (the model's pattern
 * `s3://[a-z0-9][\.\-a-z0-9]{1,61}[a-z0-9](/.*)?`, at most 1024 characters,
 * and S3's bucket naming rules): InvalidS3BucketNameException for a bad
 * bucket, InvalidS3PrefixException for a prefix with an empty, `.` or `..`
 * segment or a control character.
 */
export function parseDeliveryUri(uri: unknown): DeliveryTarget {
  if (typeof uri !== 'string' || !uri.startsWith('s3://') || uri.length > 1024) {
    throw new ServiceError('InvalidParameterException', 'DeliveryS3Uri must be an S3 URI such as s3://bucket/prefix, of at most 1024 characters.');
  }
  const rest = uri.slice('s3://'.length);
  const slash = rest.indexOf('/');
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  const rawPrefix = slash < 0 ? '' : rest.slice(slash + 1);
  const badBucket =
    !/^[a-z0-9][.\-a-z0-9]{1,61}[a-z0-9]$/.test(bucket) || bucket.includes('..') || /^\d+\.\d+\.\d+\.\d+$/.test(bucket) || bucket.startsWith('xn--') || bucket.endsWith('-s3alias');
  if (badBucket) throw new ServiceError('InvalidS3BucketNameException', `The S3 bucket name ${JSON.stringify(bucket.slice(0, 80))} is not valid.`);
  const prefix = rawPrefix.replace(/\/$/, '');
  // eslint-disable-next-line no-control-regex
  if (prefix !== '' && (prefix.split('/').some((s) => s === '' || s === '.' || s === '..') || /[\u0000-\u001f\u007f\\]/.test(prefix))) {
    throw new ServiceError('InvalidS3PrefixException', `The S3 prefix ${JSON.stringify(prefix.slice(0, 80))} is not valid.`);
  }
  return { bucket, prefix };
}

/** The status an S3 error makes: a missing bucket, a refusal (HTTP 403), or any other failure, of the results or of the sign file. */
export function failureStatus(error: unknown, signFile: boolean): DeliveryFailure {
  const e = error as { name?: string; Code?: string; $metadata?: { httpStatusCode?: number } };
  if (e?.name === 'NoSuchBucket' || e?.Code === 'NoSuchBucket') return 'RESOURCE_NOT_FOUND';
  if (e?.$metadata?.httpStatusCode === 403 || e?.name === 'AccessDenied') return signFile ? 'ACCESS_DENIED_SIGNING_FILE' : 'ACCESS_DENIED';
  return signFile ? 'FAILED_SIGNING_FILE' : 'FAILED';
}

/** The result a query delivers: its columns and rows with NULLs kept. */
export interface DeliveredResult {
  queryId: string;
  columns: readonly string[];
  table: readonly ResultTableRow[];
  completedAt: Date;
}

/** The deliveries of one emulator: its S3 client, its signing key, the writes under way. */
export class Deliveries {
  readonly key: SigningKey;
  readonly #options: DeliveryOptions;
  readonly #region: string;
  readonly #accountId: string;
  readonly #forced: () => DeliveryFailure | undefined;
  readonly #rowsPerFile: number;
  readonly #delayMs: number;
  readonly #running = new Set<Promise<void>>();
  readonly #abort = new AbortController();
  #client: Promise<S3Client> | undefined;

  /**
   * `forced`: the failure a delivery starting now is to end with
   * (FaultOptions.deliveryFailure), if any. Throws a TypeError for a bad
   * option (endpoint URL, rows per file, delay, key).
   */
  constructor(options: DeliveryOptions, place: { region: string; accountId: string }, forced: () => DeliveryFailure | undefined = () => undefined) {
    if (options.s3EndpointUrl !== undefined && !URL.canParse(options.s3EndpointUrl)) {
      throw new TypeError(`startEmulator: s3EndpointUrl must be a URL such as http://127.0.0.1:9000, not ${JSON.stringify(String(options.s3EndpointUrl)).slice(0, 80)}`);
    }
    const rows = options.deliveryFileRows ?? DEFAULT_ROWS_PER_FILE;
    if (!Number.isInteger(rows) || rows < 1) throw new TypeError(`startEmulator: deliveryFileRows must be a positive whole number, not ${JSON.stringify(rows)}`);
    const delay = options.deliveryDelayMs ?? 50;
    if (!Number.isFinite(delay) || delay < 0) throw new TypeError(`startEmulator: deliveryDelayMs must be a number of ms ≥ 0, not ${JSON.stringify(delay)}`);
    this.#options = options;
    this.#region = place.region;
    this.#accountId = place.accountId;
    this.#forced = forced;
    this.#rowsPerFile = rows;
    this.#delayMs = delay;
    this.key = new SigningKey(options.signingKey);
  }

  /** StartQuery's check of a DeliveryS3Uri: a QueryDelivery to keep with the query, or a ServiceError. */
  accept(uri: unknown): QueryDelivery {
    if (this.#options.s3EndpointUrl === undefined) {
      throw new ServiceError('UnsupportedOperationException', 'This emulator has no S3 endpoint to deliver query results to: start it with --s3-endpoint-url URL (library: s3EndpointUrl), or leave out DeliveryS3Uri.');
    }
    const target = parseDeliveryUri(uri);
    return { uri: uri as string, target, folder: undefined, outcome: undefined, shownPending: false, error: undefined };
  }

  /** The folder (key prefix, with its slash) a query's files go to. */
  folderKey(target: DeliveryTarget, queryId: string, completedAt: Date): string {
    const iso = completedAt.toISOString();
    const date = `${iso.slice(0, 4)}/${iso.slice(5, 7)}/${iso.slice(8, 10)}`;
    return `${target.prefix ? `${target.prefix}/` : ''}AWSLogs/${this.#accountId}/CloudTrail-Lake/Query/${date}/${queryId}/`;
  }

  /** Starts delivering a FINISHED query's result, `deliveryDelayMs` from now. Never throws: a failure becomes the delivery's outcome. */
  deliver(delivery: QueryDelivery, result: DeliveredResult): void {
    const folder = this.folderKey(delivery.target, result.queryId, result.completedAt);
    delivery.folder = `s3://${delivery.target.bucket}/${folder}`;
    const run = (async () => {
      await sleep(this.#delayMs, undefined, { signal: this.#abort.signal });
      delivery.outcome = await this.#write(delivery, folder, result);
    })().catch((error: unknown) => {
      delivery.error = String(error);
      delivery.outcome = 'FAILED';
    });
    this.#running.add(run);
    void run.finally(() => this.#running.delete(run));
  }

  /** DescribeQuery's DeliveryS3Uri and DeliveryStatus for a query of this status. */
  describe(delivery: QueryDelivery, queryStatus: string): { DeliveryS3Uri: string; DeliveryStatus: DeliveryStatus } {
    if (queryStatus === 'FAILED') return { DeliveryS3Uri: delivery.uri, DeliveryStatus: 'FAILED' };
    if (queryStatus === 'CANCELLED' || queryStatus === 'TIMED_OUT') return { DeliveryS3Uri: delivery.uri, DeliveryStatus: 'CANCELLED' };
    if (queryStatus !== 'FINISHED' || delivery.folder === undefined) return { DeliveryS3Uri: delivery.uri, DeliveryStatus: 'PENDING' };
    if (delivery.outcome === undefined || !delivery.shownPending) {
      delivery.shownPending = true;
      return { DeliveryS3Uri: delivery.folder, DeliveryStatus: 'PENDING' };
    }
    return { DeliveryS3Uri: delivery.folder, DeliveryStatus: delivery.outcome };
  }

  /** Stops the writes under way (they end FAILED) and closes the S3 client. */
  async close(): Promise<void> {
    this.#abort.abort();
    await Promise.allSettled([...this.#running]);
    if (this.#client) (await this.#client.catch(() => undefined))?.destroy();
  }

  /** Writes the result files, then the sign file; resolves to the outcome. */
  async #write(delivery: QueryDelivery, folder: string, result: DeliveredResult): Promise<DeliveryStatus> {
    if (this.#abort.signal.aborted) return 'FAILED';
    const forced = this.#forced();
    if (forced !== undefined && !forced.endsWith('_SIGNING_FILE')) return forced;
    const client = await this.#s3();
    const { bucket } = delivery.target;
    const files: Array<{ fileHashValue: string; fileName: string }> = [];
    const ranges = resultFileRanges(result.table.length, this.#rowsPerFile);
    for (const [index, [start, end]] of ranges.entries()) {
      const fileName = resultFileName(index);
      try {
        const fileHashValue = await this.#upload(client, bucket, folder + fileName, Readable.from(resultFileLines(result.columns, result.table, start, end)));
        files.push({ fileHashValue, fileName });
      } catch (error) {
        delivery.error = String(error);
        return failureStatus(error, false);
      }
    }
    if (forced !== undefined) return forced;
    const signFile = await this.#signFile(files, result.completedAt);
    try {
      const { PutObjectCommand } = await import('@aws-sdk/client-s3');
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: folder + SIGN_FILE_NAME, Body: signFile, ContentType: 'application/json' }), { abortSignal: this.#abort.signal });
    } catch (error) {
      delivery.error = String(error);
      return failureStatus(error, true);
    }
    return 'SUCCESS';
  }

  /**
   * The sign file, with the fields and order Lake's documentation shows:
   * version, region, files [{fileHashValue, fileName}], hashAlgorithm,
   * signatureAlgorithm, queryCompleteTime (ISO 8601 to the second, UTC),
   * hashSignature, publicKeyFingerprint.
   */
  async #signFile(files: Array<{ fileHashValue: string; fileName: string }>, completedAt: Date): Promise<string> {
    const hashSignature = await this.key.signHex(files.map((f) => f.fileHashValue).join(' '));
    const signFile = {
      version: '1.0',
      region: this.#region,
      files,
      hashAlgorithm: 'SHA-256',
      signatureAlgorithm: 'SHA256withRSA',
      queryCompleteTime: `${completedAt.toISOString().slice(0, 19)}Z`,
      hashSignature,
      publicKeyFingerprint: await this.key.fingerprint(),
    };
    return `${JSON.stringify(signFile, null, 2)}\n`;
  }

  /**
   * Streams lines through gzip to one object with lib-storage's Upload
   * (which holds at most one part in memory), hashing the compressed bytes
   * on the way; resolves to their hex SHA-256.
   */
  async #upload(client: S3Client, bucket: string, key: string, lines: Readable): Promise<string> {
    const { Upload } = await import('@aws-sdk/lib-storage');
    const hash = createHash('sha256');
    const hashed = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        hash.update(chunk);
        done(null, chunk);
      },
    });
    const upload = new Upload({ client, params: { Bucket: bucket, Key: key, Body: hashed, ContentType: 'application/gzip' } });
    const onAbort = () => void upload.abort().catch(() => undefined);
    this.#abort.signal.addEventListener('abort', onAbort, { once: true });
    try {
      const written = pipeline(lines, createGzip(), hashed, { signal: this.#abort.signal });
      // An upload that fails stops reading: destroying its body ends the pipeline too.
      const sent = upload.done().catch((error: unknown) => {
        hashed.destroy(error as Error);
        throw error;
      });
      const [sending, writing] = await Promise.allSettled([sent, written]);
      if (sending.status === 'rejected') throw sending.reason;
      if (writing.status === 'rejected') throw writing.reason;
    } finally {
      this.#abort.signal.removeEventListener('abort', onAbort);
    }
    return hash.digest('hex');
  }

  #s3(): Promise<S3Client> {
    this.#client ??= import('@aws-sdk/client-s3').then(
      ({ S3Client }) =>
        new S3Client({
          endpoint: this.#options.s3EndpointUrl,
          region: this.#region,
          forcePathStyle: this.#options.s3ForcePathStyle ?? true,
          // Local S3 servers (s3rver, older MinIO) reject the SDK's default CRC32 trailers.
          requestChecksumCalculation: 'WHEN_REQUIRED',
          responseChecksumValidation: 'WHEN_REQUIRED',
          maxAttempts: 2,
          ...(this.#options.s3Credentials ? { credentials: this.#options.s3Credentials } : {}),
        }),
    );
    return this.#client;
  }
}

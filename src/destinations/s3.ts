import { Transform, type Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type PutObjectCommandInput,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { CtlakeError, type OptionNamer } from '../errors.js';
import { AwsProfileError, configuredEndpoint, CredentialLog, profileClientConfig, useProfile } from '../source/aws-profile.js';
import { profileError } from '../source/retry.js';
import type { Destination } from './destination.js';
import { badObjectName, refusedName, tooLarge, WHOLE_OBJECT_LIMIT, type ObjectStore, type StoredObject } from './store.js';

export type ServerSideEncryption = 'AES256' | 'aws:kms';

/** Where and how objects are written; resolved by normalizeExportOptions. */
export interface S3WriteOptions {
  /**
   * Bytes per multipart part (5 MiB at least, S3's minimum). An upload holds
   * at most `partSizeBytes × queueSize` in memory, so this and queueSize
   * are the memory bound of each open S3 file. An object smaller than one
   * part goes up in a single PutObject.
   * @default 8 MiB
   */
  partSizeBytes: number;
  /** Parts uploaded at once, per file. @default 4 */
  queueSize: number;
  /** `x-amz-server-side-encryption`. @default the bucket's default */
  sse?: ServerSideEncryption | undefined;
  /** The KMS key for `sse: 'aws:kms'`; else the account's aws/s3 key. */
  sseKmsKeyId?: string | undefined;
  /** STANDARD, STANDARD_IA, INTELLIGENT_TIERING, GLACIER_IR, ... @default STANDARD */
  storageClass?: string | undefined;
}

export interface S3ClientOptions {
  region?: string | undefined;
  /**
   * Read as AWS_PROFILE is: its region, credentials, `endpoint_url` and
   * `services` section (`s3 =` with `endpoint_url` under it).
   */
  profile?: string | undefined;
  /** An S3-compatible store (MinIO, Ceph, R2) or a test server; AWS_ENDPOINT_URL_S3 in the CLI. */
  endpointUrl?: string | undefined;
  /** Path-style addressing (`host/bucket/key`), which most S3-compatible stores need. */
  forcePathStyle?: boolean | undefined;
}

/**
 * The S3 client ctlake builds when the caller brings none. Region,
 * credentials and profile come from the standard AWS chain. With a custom
 * endpoint, checksums are sent and checked only where S3's API requires
 * them: many S3-compatible stores reject the CRC32 trailers that the SDK
 * adds by default since early 2025; an endpoint the profile configures
 * (`endpoint_url`, `services`) counts as custom too. The profile is read as
 * AWS_PROFILE is (useProfile in src/source/aws-profile.ts).
 */
export function createS3Client(options: S3ClientOptions = {}): S3Client {
  const log = new CredentialLog();
  const client = new S3Client({
    maxAttempts: 5,
    logger: log,
    ...(options.region ? { region: options.region } : {}),
    ...(options.profile ? { profile: options.profile } : {}),
    ...(options.endpointUrl
      ? { endpoint: options.endpointUrl, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' }
      : {}),
    ...(options.forcePathStyle ? { forcePathStyle: true } : {}),
    ...profileClientConfig(options.profile),
  });
  useProfile(client, { serviceId: 'S3', profile: options.profile, explicitEndpoint: Boolean(options.endpointUrl), log });
  if (!options.endpointUrl) {
    // Both settings are providers the SDK asks at every request.
    const config = client.config as unknown as Record<'requestChecksumCalculation' | 'responseChecksumValidation', () => Promise<string>>;
    const profile = options.profile;
    let custom: Promise<boolean> | undefined;
    const isCustom = () => (custom ??= configuredEndpoint('S3', profile).then((url) => url !== undefined, () => false));
    for (const key of ['requestChecksumCalculation', 'responseChecksumValidation'] as const) {
      const sdkDefault = config[key];
      config[key] = async () => ((await isCustom()) ? 'WHEN_REQUIRED' : sdkDefault());
    }
  }
  return client;
}

function objectParams(bucket: string, key: string, options: S3WriteOptions): PutObjectCommandInput {
  return {
    Bucket: bucket,
    Key: key,
    ...(options.sse ? { ServerSideEncryption: options.sse } : {}),
    ...(options.sseKmsKeyId ? { SSEKMSKeyId: options.sseKmsKeyId } : {}),
    ...(options.storageClass ? { StorageClass: options.storageClass as PutObjectCommandInput['StorageClass'] } : {}),
  };
}

/**
 * One S3 object, streamed through lib-storage's Upload (multipart once the
 * bytes exceed one part). The object becomes visible only when the last
 * part is in (CompleteMultipartUpload, or the single PutObject), which
 * happens when the writable ends; `commit()` waits for that.
 *
 * `abort()` fails the body stream rather than calling Upload.abort(), whose
 * promise settles before its AbortMultipartUpload is sent: failing the body
 * makes Upload abort the multipart upload itself and settle only after, so
 * awaiting abort() means no dangling parts remain. An object that completed
 * before the abort (another file of a dataset failed) is deleted.
 */
export function s3Destination(client: S3Client, bucket: string, key: string, options: S3WriteOptions): Destination {
  const location = `s3://${bucket}/${key}`;
  let bytes = 0;
  const body = new Transform({
    highWaterMark: 64 * 1024,
    transform(chunk: Buffer, _encoding, callback) {
      bytes += chunk.length;
      callback(null, chunk);
    },
  });
  const upload = new Upload({ client, params: { ...objectParams(bucket, key, options), Body: body }, partSize: options.partSizeBytes, queueSize: options.queueSize });
  let completed = false;
  const done = upload.done().then(
    () => {
      completed = true;
    },
    (error: unknown) => error,
  );
  // The body's own writable side is what the pipeline ends or destroys; an
  // upload that fails first must fail the pipeline too.
  void done.then((error) => {
    if (error && !body.destroyed) body.destroy(error as Error);
  });
  let aborted = false;
  return {
    location,
    writable: body,
    bytesWritten: () => bytes,
    async commit() {
      const error = await done;
      if (error) throw s3Error(location, error);
    },
    async abort() {
      if (aborted) return;
      aborted = true;
      if (!body.destroyed) body.destroy(new Error('export aborted'));
      await done;
      if (completed) await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key })).catch(() => undefined);
    },
  };
}

/** An S3 error as one line with the fix; `verb` says what failed (a GetObject or a listing is a read). */
export function s3Error(location: string, error: unknown, verb: 'write' | 'read' = 'write'): CtlakeError {
  if (error instanceof CtlakeError) return error;
  // The profile, not S3: said as for CloudTrail (a missing profile, a failed credential step).
  if (error instanceof AwsProfileError) return profileError(error) ?? s3Error(location, error.cause, verb);
  const name = (error as { name?: string }).name ?? 'Error';
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  const text = (error as Error).message ?? '';
  // The option the fix points at, and the fix, naming options through `n`.
  const [option, hint]: [string | undefined, (n: OptionNamer) => string] =
    name === 'NoSuchBucket' ? ['out', (n) => `check the bucket name in ${n('out')}`]
    : name === 'AccessDenied' || status === 403 ? ['profile', (n) => `check the credentials (${n('profile')}) and the bucket policy; see the IAM policy in examples/`]
    : name === 'InvalidAccessKeyId' || name === 'SignatureDoesNotMatch' ? ['profile', (n) => `check the credentials (${n('profile')})`]
    : /ECONNREFUSED|ENOTFOUND/.test(String((error as NodeJS.ErrnoException).code ?? '')) ? ['s3EndpointUrl', (n) => `check ${n('s3EndpointUrl')}`]
    : /region is missing/i.test(text) ? ['region', (n) => `give ${n('region')}, or set AWS_REGION or the profile's region`]
    : /credential/i.test(text) ? ['profile', (n) => `check the credentials (${n('profile')}, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)`]
    : verb === 'read' ? [undefined, () => 'rerun']
    : [undefined, () => 'rerun; nothing partial was left'];
  const message = (error as Error).message?.split('\n')[0] ?? String(error);
  const what = name === 'Error' ? message : `${name}${message && message !== name ? ` (${message})` : ''}`;
  return new CtlakeError('DESTINATION_FAILED', (n) => `cannot ${verb} ${location}: ${what}; ${hint(n)}`, { option, cause: error });
}

/** The objects under `s3://bucket/prefix`, as an ObjectStore with names relative to the prefix. */
/** A GetObject body read whole, refused past WHOLE_OBJECT_LIMIT before a byte is read. */
async function wholeBody(response: { Body?: { transformToByteArray(): Promise<Uint8Array> } | undefined; ContentLength?: number | undefined }, name: string): Promise<Buffer> {
  if ((response.ContentLength ?? 0) > WHOLE_OBJECT_LIMIT) {
    (response.Body as unknown as { destroy?: () => void } | undefined)?.destroy?.();
    throw tooLarge(name, response.ContentLength!);
  }
  return Buffer.from(await response.Body!.transformToByteArray());
}

export function s3Store(client: S3Client, bucket: string, prefix: string, options: S3WriteOptions): ObjectStore {
  const root = `s3://${bucket}/${prefix}`;
  const fail = (name: string, error: unknown) => s3Error(`${root}${name}`, error);
  const failRead = (name: string, error: unknown) => s3Error(`${root}${name}`, error, 'read');
  /**
   * The key of `name`, below the prefix. S3 has no `..`, but the consoles,
   * sync tools and S3-compatible stores that read a dataset back may
   * resolve one: a name that would leave the prefix anywhere is refused here.
   */
  const key = (name: string) => {
    const reason = badObjectName(name);
    if (reason) throw refusedName(root, name, reason);
    return prefix + name;
  };
  return {
    root,
    async check() {
      try {
        await client.send(new HeadBucketCommand({ Bucket: bucket }));
      } catch (error) {
        const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
        if (status === 404) throw s3Error(root, Object.assign(new Error('the bucket does not exist'), { name: 'NoSuchBucket' }));
        // HeadBucket needs s3:ListBucket, which a writer of one object may lack: let the write itself tell.
        if (status === 403) return;
        throw fail('', error);
      }
    },
    create: async (name) => s3Destination(client, bucket, key(name), options),
    async put(name, data) {
      try {
        await client.send(new PutObjectCommand({ ...objectParams(bucket, key(name), options), Body: data, ContentLength: data.length }));
      } catch (error) {
        throw fail(name, error);
      }
    },
    async get(name) {
      try {
        const response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key(name) }));
        return await wholeBody(response, name);
      } catch (error) {
        if ((error as { name?: string }).name === 'NoSuchKey') return undefined;
        throw failRead(name, error);
      }
    },
    async read(name) {
      try {
        const response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key(name) }));
        return response.Body as Readable;
      } catch (error) {
        throw failRead(name, error);
      }
    },
    async *list(): AsyncGenerator<StoredObject> {
      let token: string | undefined;
      const tokens = new Set<string>();
      do {
        let page;
        try {
          page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }));
        } catch (error) {
          throw failRead('', error);
        }
        for (const object of page.Contents ?? []) {
          if (object.Key) yield { name: object.Key.slice(prefix.length), size: object.Size ?? 0 };
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
        // A listing that hands back a token it gave before would go round for ever.
        if (token !== undefined) {
          if (tokens.has(token)) throw new CtlakeError('DESTINATION_FAILED', (n) => `cannot read ${root}: ListObjectsV2 handed back a ContinuationToken it gave before, so the listing would not end; check ${n('s3EndpointUrl')}`, { option: 's3EndpointUrl' });
          tokens.add(token);
        }
      } while (token);
    },
    async remove(name) {
      try {
        await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key(name) }));
      } catch (error) {
        throw fail(name, error);
      }
    },
    async getTagged(name) {
      try {
        const response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key(name) }));
        return { data: await wholeBody(response, name), tag: response.ETag ?? '' };
      } catch (error) {
        if ((error as { name?: string }).name === 'NoSuchKey') return undefined;
        throw failRead(name, error);
      }
    },
    async putIf(name, data, condition) {
      // S3's conditional writes (If-None-Match: *, If-Match: ETag), since 2024.
      const when = 'ifAbsent' in condition ? { IfNoneMatch: '*' } : { IfMatch: condition.ifTag };
      try {
        const response = await client.send(new PutObjectCommand({ ...objectParams(bucket, key(name), options), Body: data, ContentLength: data.length, ...when }));
        return response.ETag ?? '';
      } catch (error) {
        const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
        if (status === 412 || status === 409) return undefined;
        throw fail(name, error);
      }
    },
  };
}

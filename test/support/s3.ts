import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import AWSAccount from 's3rver/lib/models/account.js';

// The credentials every test process has (vitest.config.ts, emulatorEnv) are
// valid for s3rver too, as one set of credentials is for CloudTrail and S3.
AWSAccount.DUMMY_ACCOUNT.createKeyPair('AKIDEMULATOR', 'emulator-secret');

export const S3_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

/** One request the proxy passed on (or failed), for tests that check what reached S3. */
export interface S3Request {
  method: string;
  /** Path and query, e.g. `/bucket/key?uploadId=...&partNumber=2`. */
  url: string;
  failed: boolean;
}

export interface TestS3 {
  /** The proxy's URL: what clients talk to. */
  url: string;
  bucket: string;
  client: S3Client;
  requests: S3Request[];
  /** Fails the requests this returns true for with HTTP 500 InternalError (after reading their body). */
  failWhen(predicate: ((request: S3Request, index: number) => boolean) | undefined): void;
  /** Holds the requests this returns a positive number for that many ms before passing them on. */
  delayWhen(predicate: ((request: S3Request) => number) | undefined): void;
  /** Every key in the bucket, sorted. */
  keys(prefix?: string): Promise<string[]>;
  get(key: string): Promise<Buffer>;
  /** Multipart uploads started and not completed, as s3rver keeps them on disk. */
  pendingUploads(): Promise<string[]>;
  close(): Promise<void>;
}

/**
 * s3rver on 127.0.0.1 port 0, in a temporary folder, with one bucket, behind
 * a small HTTP proxy that records every request and can fail chosen ones:
 * real S3 wire traffic, with faults where a test wants them. s3rver does not
 * implement AbortMultipartUpload, so the proxy answers it (204, as S3 does)
 * and a test reads from the requests whether an upload was aborted; nor
 * conditional writes (If-None-Match: *, If-Match: ETag), which the proxy
 * checks itself, as S3 does since 2024 (412 PreconditionFailed).
 */
export async function startS3(bucket = 'lake'): Promise<TestS3> {
  const directory = await mkdtemp(path.join(tmpdir(), 'ctlake-s3-'));
  const server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory, configureBuckets: [{ name: bucket, configs: [] }] });
  const address = (await server.run()) as AddressInfo;
  const requests: S3Request[] = [];
  // Straight to s3rver: the proxy's own look-ups must not pass through it.
  const direct = testS3Client(`http://127.0.0.1:${address.port}`);
  let fail: ((request: S3Request, index: number) => boolean) | undefined;
  let hold: ((request: S3Request) => number) | undefined;

  let conditional: Promise<void> = Promise.resolve();
  const forward = (req: IncomingMessage, res: ServerResponse, body?: Buffer) =>
    new Promise<void>((resolve) => {
      const headers = { ...req.headers };
      delete headers['if-none-match'];
      delete headers['if-match'];
      const upstream = request({ host: '127.0.0.1', port: address.port, method: req.method, path: req.url, headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
        answer.on('end', resolve);
      });
      upstream.on('error', () => {
        res.destroy();
        resolve();
      });
      if (body) upstream.end(body);
      else req.pipe(upstream);
    });
  const conditionalPut = async (req: IncomingMessage, res: ServerResponse, ifNoneMatch: string | undefined, ifMatch: string | undefined) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const key = decodeURIComponent((req.url ?? '').replace(/^\/[^/]+\//, '').replace(/\?.*$/, ''));
    const etag = await direct.send(new HeadObjectCommand({ Bucket: bucket, Key: key })).then((h) => h.ETag, () => undefined);
    if ((ifNoneMatch === '*' && etag !== undefined) || (ifMatch !== undefined && ifMatch !== etag)) {
      res.writeHead(412, { 'content-type': 'application/xml' });
      res.end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>PreconditionFailed</Code><Message>At least one of the pre-conditions you specified did not hold</Message></Error>');
      return;
    }
    await forward(req, res, Buffer.concat(chunks));
  };

  const proxy = createServer((req: IncomingMessage, res: ServerResponse) => {
    const record: S3Request = { method: req.method ?? 'GET', url: req.url ?? '/', failed: false };
    const index = requests.push(record) - 1;
    if (record.method === 'DELETE' && /[?&]uploadId=/.test(record.url)) {
      // AbortMultipartUpload, which s3rver lacks: answered as S3 does.
      req.resume();
      res.writeHead(204);
      res.end();
      return;
    }
    const ifNoneMatch = req.headers['if-none-match'];
    const ifMatch = req.headers['if-match'];
    if (record.method === 'PUT' && (ifNoneMatch || ifMatch)) {
      // Conditional writes, which s3rver lacks: checked here against the
      // object's ETag, one at a time, so two writers cannot both win.
      conditional = conditional.then(() => conditionalPut(req, res, ifNoneMatch, ifMatch));
      return;
    }
    if (fail?.(record, index)) {
      record.failed = true;
      req.resume();
      req.on('end', () => {
        res.writeHead(500, { 'content-type': 'application/xml' });
        res.end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError</Code><Message>injected by the test</Message></Error>');
      });
      return;
    }
    const delay = hold?.(record) ?? 0;
    if (delay > 0) setTimeout(() => void forward(req, res), delay);
    else void forward(req, res);
  });
  proxy.listen(0, '127.0.0.1');
  await once(proxy, 'listening');
  const url = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  const client = testS3Client(url);

  return {
    url,
    bucket,
    client,
    requests,
    failWhen(predicate) {
      fail = predicate;
    },
    delayWhen(predicate) {
      hold = predicate;
    },
    async keys(prefix = '') {
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
        for (const object of page.Contents ?? []) keys.push(object.Key!);
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return keys.sort();
    },
    async get(key) {
      const response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return Buffer.from(await response.Body!.transformToByteArray());
    },
    async pendingUploads() {
      const uploads = path.join(directory, bucket);
      const names = await readdir(uploads, { recursive: true }).catch(() => [] as string[]);
      return names.filter((name) => /uploads[^/]*\/[^/]+$/.test(name));
    },
    async close() {
      client.destroy();
      direct.destroy();
      proxy.closeAllConnections();
      proxy.close();
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/** A client for the test server, with the options S3-compatible stores need. */
export function testS3Client(url: string): S3Client {
  return new S3Client({
    endpoint: url,
    region: 'us-east-1',
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    credentials: S3_CREDENTIALS,
  });
}

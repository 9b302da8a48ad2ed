import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DescribeQueryCommand } from '@aws-sdk/client-cloudtrail';
import type { Emulator } from '../../src/emulator/server.js';
import { emulatorClient, QUERY_ID, sampleRows, withEmulator } from '../support/lake.js';

/**
 * The emulator's SigV4 check binds the body, as CloudTrail's does: a request
 * signed by the real SDK and replayed byte for byte is served, and the same
 * request with another body (its signed headers, x-amz-content-sha256
 * included, left as they were) is refused with the service's signature
 * mismatch, since the service hashes the body it received.
 */

interface Captured {
  headers: Record<string, string>;
  path: string;
  body: string;
}

const MISMATCH =
  'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';

/** Sends a request as captured over plain HTTP; resolves with the status and the parsed JSON answer. */
function replay(url: string, captured: Captured, body: string): Promise<{ status: number; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const headers = { ...captured.headers, 'content-length': String(Buffer.byteLength(body)) };
    const req = request(new URL(captured.path, url), { method: 'POST', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown> }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('SigV4 binds the request body (InvalidSignatureException for a replay with another body)', () => {
  let emulator: Emulator;
  let captured: Captured;

  beforeAll(async () => {
    emulator = await withEmulator({
      queries: [{ queryId: QUERY_ID, rows: sampleRows(3) }],
      credentials: { accessKeyId: 'AKIDEMULATOR', secretAccessKey: 'emulator-secret' },
    });
    // The real SDK signs the request; a middleware next to the transport keeps what it sends.
    const client = emulatorClient(emulator);
    client.middlewareStack.add(
      (next) => async (args) => {
        const http = args.request as { headers: Record<string, string>; path: string; body: string | Uint8Array };
        const body = typeof http.body === 'string' ? http.body : new TextDecoder().decode(http.body);
        captured = { headers: { ...http.headers }, path: http.path, body };
        return next(args);
      },
      { step: 'deserialize', name: 'captureSignedRequest' },
    );
    await client.send(new DescribeQueryCommand({ QueryId: QUERY_ID }));
    client.destroy();
  });
  afterAll(() => emulator.close());

  it('the SDK signed the body hash into the request (x-amz-content-sha256 among the signed headers)', () => {
    expect(captured.body).toBe(JSON.stringify({ QueryId: QUERY_ID }));
    expect(captured.headers.authorization).toMatch(/SignedHeaders=[^,]*x-amz-content-sha256/);
  });

  it('an untouched replay is served', async () => {
    const { status, json } = await replay(emulator.url, captured, captured.body);
    expect(status).toBe(200);
    expect(json.QueryId).toBe(QUERY_ID);
  });

  it('a replay with another body is refused with InvalidSignatureException, the service\'s words', async () => {
    const before = emulator.requests.length;
    const other = JSON.stringify({ QueryId: QUERY_ID.replace(/c$/, 'd') });
    expect(other.length).toBe(captured.body.length);
    const { status, json } = await replay(emulator.url, captured, other);
    expect(status).toBe(400);
    expect(json).toEqual({ __type: 'InvalidSignatureException', message: MISMATCH });
    expect(emulator.requests.slice(before)).toEqual([{ operation: 'DescribeQuery', input: {}, fault: undefined, denied: 'InvalidSignatureException' }]);
  });

  it('a replay with another body and a matching x-amz-content-sha256 is refused as well (the header is signed)', async () => {
    const { createHash } = await import('node:crypto');
    const other = JSON.stringify({ QueryId: QUERY_ID.replace(/c$/, 'd') });
    const forged = { ...captured, headers: { ...captured.headers, 'x-amz-content-sha256': createHash('sha256').update(other).digest('hex') } };
    const { status, json } = await replay(emulator.url, forged, other);
    expect(status).toBe(400);
    expect(json.__type).toBe('InvalidSignatureException');
  });
});

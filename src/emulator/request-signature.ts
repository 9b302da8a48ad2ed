import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { ServiceError } from './service-error.js';

/** The one identity the emulator accepts, when it checks credentials at all. */
export interface EmulatorCredentials {
  /** Requests signed with any other access key id get UnrecognizedClientException. */
  accessKeyId: string;
  /** When given, every SigV4 signature is verified against it (InvalidSignatureException otherwise). */
  secretAccessKey?: string | undefined;
}

/** What the service answers, word for word, when it does not accept a request's credentials. */
const UNRECOGNIZED = 'The security token included in the request is invalid.';
const MISMATCH =
  'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';

/**
 * Checks a request's `Authorization: AWS4-HMAC-SHA256 ...` header as
 * CloudTrail does, and throws the ServiceError the service answers with:
 * MissingAuthenticationTokenException without one, IncompleteSignatureException
 * for one that does not parse, UnrecognizedClientException for another access
 * key id, InvalidSignatureException for a signature that the secret key (when
 * configured) does not reproduce, over the method, path, query, signed
 * headers and the body as received (a body changed after signing does not
 * match), or a scope for another service. Neither the
 * region in the scope nor the request's age (X-Amz-Date) is checked, so a
 * client may sign for any region and any clock. Only header signing is read:
 * the JSON protocol does not presign URLs.
 */
export function checkSignature(
  credentials: EmulatorCredentials,
  request: { method: string; url: string; headers: IncomingHttpHeaders; body: Buffer },
): void {
  const authorization = request.headers.authorization;
  if (!authorization) throw new ServiceError('MissingAuthenticationTokenException', 'Missing Authentication Token');
  const match = /^AWS4-HMAC-SHA256\s+Credential=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]{64})$/.exec(authorization.trim());
  if (!match) {
    throw new ServiceError('IncompleteSignatureException', `Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters of AWS4-HMAC-SHA256. Authorization=${authorization}`);
  }
  const [, credential = '', signedHeaders = '', signature = ''] = match;
  const [accessKeyId, date = '', region = '', service = '', terminator = ''] = credential.split('/');
  if (accessKeyId !== credentials.accessKeyId) throw new ServiceError('UnrecognizedClientException', UNRECOGNIZED);
  if (terminator !== 'aws4_request' || !/^\d{8}$/.test(date) || region === '') {
    throw new ServiceError('IncompleteSignatureException', `Credential must have the form AKID/YYYYMMDD/REGION/SERVICE/aws4_request, not ${credential}.`);
  }
  if (service !== 'cloudtrail') throw new ServiceError('InvalidSignatureException', "Credential should be scoped to correct service: 'cloudtrail'.");
  if (credentials.secretAccessKey === undefined) return;

  const amzDate = header(request.headers, 'x-amz-date');
  const names = signedHeaders.split(';');
  const canonicalRequest = [
    request.method,
    canonicalPath(request.url),
    canonicalQuery(request.url),
    names.map((name) => `${name}:${header(request.headers, name)}\n`).join(''),
    signedHeaders,
    // The hash of the body as received, never the x-amz-content-sha256 the
    // client sent: a JSON-protocol service hashes the payload itself (it has
    // no UNSIGNED-PAYLOAD), so a signed request replayed with another body
    // gets the signature mismatch, as it does from CloudTrail. (S3 answers
    // XAmzContentSHA256Mismatch instead; that is S3's own check.)
    sha256(request.body),
  ].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonicalRequest)].join('\n');
  let key = hmac(`AWS4${credentials.secretAccessKey}`, date);
  for (const part of [region, service, 'aws4_request']) key = hmac(key, part);
  const expected = hmac(key, stringToSign);
  if (!timingSafeEqual(expected, Buffer.from(signature, 'hex'))) throw new ServiceError('InvalidSignatureException', MISMATCH);
}

/** A header's value as SigV4 canonicalizes it: trimmed, with runs of spaces made one. */
function header(headers: IncomingHttpHeaders, name: string): string {
  const value = headers[name];
  return (Array.isArray(value) ? value.join(',') : (value ?? '')).trim().replace(/\s+/g, ' ');
}

/** The path as SigV4 signs it for services other than S3: each segment URI-encoded. */
function canonicalPath(url: string): string {
  const pathname = url.split('?')[0] || '/';
  return pathname
    .split('/')
    .map((segment) => encode(decodeURIComponent(segment)))
    .join('/');
}

function canonicalQuery(url: string): string {
  const at = url.indexOf('?');
  if (at < 0) return '';
  return [...new URLSearchParams(url.slice(at + 1))]
    .map(([key, value]) => [encode(key), encode(value)] as const)
    .sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0))
    .map(([key, value]) => `${key}=${value}`)
    .join('&');
}

/** RFC 3986 encoding, as SigV4 requires: encodeURIComponent leaves !'()* alone. */
function encode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

import { constants, createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import type { Readable } from 'node:stream';
import { ListPublicKeysCommand, type CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { CtlakeError, quoted, shownName } from '../errors.js';
import { withRetry, type RetryEvent, type RetryOptions } from './retry.js';

/**
 * Lake's signed delivery, checked as `aws cloudtrail verify-query-results`
 * checks it (CloudTrail User Guide, "CloudTrail sign file structure"). The
 * folder `<DeliveryS3Uri>/AWSLogs/<account>/CloudTrail-Lake/Query/<yyyy>/<mm>/<dd>/<queryId>/`
 * holds `result_1.csv.gz`, `result_2.csv.gz`, ... and `result_sign.json`:
 *
 *     { "version": "1.0", "region": "us-east-1",
 *       "files": [{ "fileHashValue": "<hex SHA-256 of the gzip bytes>", "fileName": "result_1.csv.gz" }],
 *       "hashAlgorithm": "SHA-256", "signatureAlgorithm": "SHA256withRSA",
 *       "queryCompleteTime": "2022-05-10T22:06:30Z",
 *       "hashSignature": "<hex RSA signature>", "publicKeyFingerprint": "<32 hex digits>" }
 *
 * The signed data is the fileHashValues joined by single spaces, in the
 * order `files` lists them; the signature is RSA PKCS#1 v1.5 over its
 * SHA-256, with the region's key that ListPublicKeys returns for the time
 * of queryCompleteTime (its Value is a DER RSAPublicKey, PKCS#1).
 */

export const SIGN_FILE = 'result_sign.json';

export interface SignedFile {
  /** A plain file name of the folder: no separator, never `.` or `..`. */
  fileName: string;
  /** Hex SHA-256 of the file's bytes as stored (compressed). */
  fileHashValue: string;
}

export interface SignFile {
  /** "1.0" in the documented example; absent in some. */
  version: string | undefined;
  region: string;
  files: SignedFile[];
  hashAlgorithm: 'SHA-256';
  signatureAlgorithm: 'SHA256withRSA';
  /** ISO 8601, e.g. `2022-05-10T22:06:30Z`. */
  queryCompleteTime: string;
  /** Hex of the signature. */
  hashSignature: string;
  publicKeyFingerprint: string;
}

/** The most bytes of a sign file read: some 60,000 files' entries. */
export const SIGN_FILE_LIMIT = 8 * 1024 * 1024;
/** The most files one sign file may list: Lake splits a result of at most some GB into far fewer. */
export const MAX_SIGNED_FILES = 10_000;

const HEX64 = /^[0-9a-fA-F]{64}$/;
const FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/;

/**
 * A sign file's bytes, checked: JSON; an object whose documented fields
 * have their types (other fields are ignored, so that Lake may add some);
 * 1 to MAX_SIGNED_FILES files, each a plain name (letters, digits, `.`,
 * `_`, `-`: never a path, never result_sign.json) listed once, with a hex
 * SHA-256; the two algorithms Lake documents; a hex signature and
 * fingerprint; a queryCompleteTime that is a time. Each fault is a problem
 * line; `sign` is there only when there is none.
 */
export function parseSignFile(bytes: Uint8Array | string): { sign: SignFile | undefined; problems: string[] } {
  const problems: string[] = [];
  const fail = (line: string) => ({ sign: undefined, problems: [...problems, `${SIGN_FILE}: ${line}`] });
  const size = typeof bytes === 'string' ? Buffer.byteLength(bytes) : bytes.byteLength;
  if (size > SIGN_FILE_LIMIT) return fail(`${size} bytes, more than a sign file of Lake holds (${SIGN_FILE_LIMIT})`);
  let json: unknown;
  try {
    json = JSON.parse(typeof bytes === 'string' ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch (error) {
    return fail(`not JSON (${(error as Error).message.slice(0, 120)})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return fail('not a JSON object');
  const field = (name: string): unknown => (Object.hasOwn(json as object, name) ? (json as Record<string, unknown>)[name] : undefined);
  const text = (name: string, pattern: RegExp, what: string): string | undefined => {
    const value = field(name);
    if (typeof value === 'string' && pattern.test(value)) return value;
    problems.push(`${SIGN_FILE}: ${name} is ${value === undefined ? 'missing' : quoted(value)}; expected ${what}`);
    return undefined;
  };
  const version = field('version');
  if (version !== undefined && (typeof version !== 'string' || version.length > 32)) problems.push(`${SIGN_FILE}: version is ${quoted(version)}; expected a string such as "1.0"`);
  const region = text('region', /^[a-z0-9-]{1,64}$/, 'an AWS region such as "us-east-1"');
  const hashAlgorithm = text('hashAlgorithm', /^SHA-256$/, '"SHA-256"');
  const signatureAlgorithm = text('signatureAlgorithm', /^SHA256withRSA$/, '"SHA256withRSA"');
  const hashSignature = text('hashSignature', /^(?:[0-9a-fA-F]{2}){64,1024}$/, 'the hex of an RSA signature (128 to 2048 hex digits)');
  const publicKeyFingerprint = text('publicKeyFingerprint', /^[0-9a-fA-F]{32,128}$/, 'a hex fingerprint');
  const queryCompleteTime = text('queryCompleteTime', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:Z|[+-]\d\d:?\d\d)$/, 'an ISO 8601 time such as "2022-05-10T22:06:30Z"');
  const files = signedFiles(field('files'), problems);
  if (problems.length > 0) return { sign: undefined, problems };
  return {
    sign: {
      version: version as string | undefined,
      region: region!,
      files: files!,
      hashAlgorithm: hashAlgorithm as 'SHA-256',
      signatureAlgorithm: signatureAlgorithm as 'SHA256withRSA',
      queryCompleteTime: queryCompleteTime!,
      hashSignature: hashSignature!,
      publicKeyFingerprint: publicKeyFingerprint!,
    },
    problems,
  };
}

function signedFiles(value: unknown, problems: string[]): SignedFile[] | undefined {
  const say = (line: string) => problems.push(`${SIGN_FILE}: ${line}`);
  if (!Array.isArray(value)) {
    say(`files is ${value === undefined ? 'missing' : quoted(value)}; expected a list of { fileName, fileHashValue }`);
    return undefined;
  }
  if (value.length === 0) say('files is empty: a delivery lists at least one result file');
  if (value.length > MAX_SIGNED_FILES) {
    say(`files lists ${value.length} files, more than a delivery of Lake holds (${MAX_SIGNED_FILES})`);
    return undefined;
  }
  const files: SignedFile[] = [];
  const seen = new Set<string>();
  const before = problems.length;
  for (const [index, entry] of value.entries()) {
    if (problems.length - before >= 20) {
      say('files: more faults follow; the first 20 are listed');
      break;
    }
    const at = `files[${index}]`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      say(`${at} is ${quoted(entry)}; expected { fileName, fileHashValue }`);
      continue;
    }
    const name: unknown = Object.hasOwn(entry, 'fileName') ? (entry as Record<string, unknown>).fileName : undefined;
    const hash: unknown = Object.hasOwn(entry, 'fileHashValue') ? (entry as Record<string, unknown>).fileHashValue : undefined;
    if (typeof name !== 'string' || !FILE_NAME.test(name) || name === SIGN_FILE) {
      say(`${at}.fileName is ${name === undefined ? 'missing' : quoted(name)}; expected the plain name of a file of the folder, such as "result_1.csv.gz" (no path)`);
      continue;
    }
    if (typeof hash !== 'string' || !HEX64.test(hash)) {
      say(`${at}.fileHashValue of ${name} is ${hash === undefined ? 'missing' : quoted(hash)}; expected 64 hex digits (SHA-256)`);
      continue;
    }
    if (seen.has(name)) {
      say(`${at}: ${name} is listed twice`);
      continue;
    }
    seen.add(name);
    files.push({ fileName: name, fileHashValue: hash });
  }
  return files;
}

/**
 * The names of the signed files in the order their rows come: by the N of
 * `result_N.csv.gz` (so result_10 after result_9), then, for any other
 * name, as the sign file lists them.
 */
export function resultFileOrder(sign: Pick<SignFile, 'files'>): string[] {
  const rank = (name: string) => {
    const match = /^result_(\d{1,9})\.csv\.gz$/.exec(name);
    return match ? Number(match[1]) : Number.MAX_SAFE_INTEGER;
  };
  return sign.files
    .map((file, index) => ({ name: file.fileName, rank: rank(file.fileName), index }))
    .sort((a, b) => a.rank - b.rank || a.index - b.index)
    .map((file) => file.name);
}

/** The data Lake signs: the fileHashValues, as the sign file writes them, joined by single spaces in its order. */
export function signedData(sign: Pick<SignFile, 'files'>): string {
  return sign.files.map((file) => file.fileHashValue).join(' ');
}

/**
 * A public key's fingerprint as CloudTrail writes it (publicKeyFingerprint,
 * ListPublicKeys' Fingerprint): the hex MD5 of the key's DER bytes, the
 * 32 hex digits of the documented examples. Used for keys that come
 * without a Fingerprint; a listed key is matched by its Fingerprint, as the
 * AWS CLI matches it.
 */
export function fingerprintOf(derKey: Uint8Array): string {
  return createHash('md5').update(derKey).digest('hex');
}

export interface DeliveryPublicKey {
  /** The DER public key: PKCS#1 RSAPublicKey, as ListPublicKeys gives it (SPKI is accepted too). */
  value: Uint8Array;
  /** Its fingerprint; else fingerprintOf(value). */
  fingerprint?: string | undefined;
  validityStartTime?: Date | undefined;
  validityEndTime?: Date | undefined;
}

export interface VerifiedFile {
  name: string;
  /** The SHA-256 of the bytes read; '' when the file could not be read. */
  sha256: string;
  bytes: number;
  ok: boolean;
}

export interface DeliveryReport {
  ok: boolean;
  files: VerifiedFile[];
  /** The fingerprint of the key the signature was checked with; undefined when none matched. */
  fingerprint: string | undefined;
  signatureOk: boolean;
  /** One line per problem, each naming the file and what did not match. */
  problems: string[];
}

export interface VerifyDeliveryInput {
  sign: SignFile;
  /** The stored bytes of one file of the folder, by its plain name. */
  readFile: (name: string) => Promise<Readable>;
  publicKeys: readonly DeliveryPublicKey[];
  /** The names the folder holds (when known): any that is not signed is a problem. */
  present?: Iterable<string> | undefined;
  /**
   * Reads each listed file's stream to its end while it is hashed, so that
   * a caller who needs the contents too (ctlake's cross-check counts the
   * rows) reads each file once. A failure of the stream is a problem of the
   * file, as without it; any other failure of `consume` is thrown. A file
   * it leaves unread to the end is a problem.
   */
  consume?: ((name: string, stream: Readable) => Promise<void>) | undefined;
}

/**
 * Checks a delivery: for every file the sign file lists, the SHA-256 of
 * its stored (compressed) bytes against its fileHashValue, streamed, one
 * file at a time (memory: one chunk of the stream); then the signature
 * over signedData with the key whose fingerprint is publicKeyFingerprint;
 * then that the folder holds nothing unsigned. Problems are collected, not
 * thrown, so one run names them all.
 */
export async function verifyDelivery(input: VerifyDeliveryInput): Promise<DeliveryReport> {
  const { sign } = input;
  const problems: string[] = [];
  const files: VerifiedFile[] = [];
  for (const file of sign.files) {
    const seen = await hashOf(input.readFile, file.fileName, input.consume);
    const ok = seen.error === undefined && seen.sha256 === file.fileHashValue.toLowerCase();
    files.push({ name: file.fileName, sha256: seen.sha256, bytes: seen.bytes, ok });
    if (seen.error !== undefined) problems.push(`${file.fileName}: ${seen.error}`);
    else if (!ok) problems.push(`${file.fileName}: SHA-256 ${seen.sha256} differs from the fileHashValue ${file.fileHashValue.toLowerCase()} of ${SIGN_FILE}: the file was changed after Lake delivered it`);
  }
  const wanted = sign.publicKeyFingerprint.toLowerCase();
  const match = input.publicKeys.find((key) => (key.fingerprint ?? fingerprintOf(key.value)).toLowerCase() === wanted);
  let signatureOk = false;
  if (match === undefined) {
    problems.push(
      `${SIGN_FILE}: no public key with fingerprint ${wanted} among the ${input.publicKeys.length} that ListPublicKeys returned for ${sign.region} around ${sign.queryCompleteTime}; check the region (Lake signs with the key of the query's region)`,
    );
  } else {
    const key = publicKeyOf(match.value);
    if (key === undefined) problems.push(`${SIGN_FILE}: the public key ${wanted} is not a DER RSA public key`);
    else {
      signatureOk = verify('sha256', Buffer.from(signedData(sign), 'utf8'), { key, padding: constants.RSA_PKCS1_PADDING }, Buffer.from(sign.hashSignature, 'hex'));
      if (!signatureOk) problems.push(`${SIGN_FILE}: the hashSignature does not verify with the public key ${wanted}: the sign file was changed, or not signed by CloudTrail`);
    }
  }
  if (input.present !== undefined) {
    const listed = new Set(sign.files.map((file) => file.fileName));
    for (const name of input.present) {
      if (name !== SIGN_FILE && !listed.has(name)) problems.push(`${shownName(name)}: in the delivery folder but not signed (not in ${SIGN_FILE})`);
    }
  }
  return { ok: problems.length === 0, files, fingerprint: match === undefined ? undefined : wanted, signatureOk, problems };
}

/** A DER RSA public key: PKCS#1 (what ListPublicKeys gives), else SPKI. */
function publicKeyOf(der: Uint8Array): KeyObject | undefined {
  for (const type of ['pkcs1', 'spki'] as const) {
    try {
      const key = createPublicKey({ key: Buffer.from(der), format: 'der', type });
      if (key.asymmetricKeyType === 'rsa') return key;
    } catch {
      // the other encoding
    }
  }
  return undefined;
}

async function hashOf(readFile: VerifyDeliveryInput['readFile'], name: string, consume: VerifyDeliveryInput['consume']): Promise<{ sha256: string; bytes: number; error?: string }> {
  const hash = createHash('sha256');
  let bytes = 0;
  let stream: Readable;
  try {
    stream = await readFile(name);
  } catch (error) {
    return { sha256: '', bytes, error: `missing, or cannot be read (${(error as Error).message.split('\n')[0]!.slice(0, 200)})` };
  }
  const unreadable = (error: unknown) => ({ sha256: '', bytes, error: `cannot be read after ${bytes} bytes (${(error as Error).message.split('\n')[0]!.slice(0, 200)})` });
  // One hashing path: the stream is hashed as it flows, read by `consume`, or simply drained.
  let streamError: unknown;
  stream.on('error', (error) => (streamError ??= error));
  stream.on('data', (chunk: Buffer | string) => {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    hash.update(buffer);
    bytes += buffer.length;
  });
  try {
    await (consume ?? drain)(name, stream);
  } catch (error) {
    if (streamError !== undefined) return unreadable(streamError);
    throw error;
  }
  if (streamError !== undefined) return unreadable(streamError);
  if (!stream.readableEnded) {
    stream.destroy();
    return { sha256: '', bytes, error: `was not read to its end (${bytes} bytes read)` };
  }
  return { sha256: hash.digest('hex'), bytes };
}

/** Reads a stream to its end, keeping nothing. */
async function drain(_name: string, stream: Readable): Promise<void> {
  for await (const _chunk of stream);
}

export interface PublicKeyOptions {
  signal?: AbortSignal | undefined;
  retry: RetryOptions;
  onRetry?: ((event: RetryEvent) => void) | undefined;
  /** How far before and after `time` keys are asked for, in ms. @default 86400000 (a day) */
  windowMs?: number | undefined;
}

/** The most ListPublicKeys pages read: its NextToken is "reserved for future use". */
export const MAX_KEY_PAGES = 20;

/**
 * The public keys CloudTrail signed with from `windowMs` before `time` (a
 * sign file's queryCompleteTime) to `windowMs` after: ListPublicKeys,
 * retried as every call is, following NextToken for at most MAX_KEY_PAGES
 * pages (a token handed back twice, or more pages, is UNEXPECTED_RESPONSE).
 * The client must be of the delivery's region: each region signs with its
 * own keys.
 */
export async function publicKeysAround(client: CloudTrailClient, time: Date, options: PublicKeyOptions): Promise<DeliveryPublicKey[]> {
  const window = options.windowMs ?? 86_400_000;
  if (Number.isNaN(time.getTime())) throw new TypeError(`Invalid option time: ${quoted(String(time))}; expected a valid Date`);
  const keys: DeliveryPublicKey[] = [];
  const tokens = new Set<string>();
  let token: string | undefined;
  for (let page = 0; ; page++) {
    const answer = await withRetry(
      () =>
        client.send(new ListPublicKeysCommand({ StartTime: new Date(time.getTime() - window), EndTime: new Date(time.getTime() + window), ...(token ? { NextToken: token } : {}) }), {
          abortSignal: options.signal,
        }),
      { operation: 'ListPublicKeys', signal: options.signal, retry: options.retry, onRetry: options.onRetry },
    );
    for (const key of answer.PublicKeyList ?? []) {
      if (!(key.Value instanceof Uint8Array)) continue;
      keys.push({ value: key.Value, fingerprint: key.Fingerprint, validityStartTime: key.ValidityStartTime, validityEndTime: key.ValidityEndTime });
    }
    token = answer.NextToken || undefined;
    if (token === undefined) return keys;
    if (tokens.has(token) || page + 1 >= MAX_KEY_PAGES) {
      throw new CtlakeError('UNEXPECTED_RESPONSE', (n) => `ListPublicKeys: still a NextToken after ${page + 1} pages, or one it gave before; check ${n('endpointUrl')}`, { option: 'endpointUrl' });
    }
    tokens.add(token);
  }
}

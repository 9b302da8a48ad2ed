import { constants, createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { fakeEndpoint, json, type FakeEndpoint } from './fake-endpoint.js';

/**
 * A delivery made as Lake makes one (docs/delivery.md), for tests that do
 * not need the emulator's: an RSA key, result_N.csv.gz files, and a
 * result_sign.json over their SHA-256s, signed RSA PKCS#1 v1.5 SHA-256.
 */

export interface TestKey {
  privateKey: KeyObject;
  /** The DER public key, PKCS#1, as ListPublicKeys gives it. */
  der: Buffer;
  /** MD5 of the DER, hex: the fingerprint the sign file names. */
  fingerprint: string;
}

export function testKey(): TestKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const der = publicKey.export({ format: 'der', type: 'pkcs1' });
  return { privateKey, der, fingerprint: createHash('md5').update(der).digest('hex') };
}

export interface CsvLayout {
  crlf?: boolean;
  bom?: boolean;
  /** Quote every header name. */
  quoteHeader?: boolean;
  /** Write a null as `""` (then it reads as '' unless quotedEmpty is 'null'). */
  nullsQuoted?: boolean;
}

/** A CSV as the contract lays it out: RFC 4180 quoting, a null as an empty unquoted field, '' as `""`. */
export function csvText(header: readonly string[], rows: ReadonlyArray<ReadonlyArray<string | null>>, layout: CsvLayout = {}): string {
  const end = layout.crlf ? '\r\n' : '\n';
  const field = (value: string | null, always = false) =>
    value === null ? (layout.nullsQuoted ? '""' : '') : always || value === '' || /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
  const lines = [header.map((name) => field(name, layout.quoteHeader)).join(','), ...rows.map((row) => row.map((value) => field(value)).join(','))];
  return (layout.bom ? '\ufeff' : '') + lines.map((line) => line + end).join('');
}

export interface DeliveredFile {
  name: string;
  bytes: Buffer;
}

export interface SignOptions {
  key: TestKey;
  region?: string;
  queryCompleteTime?: string;
}

/** result_sign.json for `files`, as Lake writes it. */
export function signFileFor(files: readonly DeliveredFile[], options: SignOptions): Record<string, unknown> {
  const entries = files.map((file) => ({ fileHashValue: createHash('sha256').update(file.bytes).digest('hex'), fileName: file.name }));
  const data = entries.map((entry) => entry.fileHashValue).join(' ');
  const signature = sign('sha256', Buffer.from(data), { key: options.key.privateKey, padding: constants.RSA_PKCS1_PADDING });
  return {
    version: '1.0',
    region: options.region ?? 'us-east-1',
    files: entries,
    hashAlgorithm: 'SHA-256',
    signatureAlgorithm: 'SHA256withRSA',
    queryCompleteTime: options.queryCompleteTime ?? '2024-05-01T12:00:00Z',
    hashSignature: signature.toString('hex'),
    publicKeyFingerprint: options.key.fingerprint,
  };
}

/** Gzipped CSV files result_1.csv.gz, result_2.csv.gz, ... of `csvs`. */
export function resultFiles(csvs: readonly string[]): DeliveredFile[] {
  return csvs.map((text, i) => ({ name: `result_${i + 1}.csv.gz`, bytes: gzipSync(Buffer.from(text, 'utf8')) }));
}

/** Writes the files and their sign file to `dir` (made if need be); returns the sign file. */
export async function writeDelivery(dir: string, files: readonly DeliveredFile[], options: SignOptions): Promise<Record<string, unknown>> {
  await mkdir(dir, { recursive: true });
  for (const file of files) await writeFile(path.join(dir, file.name), file.bytes);
  const signFile = signFileFor(files, options);
  await writeFile(path.join(dir, 'result_sign.json'), JSON.stringify(signFile));
  return signFile;
}

/** A CloudTrail endpoint that answers ListPublicKeys with `keys` (and nothing else), as the JSON protocol sends them. */
export function publicKeyEndpoint(keys: readonly TestKey[]): Promise<FakeEndpoint> {
  return fakeEndpoint((operation) =>
    operation === 'ListPublicKeys'
      ? json({
          PublicKeyList: keys.map((key) => ({ Value: key.der.toString('base64'), ValidityStartTime: 1_700_000_000, ValidityEndTime: 1_800_000_000, Fingerprint: key.fingerprint })),
        })
      : json({ __type: 'UnknownOperationException', message: `no ${operation} here` }, 400),
  );
}

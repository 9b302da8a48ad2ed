import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DescribeQueryCommand, StartQueryCommand, type CloudTrailClient, type DescribeQueryCommandOutput } from '@aws-sdk/client-cloudtrail';

/**
 * What the delivery tests share: polling a delivery to its end, reading
 * delivered CSV independently of the emulator's writer, and openssl (Debian's
 * command, a second implementation of RSA) to check a signature.
 */

export const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The path of openssl; throws (so the test fails, never skips) when there is none. CI installs Debian's `openssl`. */
export function opensslPath(): string {
  const found = spawnSync('which', ['openssl'], { encoding: 'utf8' });
  if (found.status !== 0 || !found.stdout.trim()) throw new Error('openssl is not installed: the delivery tests check signatures with it (apt-get install -y openssl)');
  return found.stdout.trim();
}

/** Starts a query and polls DescribeQuery until its delivery is no longer PENDING; returns every answer seen. */
export async function runDelivered(client: CloudTrailClient, sql: string, uri: string): Promise<{ queryId: string; seen: DescribeQueryCommandOutput[] }> {
  const { QueryId } = await client.send(new StartQueryCommand({ QueryStatement: sql, DeliveryS3Uri: uri }));
  const seen: DescribeQueryCommandOutput[] = [];
  for (let i = 0; i < 2000; i++) {
    const d = await client.send(new DescribeQueryCommand({ QueryId }));
    seen.push(d);
    const ended = d.QueryStatus !== 'QUEUED' && d.QueryStatus !== 'RUNNING';
    if (ended && d.DeliveryStatus !== 'PENDING') return { queryId: QueryId!, seen };
    await pause(10);
  }
  throw new Error(`query ${QueryId} never left DeliveryStatus PENDING`);
}

/**
 * A strict RFC 4180 reader that keeps what the contract keeps apart: a bare
 * empty field is null, a quoted empty one is ''. Rows end with `\n`.
 */
export function readCsv(text: string): Array<Array<string | null>> {
  const rows: Array<Array<string | null>> = [];
  let row: Array<string | null> = [];
  let i = 0;
  while (i < text.length) {
    let value: string | null;
    if (text[i] === '"') {
      let out = '';
      i++;
      for (;;) {
        const quote = text.indexOf('"', i);
        if (quote < 0) throw new Error('unterminated quoted field');
        out += text.slice(i, quote);
        if (text[quote + 1] === '"') {
          out += '"';
          i = quote + 2;
        } else {
          i = quote + 1;
          break;
        }
      }
      value = out;
    } else {
      let end = i;
      while (end < text.length && text[end] !== ',' && text[end] !== '\n') end++;
      const bare = text.slice(i, end);
      if (/["\r]/.test(bare)) throw new Error(`a bare field holds a quote or CR: ${bare}`);
      value = bare === '' ? null : bare;
      i = end;
    }
    row.push(value);
    if (text[i] === ',') i++;
    else if (text[i] === '\n') {
      rows.push(row);
      row = [];
      i++;
    } else if (i < text.length) throw new Error(`unexpected ${text[i]} at ${i}`);
  }
  if (row.length) throw new Error('the last row has no line end');
  return rows;
}

/**
 * Whether openssl verifies `signatureHex` over `data` with the PKCS#1 DER
 * public key `der` (ListPublicKeys' Value): `openssl rsa -RSAPublicKey_in`
 * turns it into a PEM, and `openssl dgst -sha256 -verify` checks the
 * RSASSA-PKCS1-v1_5 signature.
 */
export function opensslVerifies(der: Uint8Array, data: string, signatureHex: string): boolean {
  const openssl = opensslPath();
  const dir = mkdtempSync(path.join(tmpdir(), 'ctlake-sign-'));
  const file = (name: string) => path.join(dir, name);
  writeFileSync(file('pub.der'), der);
  writeFileSync(file('data.txt'), data);
  writeFileSync(file('sig.bin'), Buffer.from(signatureHex, 'hex'));
  execFileSync(openssl, ['rsa', '-RSAPublicKey_in', '-inform', 'DER', '-in', file('pub.der'), '-pubout', '-out', file('pub.pem')], { stdio: 'pipe' });
  const run = spawnSync(openssl, ['dgst', '-sha256', '-verify', file('pub.pem'), '-signature', file('sig.bin'), file('data.txt')], { encoding: 'utf8' });
  if (run.status === 0 && /Verified OK/.test(run.stdout)) return true;
  if (run.status === 1 && /Verification failure/i.test(run.stdout + run.stderr)) return false;
  throw new Error(`openssl dgst failed: ${run.status} ${run.stdout} ${run.stderr}`);
}

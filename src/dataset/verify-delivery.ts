import type { Readable } from 'node:stream';
import type { ObjectStore } from '../destinations/store.js';
import { shownName } from '../errors.js';
import { parseSignFile, SIGN_FILE, verifyDelivery, type DeliveryPublicKey, type SignFile, type VerifiedFile } from '../source/delivery-sign.js';

/**
 * `ctlake verify` on a folder that Lake delivered to (StartQuery
 * DeliveryS3Uri): the query's folder
 * `AWSLogs/<account>/CloudTrail-Lake/Query/<yyyy>/<mm>/<dd>/<queryId>/`, with
 * its result_N.csv.gz files and result_sign.json, locally or on S3. The
 * checks are verifyDelivery's (src/source/delivery-sign.ts); this reads
 * the folder through an ObjectStore.
 */

export interface DeliveryVerifyReport {
  /** The folder, as named. */
  delivery: string;
  ok: boolean;
  /** The query's queryCompleteTime, from the sign file; undefined when it cannot be read. */
  queryCompleteTime: string | undefined;
  region: string | undefined;
  files: VerifiedFile[];
  bytes: number;
  /** The fingerprint of the key that the signature was checked with. */
  fingerprint: string | undefined;
  signatureOk: boolean;
  /** The sign file as it was read and checked; undefined when it cannot be read. */
  sign: SignFile | undefined;
  /** One line per problem, each naming the file. */
  problems: string[];
}

export interface DeliveryVerifyOptions {
  /**
   * The public keys CloudTrail signed with around `time` (the sign file's
   * queryCompleteTime) in `region`: publicKeysAround with a client of
   * that region, or the keys a caller keeps.
   */
  publicKeys: (time: Date, region: string) => Promise<readonly DeliveryPublicKey[]>;
  /** Reads each listed file as it is hashed (VerifyDeliveryInput.consume): one read of each file for a caller who needs its contents too. */
  consume?: ((name: string, stream: Readable) => Promise<void>) | undefined;
}

/**
 * Whether the store holds a delivery: a result_sign.json at its root. One
 * read, not a listing (a dataset may hold a million files); a sign file
 * that cannot be read (a link, a refused GetObject) counts as one, so that
 * verifyDeliveryFolder says what is wrong with it.
 */
export async function isDelivery(store: ObjectStore): Promise<boolean> {
  return store.get(SIGN_FILE).then(
    (bytes) => bytes !== undefined,
    () => true,
  );
}

/**
 * Reads result_sign.json, checks it (parseSignFile), then every file it
 * lists, the signature and the folder's other files (verifyDelivery). A
 * subfolder, link, FIFO or device in the folder is a problem and is never
 * read. Problems are collected; only a listing that fails, or a failure to
 * get the public keys (ListPublicKeys), throws.
 */
export async function verifyDeliveryFolder(store: ObjectStore, options: DeliveryVerifyOptions): Promise<DeliveryVerifyReport> {
  const report: DeliveryVerifyReport = { delivery: store.root, ok: false, queryCompleteTime: undefined, region: undefined, files: [], bytes: 0, fingerprint: undefined, signatureOk: false, sign: undefined, problems: [] };
  const present: string[] = [];
  const special = new Set<string>();
  for await (const object of store.list()) {
    present.push(object.name);
    if (object.kind !== undefined) {
      special.add(object.name);
      report.problems.push(`${shownName(object.name)}: ${object.kind === 'symlink' ? 'a symbolic link' : 'not a regular file'}, which ctlake never reads in a delivery; remove it`);
    }
  }
  if (!present.includes(SIGN_FILE)) {
    report.problems.push(present.length === 0 ? `no delivery at ${store.root}: nothing is there` : `${SIGN_FILE} is missing: this is not the folder of one query that Lake delivered, or its delivery did not finish`);
    return report;
  }
  let bytes: Buffer | undefined;
  if (!special.has(SIGN_FILE)) {
    try {
      bytes = await store.get(SIGN_FILE);
    } catch (error) {
      report.problems.push(`${SIGN_FILE}: ${(error as Error).message.split('\n')[0]}`);
    }
  }
  if (bytes === undefined) return report;
  const { sign, problems } = parseSignFile(bytes);
  report.problems.push(...problems);
  if (sign === undefined) return report;
  report.queryCompleteTime = sign.queryCompleteTime;
  report.region = sign.region;
  report.sign = sign;
  const keys = await options.publicKeys(new Date(sign.queryCompleteTime), sign.region);
  const checked = await verifyDelivery({
    sign,
    publicKeys: keys,
    present: present.filter((name) => !special.has(name)),
    readFile: async (name) => {
      if (special.has(name)) throw new Error('not a regular file');
      return store.read(name);
    },
    consume: options.consume,
  });
  report.problems.push(...checked.problems);
  report.files = checked.files;
  report.bytes = checked.files.reduce((sum, file) => sum + file.bytes, 0);
  report.fingerprint = checked.fingerprint;
  report.signatureOk = checked.signatureOk;
  report.ok = report.problems.length === 0;
  return report;
}

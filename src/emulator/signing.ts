import { createHash, createPrivateKey, createPublicKey, generateKeyPair, sign, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { ServiceError } from './service-error.js';

/**
 * The emulator's signing key for delivered query results, and ListPublicKeys.
 *
 * Lake signs each delivery's `result_sign.json` with an RSA key of the
 * Region and publishes the public half through ListPublicKeys. The service
 * model says what ListPublicKeys returns: `Value`, "the DER encoded public
 * key value in PKCS#1 format" (an RSAPublicKey, not a SubjectPublicKeyInfo:
 * the AWS CLI's verify-query-results loads it with a PKCS#1 reader), its
 * validity times, and a `Fingerprint`. How Lake computes the fingerprint is
 * not documented: every example is 32 hex digits and the CLI only compares
 * it for equality with the sign file's `publicKeyFingerprint`. The emulator
 * uses the hex MD5 of the PKCS#1 DER, the same length; a client must treat
 * it as an opaque name, as the CLI does.
 */

/** How long a key is said to be valid, from the emulator's start (ListPublicKeys' ValidityEndTime). */
export const KEY_VALIDITY_MS = 365 * 86_400_000;

const generate = promisify(generateKeyPair);

interface KeyPair {
  privateKey: KeyObject;
  /** PKCS#1 RSAPublicKey DER: ListPublicKeys' Value. */
  publicDer: Buffer;
  fingerprint: string;
}

/**
 * One RSA key pair for the emulator's life. Without a PEM it is generated
 * (2048 bits) the first time it is needed, so that an emulator that never
 * signs never pays for it; its validity starts when the emulator started
 * either way.
 */
export class SigningKey {
  readonly validFrom: Date;
  readonly validTo: Date;
  #pair: Promise<KeyPair> | undefined;

  /**
   * `pem`: an RSA private key (PKCS#1 or PKCS#8 PEM) for reproducible
   * signatures; a TypeError if it is not one.
   */
  constructor(pem?: string | Buffer, now = new Date()) {
    this.validFrom = now;
    this.validTo = new Date(now.getTime() + KEY_VALIDITY_MS);
    if (pem !== undefined) {
      let key: KeyObject;
      try {
        key = createPrivateKey(pem);
      } catch (error) {
        throw new TypeError(`startEmulator: signingKey must be an RSA private key in PEM (${(error as Error).message})`);
      }
      if (key.asymmetricKeyType !== 'rsa') throw new TypeError(`startEmulator: signingKey must be an RSA key, not ${String(key.asymmetricKeyType)}`);
      this.#pair = Promise.resolve(pairOf(key));
    }
  }

  #key(): Promise<KeyPair> {
    this.#pair ??= generate('rsa', { modulusLength: 2048 }).then(({ privateKey }) => pairOf(privateKey));
    return this.#pair;
  }

  /** The fingerprint a sign file names its key by (ListPublicKeys' Fingerprint). */
  async fingerprint(): Promise<string> {
    return (await this.#key()).fingerprint;
  }

  /** SHA256withRSA (RSASSA-PKCS1-v1_5 over SHA-256) of the UTF-8 bytes of `data`, hex-encoded. */
  async signHex(data: string): Promise<string> {
    return sign('sha256', Buffer.from(data, 'utf8'), (await this.#key()).privateKey).toString('hex');
  }

  /**
   * ListPublicKeys: the key when its validity overlaps [StartTime, EndTime].
   * Both default to now, as the model says; a StartTime after EndTime is
   * InvalidTimeRangeException. NextToken is "reserved for future use".
   */
  async listPublicKeys(input: Record<string, unknown>): Promise<unknown> {
    const now = Date.now();
    const start = timeInput(input.StartTime, now);
    const end = timeInput(input.EndTime, now);
    if (start > end) {
      throw new ServiceError('InvalidTimeRangeException', 'Occurs if the timestamp values are not valid. Either the start time occurs after the end time, or the time range is outside the range of possible values.');
    }
    if (input.NextToken !== undefined) throw new ServiceError('InvalidTokenException', 'Reserved for future use.');
    if (end < this.validFrom.getTime() || start > this.validTo.getTime()) return { PublicKeyList: [] };
    const { publicDer, fingerprint } = await this.#key();
    return {
      PublicKeyList: [
        {
          Value: publicDer.toString('base64'), // a blob: base64 in awsJson1_1
          ValidityStartTime: this.validFrom.getTime() / 1000,
          ValidityEndTime: this.validTo.getTime() / 1000,
          Fingerprint: fingerprint,
        },
      ],
    };
  }
}

function pairOf(privateKey: KeyObject): KeyPair {
  const publicDer = createPublicKey(privateKey).export({ type: 'pkcs1', format: 'der' });
  return { privateKey, publicDer, fingerprint: createHash('md5').update(publicDer).digest('hex') };
}

/** An awsJson1_1 timestamp (epoch seconds) in ms, or `fallback` when absent. */
function timeInput(value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new ServiceError('InvalidTimeRangeException', 'StartTime and EndTime must be timestamps.');
  return value * 1000;
}

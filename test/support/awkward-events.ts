/**
 * CloudTrail events, shaped as trails write them (`{"Records": [...]}`), for
 * the end-to-end schema tests: spread evenly over three UTC days from
 * 2024-05-01, with the rare columns (errorCode, errorMessage,
 * sessionCredentialFromConsole, addendum, tlsDetails, additionalEventData,
 * vpcEndpointId) only on the third day, so that the first pages of a
 * `SELECT * ... ORDER BY eventTime` have none of them; and the awkward values
 * Lake's Presto text makes hard to read back: null fields and null structs,
 * empty maps, `=` and `, ` inside values, JSON text in map values,
 * unicode and emoji, `__proto__` map keys, resources of 0, 1 and 3 elements,
 * a region that is absent, empty or the text `null`.
 *
 * Each event is the ground truth: what a typed column must hold. Objects
 * come from JSON.parse, so a `__proto__` key is an ordinary own key.
 */
import { writeFile } from 'node:fs/promises';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type TrailEvent = { [key: string]: Json };

export const START_MS = Date.UTC(2024, 4, 1);
export const DAY_MS = 86_400_000;
/** The columns that no event of the first two days has. */
export const LATE_KEYS = ['errorCode', 'errorMessage', 'sessionCredentialFromConsole', 'addendum', 'tlsDetails', 'additionalEventData', 'vpcEndpointId'] as const;

export const UNICODE = 'Zoë 🚀 日本語 «ü» \u00a0 "q" \\';
const REGIONS = ['us-east-1', 'eu-west-1', 'ap-northeast-1', 'us-west-2'];
const ACCOUNT = '123456789012';

/** A JSON object literal that keeps `__proto__` as an own key. */
const object = (text: string) => JSON.parse(text) as { [key: string]: Json };

function identity(i: number): Json | undefined {
  const issuer = { type: 'Role', principalId: `AROA${i}`, arn: `arn:aws:iam::${ACCOUNT}:role/r${i % 5}`, accountId: ACCOUNT, userName: `r${i % 5}` };
  const attributes = { creationDate: new Date(START_MS + i * 1000).toISOString().replace('.000', ''), mfaAuthenticated: i % 2 ? 'true' : 'false' };
  const assumed = (extra: { [key: string]: Json }): Json => ({
    type: 'AssumedRole',
    principalId: `AROA${i}:session`,
    arn: `arn:aws:sts::${ACCOUNT}:assumed-role/r${i % 5}/s${i}`,
    accountId: ACCOUNT,
    accessKeyId: `ASIA${String(i).padStart(12, '0')}`,
    ...extra,
  });
  switch (i % 11) {
    case 0:
      return undefined; // no userIdentity at all
    case 1:
      return { type: 'Root', principalId: ACCOUNT, arn: `arn:aws:iam::${ACCOUNT}:root`, accountId: ACCOUNT }; // no sessionContext
    case 2:
      return assumed({ sessionContext: { attributes, sessionIssuer: { ...issuer, arn: null } } }); // a null field inside
    case 3:
      return assumed({ sessionContext: { attributes: null, sessionIssuer: null, sourceIdentity: 'src' } }); // null structs
    case 4:
      return assumed({ userName: UNICODE, sessionContext: { attributes, sessionIssuer: { ...issuer, userName: `${UNICODE} 🙂` } } });
    case 5:
      // `, arn=` inside a value: the text has a second reading.
      return assumed({ sessionContext: { attributes, sessionIssuer: { ...issuer, userName: 'a, arn=arn:aws:iam::1:role/fake' } } });
    case 6:
      // `=` and `, ` inside values, with no field name after the comma: one reading only.
      return assumed({ invokedBy: 'x=y, z=w', sessionContext: { attributes, sessionIssuer: issuer } });
    case 7:
      return assumed({ invokedBy: 'unbalanced {[ text', sessionContext: { attributes, sessionIssuer: issuer } });
    case 8:
      return assumed({
        sessionContext: { attributes, sessionIssuer: issuer, webIdFederationData: { federatedProvider: 'cognito', attributes: object('{"__proto__":"p","cognito:sub":"x=y"}') } },
      });
    case 9:
      return { type: 'AWSService', invokedBy: 'ec2.amazonaws.com' };
    default:
      return assumed({ sessionContext: { attributes, sessionIssuer: issuer } });
  }
}

function requestParameters(i: number): Json | undefined {
  switch (i % 13) {
    case 0:
      return undefined;
    case 1:
      return {}; // an empty map
    case 2:
      return { bucketName: `bucket-${i}`, q: 'a=b, c=d' }; // `, c=` inside a value: a second reading
    case 3:
      return { bucketName: `bucket-${i}`, policy: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*"}]}' }; // JSON text
    case 4:
      return { bucketName: `bucket-${i}`, filter: { tags: ['a', 'b'], n: 1, ok: true } }; // an object, which Lake keeps as JSON text
    case 5:
      return object(`{"__proto__":"polluted?","constructor":"c","bucketName":"bucket-${i}"}`);
    case 6:
      return { bucketName: UNICODE, key: '🚀/日本語.txt' };
    case 7:
      return { bucketName: `bucket-${i}`, expr: 'x = y', list: 'one,two' }; // `=` and `,` without the separator
    case 8:
      return { bucketName: null, key: `k${i}` }; // a null value
    default:
      return { bucketName: `bucket-${i % 4}`, key: `raw/${i}.json` };
  }
}

function resources(i: number): Json | undefined {
  const resource = (j: number) => ({ accountId: ACCOUNT, type: 'AWS::S3::Object', ARN: `arn:aws:s3:::bucket-${i}/${j}` });
  switch (i % 5) {
    case 0:
      return undefined;
    case 1:
      return [];
    case 2:
      return [resource(0)];
    case 3:
      return [resource(0), { accountId: ACCOUNT, type: 'AWS::S3::Bucket', ARN: null }, resource(2)];
    default:
      return [resource(0), resource(1), resource(2)];
  }
}

function region(i: number): string | undefined {
  switch (i % 17) {
    case 0:
      return undefined; // Hive's default partition
    case 1:
      return 'null'; // the text, not a null
    case 2:
      return '';
    default:
      return REGIONS[i % REGIONS.length]!;
  }
}

/**
 * `count` events, one every `3 days / count` (whole seconds, all distinct),
 * in eventTime order. Keys left undefined are absent from the event.
 */
export function awkwardEvents(count: number): TrailEvent[] {
  const step = Math.floor((3 * DAY_MS) / count / 1000) * 1000;
  const events: TrailEvent[] = [];
  for (let i = 0; i < count; i++) {
    const time = START_MS + i * step;
    const late = time >= START_MS + 2 * DAY_MS;
    const event: { [key: string]: Json | undefined } = {
      eventVersion: '1.09',
      userIdentity: identity(i),
      eventTime: new Date(time).toISOString().replace('.000', ''),
      eventSource: i % 3 ? 's3.amazonaws.com' : 'iam.amazonaws.com',
      eventName: i % 3 ? 'GetObject' : 'ListRoles',
      awsRegion: region(i),
      sourceIPAddress: `10.0.${i % 256}.${(i * 7) % 256}`,
      userAgent: i % 4 === 0 ? 'aws-cli/2.15.30, Python/3.11.8 (k=v, x=y)' : i % 4 === 1 ? `agent ${UNICODE}` : 'Boto3/1.34.84',
      errorCode: late && i % 2 ? 'AccessDenied' : undefined,
      errorMessage: late && i % 2 ? `User: arn:aws:iam::${ACCOUNT}:user/u${i} is not authorized, because a=b` : undefined,
      requestParameters: requestParameters(i),
      responseElements: i % 6 === 0 ? { ok: 'yes', 'x-amz-id-2': 'abc=, def=' } : undefined,
      additionalEventData: late && i % 3 === 0 ? { SignatureVersion: 'SigV4', bytesTransferredIn: 0, AuthenticationMethod: 'AuthHeader' } : undefined,
      requestID: `REQ${i}`,
      eventID: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      readOnly: i % 2 === 0,
      resources: resources(i),
      eventType: 'AwsApiCall',
      managementEvent: i % 3 === 0,
      recipientAccountId: ACCOUNT,
      vpcEndpointId: late && i % 4 === 0 ? `vpce-${i}` : undefined,
      eventCategory: i % 3 ? 'Data' : 'Management',
      tlsDetails: late && i % 5 !== 0 ? { tlsVersion: 'TLSv1.3', cipherSuite: 'TLS_AES_128_GCM_SHA256', clientProvidedHostHeader: `bucket-${i}.s3.amazonaws.com` } : undefined,
      sessionCredentialFromConsole: late && i % 7 === 0 ? 'true' : undefined,
      addendum: late && i % 9 === 0 ? { reason: 'DELIVERY_DELAY', updatedFields: null, originalRequestID: `REQ${i}`, originalEventID: null } : undefined,
    };
    events.push(Object.fromEntries(Object.entries(event).filter(([, v]) => v !== undefined)) as TrailEvent);
  }
  return events;
}

/** Writes events as a trail's log file, `{"Records": [...]}`. */
export async function writeTrailLog(file: string, events: TrailEvent[]): Promise<string> {
  await writeFile(file, JSON.stringify({ Records: events }));
  return file;
}

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSqlEngine, type SqlEngine } from '../../src/emulator/sql-engine.js';

const id = '00000000-0000-4000-8000-0000000ed500';
const arn = `arn:aws:cloudtrail:us-east-1:123456789012:eventdatastore/${id}`;
const account = '123456789012';

const alice = {
  type: 'AssumedRole',
  principalId: 'AROAEXAMPLEID:alice',
  arn: `arn:aws:sts::${account}:assumed-role/Admin/alice`,
  accountId: account,
  accessKeyId: 'ASIAEXAMPLEKEY',
  sessionContext: {
    sessionIssuer: { type: 'Role', principalId: 'AROAEXAMPLEID', arn: `arn:aws:iam::${account}:role/Admin`, accountId: account, userName: 'Admin' },
    attributes: { creationDate: '2024-05-01T12:00:00Z', mfaAuthenticated: 'false' },
  },
};
const bob = { type: 'IAMUser', principalId: 'AIDAEXAMPLEBOB', arn: `arn:aws:iam::${account}:user/bob`, accountId: account, accessKeyId: 'AKIAEXAMPLEBOB', userName: 'bob' };

function s3Get(eventID: string, eventTime: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    eventVersion: '1.09',
    userIdentity: alice,
    eventTime,
    eventSource: 's3.amazonaws.com',
    eventName: 'GetObject',
    awsRegion: 'us-east-1',
    sourceIPAddress: '198.51.100.7',
    userAgent: '[aws-cli/2.15.0]',
    requestParameters: { bucketName: 'logs-bucket', key: 'a.txt', Host: 'logs-bucket.s3.us-east-1.amazonaws.com' },
    responseElements: null,
    requestID: `req-${eventID}`,
    eventID,
    readOnly: true,
    resources: [
      { type: 'AWS::S3::Object', ARN: 'arn:aws:s3:::logs-bucket/a.txt' },
      { accountId: account, type: 'AWS::S3::Bucket', ARN: 'arn:aws:s3:::logs-bucket' },
    ],
    eventType: 'AwsApiCall',
    managementEvent: false,
    recipientAccountId: account,
    eventCategory: 'Data',
    tlsDetails: { tlsVersion: 'TLSv1.3', cipherSuite: 'TLS_AES_128_GCM_SHA256', clientProvidedHostHeader: 'logs-bucket.s3.us-east-1.amazonaws.com' },
    ...extra,
  };
}

function createUser(eventID: string, eventTime: string, extra: Record<string, unknown>): Record<string, unknown> {
  return {
    eventVersion: '1.09',
    userIdentity: bob,
    eventTime,
    eventSource: 'iam.amazonaws.com',
    eventName: 'CreateUser',
    awsRegion: 'us-east-1',
    sourceIPAddress: '203.0.113.9',
    userAgent: 'console.amazonaws.com',
    requestID: `req-${eventID}`,
    eventID,
    readOnly: false,
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: account,
    eventCategory: 'Management',
    sessionCredentialFromConsole: 'true',
    ...extra,
  };
}

const assumeRole = {
  eventVersion: '1.08',
  userIdentity: { type: 'AWSService', invokedBy: 'ec2.amazonaws.com' },
  eventTime: '2024-04-29T00:00:00Z',
  eventSource: 'sts.amazonaws.com',
  eventName: 'AssumeRole',
  awsRegion: 'us-east-1',
  sourceIPAddress: 'ec2.amazonaws.com',
  userAgent: 'ec2.amazonaws.com',
  requestParameters: { roleArn: `arn:aws:iam::${account}:role/Worker`, roleSessionName: 'i-0abc', durationSeconds: 3600 },
  responseElements: { credentials: { accessKeyId: 'ASIAWORKER', expiration: 'May 1, 2024, 1:00:00 AM' } },
  requestID: 'req-e6',
  eventID: 'e6',
  readOnly: true,
  resources: [{ accountId: account, type: 'AWS::IAM::Role', ARN: `arn:aws:iam::${account}:role/Worker` }],
  eventType: 'AwsApiCall',
  managementEvent: true,
  recipientAccountId: account,
  eventCategory: 'Management',
};

const events = [
  s3Get('e1', '2024-05-01T12:34:56Z'),
  s3Get('e2', '2024-05-01T12:35:00Z', { errorCode: 'AccessDenied', errorMessage: 'Access Denied' }),
  s3Get('e3', '2024-04-30T10:00:00Z'),
  createUser('e4', '2024-05-01T09:00:00Z', {
    errorCode: 'AccessDenied',
    errorMessage: 'User: bob is not authorized to perform: iam:CreateUser',
    requestParameters: { userName: 'carol', tags: [{ key: 'team', value: 'x' }] },
    responseElements: null,
  }),
  createUser('e5', '2024-05-02T00:00:00Z', {
    requestParameters: { userName: 'dave' },
    responseElements: { user: { userName: 'dave', userId: 'AIDADAVE' } },
  }),
  assumeRole,
];

const aliceText =
  `{type=AssumedRole, principalid=AROAEXAMPLEID:alice, arn=arn:aws:sts::${account}:assumed-role/Admin/alice, accountid=${account}, ` +
  `accesskeyid=ASIAEXAMPLEKEY, username=null, sessioncontext={attributes={creationdate=2024-05-01 12:00:00.000, mfaauthenticated=false}, ` +
  `sessionissuer={type=Role, principalid=AROAEXAMPLEID, arn=arn:aws:iam::${account}:role/Admin, accountid=${account}, username=Admin}, ` +
  'webidfederationdata=null, sourceidentity=null, ec2roledelivery=null, ec2issuedinvpc=null}, onbehalfof=null, inscopeof=null, invokedby=null, identityprovider=null}';

let engine: SqlEngine;
const rows = async (sql: string) => (await engine.run(sql)).rows;

beforeAll(async () => {
  engine = await createSqlEngine({ eventDataStoreId: id, eventDataStoreArn: arn });
  expect(await engine.load(events)).toBe(6);
});
afterAll(() => engine.close());

describe('common CloudTrail Lake queries', () => {
  it('filters on eventTime with a string literal and prints timestamps with three decimals', async () => {
    expect(await rows(`SELECT eventTime, eventName FROM ${id} WHERE eventTime > '2024-05-01 00:00:00' ORDER BY eventTime LIMIT 10`)).toEqual([
      [{ eventTime: '2024-05-01 09:00:00.000' }, { eventName: 'CreateUser' }],
      [{ eventTime: '2024-05-01 12:34:56.000' }, { eventName: 'GetObject' }],
      [{ eventTime: '2024-05-01 12:35:00.000' }, { eventName: 'GetObject' }],
      [{ eventTime: '2024-05-02 00:00:00.000' }, { eventName: 'CreateUser' }],
    ]);
  });

  it('names an unnamed expression _col<N> by its position', async () => {
    const result = await engine.run(`SELECT eventName, count(*) FROM ${id} GROUP BY eventName ORDER BY 2 DESC`);
    expect(result.columns).toEqual(['eventName', '_col1']);
    expect(result.rows).toEqual([
      [{ eventName: 'GetObject' }, { _col1: '3' }],
      [{ eventName: 'CreateUser' }, { _col1: '2' }],
      [{ eventName: 'AssumeRole' }, { _col1: '1' }],
    ]);
    expect(await rows(`SELECT upper(eventName), eventName AS name FROM ${id} WHERE eventID = 'e6'`)).toEqual([[{ _col0: 'ASSUMEROLE' }, { name: 'AssumeRole' }]]);
  });

  it('names a nested field reference by its last part, and keeps aliases', async () => {
    const result = await engine.run(`SELECT userIdentity.arn, count(*) AS n FROM ${id} WHERE errorCode IS NOT NULL GROUP BY 1 ORDER BY 1`);
    expect(result.columns).toEqual(['arn', 'n']);
    expect(result.rows).toEqual([
      [{ arn: `arn:aws:iam::${account}:user/bob` }, { n: '1' }],
      [{ arn: `arn:aws:sts::${account}:assumed-role/Admin/alice` }, { n: '1' }],
    ]);
  });

  it('keeps two cells of the same name in one row, in order', async () => {
    const result = await engine.run(`SELECT userIdentity.arn, userIdentity.sessionContext.sessionIssuer.arn, resources[1].arn FROM ${id} WHERE eventId = 'e1'`);
    expect(result.columns).toEqual(['arn', 'arn', 'arn']);
    expect(result.rows).toEqual([
      [
        { arn: `arn:aws:sts::${account}:assumed-role/Admin/alice` },
        { arn: `arn:aws:iam::${account}:role/Admin` },
        { arn: 'arn:aws:s3:::logs-bucket/a.txt' },
      ],
    ]);
  });

  it('prints a struct as Presto text, lowercased and with nested nulls', async () => {
    expect(await rows(`SELECT userIdentity FROM ${id} WHERE eventID = 'e1'`)).toEqual([[{ userIdentity: aliceText }]]);
  });

  it('prints lists of structs, maps and nested JSON inside maps', async () => {
    expect(await rows(`SELECT resources, requestParameters, tlsDetails FROM ${id} WHERE eventID = 'e1'`)).toEqual([
      [
        {
          resources:
            '[{accountid=null, type=AWS::S3::Object, arn=arn:aws:s3:::logs-bucket/a.txt, arnprefix=null}, ' +
            `{accountid=${account}, type=AWS::S3::Bucket, arn=arn:aws:s3:::logs-bucket, arnprefix=null}]`,
        },
        { requestParameters: '{bucketName=logs-bucket, key=a.txt, Host=logs-bucket.s3.us-east-1.amazonaws.com}' },
        { tlsDetails: '{tlsversion=TLSv1.3, ciphersuite=TLS_AES_128_GCM_SHA256, clientprovidedhostheader=logs-bucket.s3.us-east-1.amazonaws.com}' },
      ],
    ]);
    expect(await rows(`SELECT requestParameters FROM ${id} WHERE eventID = 'e4'`)).toEqual([
      [{ requestParameters: '{userName=carol, tags=[{"key":"team","value":"x"}]}' }],
    ]);
  });

  it('reads a map value with element_at, and omits top-level nulls', async () => {
    const result = await engine.run(
      `SELECT eventID, element_at(requestParameters, 'bucketName') AS bucket, errorCode FROM ${id} WHERE eventSource <> 'sts.amazonaws.com' ORDER BY eventID`,
    );
    expect(result.columns).toEqual(['eventID', 'bucket', 'errorCode']);
    expect(result.rows).toEqual([
      [{ eventID: 'e1' }, { bucket: 'logs-bucket' }],
      [{ eventID: 'e2' }, { bucket: 'logs-bucket' }, { errorCode: 'AccessDenied' }],
      [{ eventID: 'e3' }, { bucket: 'logs-bucket' }],
      [{ eventID: 'e4' }, { errorCode: 'AccessDenied' }],
      [{ eventID: 'e5' }],
    ]);
  });

  it('expands SELECT * to the published columns, named as published, without the null cells', async () => {
    const result = await engine.run(`SELECT * FROM ${id} WHERE eventId = 'e6' LIMIT 1`);
    expect(result.columns.slice(0, 3)).toEqual(['eventversion', 'useridentity', 'eventtime']);
    expect(result.columns).toContain('requestid');
    expect(result.rows).toEqual([
      [
        { eventversion: '1.08' },
        {
          useridentity:
            '{type=AWSService, principalid=null, arn=null, accountid=null, accesskeyid=null, username=null, sessioncontext=null, ' +
            'onbehalfof=null, inscopeof=null, invokedby=ec2.amazonaws.com, identityprovider=null}',
        },
        { eventtime: '2024-04-29 00:00:00.000' },
        { eventsource: 'sts.amazonaws.com' },
        { eventname: 'AssumeRole' },
        { awsregion: 'us-east-1' },
        { sourceipaddress: 'ec2.amazonaws.com' },
        { useragent: 'ec2.amazonaws.com' },
        { requestparameters: `{roleArn=arn:aws:iam::${account}:role/Worker, roleSessionName=i-0abc, durationSeconds=3600}` },
        { responseelements: '{credentials={"accessKeyId":"ASIAWORKER","expiration":"May 1, 2024, 1:00:00 AM"}}' },
        { requestid: 'req-e6' },
        { eventid: 'e6' },
        { readonly: 'true' },
        { resources: `[{accountid=${account}, type=AWS::IAM::Role, arn=arn:aws:iam::${account}:role/Worker, arnprefix=null}]` },
        { eventtype: 'AwsApiCall' },
        { managementevent: 'true' },
        { recipientaccountid: account },
        { eventcategory: 'Management' },
      ],
    ]);
  });

  it('resolves columns case-insensitively and names them as written', async () => {
    expect(await rows(`SELECT eventname, USERIDENTITY.USERNAME, readonly FROM ${id} WHERE eventid = 'e5'`)).toEqual([
      [{ eventname: 'CreateUser' }, { USERNAME: 'bob' }, { readonly: 'false' }],
    ]);
  });

  it('knows a few Presto functions DuckDB lacks', async () => {
    const sql =
      `SELECT approx_distinct(eventName) AS names, array_join(list(DISTINCT eventSource ORDER BY eventSource), ',') AS sources, ` +
      `count_if(regexp_like(userIdentity.arn, ':user/')) AS users, ` +
      `max(json_extract_scalar(element_at(responseElements, 'user'), '$.userId')) AS created, ` +
      `min(from_iso8601_timestamp('2024-05-01T00:00:00Z')) AS since FROM ${id}`;
    expect(await rows(sql)).toEqual([
      [
        { names: '3' },
        { sources: 'iam.amazonaws.com,s3.amazonaws.com,sts.amazonaws.com' },
        { users: '2' },
        { created: 'AIDADAVE' },
        { since: '2024-05-01 00:00:00.000 UTC' },
      ],
    ]);
  });

  it('prints numbers plainly', async () => {
    expect(await rows(`SELECT count(*) * 1.5, sum(length(eventName)), avg(CASE WHEN readOnly THEN 1 ELSE 0 END) FROM ${id}`)).toEqual([
      [{ _col0: '9.0' }, { _col1: '57' }, { _col2: '0.6666666666666666' }],
    ]);
  });
});

describe('the event data store in FROM', () => {
  it('accepts the ARN bare or quoted, and the id quoted', async () => {
    for (const from of [arn, `"${arn}"`, `"${id}"`, id.toUpperCase()]) {
      expect(await rows(`SELECT count(*) AS n FROM ${from}`)).toEqual([[{ n: '6' }]]);
    }
  });

  it('leaves string literals that contain the id alone', async () => {
    expect(await rows(`SELECT '${id}' AS s, '${arn}' AS a FROM ${id} LIMIT 1`)).toEqual([[{ s: id }, { a: arn }]]);
  });

  it('refuses another store', async () => {
    const other = '11111111-2222-4333-8444-555555555555';
    expect(await engine.check(`SELECT * FROM ${other}`)).toMatch(/^Event data store 11111111-2222-4333-8444-555555555555 does not exist/);
  });
});

describe('check and failures', () => {
  it('accepts a SELECT and returns DuckDB parse errors', async () => {
    expect(await engine.check(`SELECT eventName FROM ${id}`)).toBeUndefined();
    expect(await engine.check(`SELECT eventName FROM ${id} WHERE`)).toBe('Parser Error: syntax error at end of input');
    expect(await engine.check(`SELECT eventName FROM ${id} ORDER eventTime`)).toBe('Parser Error: syntax error at or near "eventTime"');
  });

  it('refuses anything but a single SELECT', async () => {
    expect(await engine.check(`DELETE FROM ${id}`)).toBe('Only SELECT statements are supported: the query statement must be a single SELECT.');
    expect(await engine.check(`SELECT 1 FROM ${id}; SELECT 2 FROM ${id}`)).toBe('The query statement must be a single SELECT; found 2 statements.');
    await expect(engine.run(`COPY (SELECT 1) TO '/tmp/x.csv'`)).rejects.toThrow(/^Only SELECT statements are supported/);
  });

  it('rejects a run-time failure with DuckDB message, after check passed', async () => {
    const sql = `SELECT CAST('x' AS INTEGER) FROM ${id}`;
    expect(await engine.check(sql)).toBeUndefined();
    await expect(engine.run(sql)).rejects.toThrow("Conversion Error: Could not convert string 'x' to INT32");
  });

  it('words a binder error on one line without the rewritten statement', async () => {
    const error = await engine.run(`SELECT nosuchcolumn FROM ${id}`).catch((e: unknown) => e as Error);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/^Binder Error: Referenced column "nosuchcolumn" not found in FROM clause!/);
    expect((error as Error).message).not.toMatch(/\n|LINE|event_data_store/);
  });

  it('cannot read local files', async () => {
    await expect(engine.run(`SELECT * FROM read_text('/etc/hostname')`)).rejects.toThrow(/Permission Error/);
  });
});

describe('statistics and concurrency', () => {
  it('reports the events and JSON bytes loaded', async () => {
    const bytes = events.reduce((sum, event) => sum + Buffer.byteLength(JSON.stringify(event)), 0);
    const result = await engine.run(`SELECT eventName FROM ${id} LIMIT 1`);
    expect(result.eventsScanned).toBe(6);
    expect(result.bytesScanned).toBe(bytes);
    expect(engine.eventCount).toBe(6);
    expect(engine.totalBytes).toBe(bytes);
    expect(engine.bytesPerEvent).toBeCloseTo(bytes / 6);
  });

  it('runs queries side by side', async () => {
    const counts = await Promise.all(
      ['GetObject', 'CreateUser', 'AssumeRole'].map((name) => rows(`SELECT count(*) AS n FROM ${id} WHERE eventName = '${name}'`)),
    );
    expect(counts).toEqual([[[{ n: '3' }]], [[{ n: '2' }]], [[{ n: '1' }]]]);
  });
});

describe('loading', () => {
  it('loads from an async iterable', async () => {
    const other = await createSqlEngine({ eventDataStoreId: id, eventDataStoreArn: arn });
    try {
      async function* source() {
        for (const event of events) yield event;
      }
      expect(await other.load(source())).toBe(6);
      expect(await other.load([])).toBe(0);
      expect(other.eventCount).toBe(6);
      await expect(other.load([null as never])).rejects.toThrow(TypeError);
    } finally {
      other.close();
    }
  });

  it('loads 200,000 events in batches', async () => {
    const big = await createSqlEngine({ eventDataStoreId: id, eventDataStoreArn: arn });
    try {
      function* generate(count: number) {
        const start = Date.parse('2024-05-01T00:00:00Z');
        for (let i = 0; i < count; i += 1) {
          const eventTime = new Date(start + i * 1000).toISOString().replace('.000Z', 'Z');
          yield i % 2 ? s3Get(`g${i}`, eventTime) : createUser(`g${i}`, eventTime, { requestParameters: { userName: `u${i}` } });
        }
      }
      const started = performance.now();
      expect(await big.load(generate(200_000))).toBe(200_000);
      const loadMs = performance.now() - started;
      const result = await big.run(`SELECT eventName, count(*), max(eventTime) FROM ${id} GROUP BY 1 ORDER BY 1`);
      console.log(`loaded 200,000 events (${(big.totalBytes / 1e6).toFixed(0)} MB of JSON) in ${loadMs.toFixed(0)} ms`);
      expect(result.rows).toEqual([
        [{ eventName: 'CreateUser' }, { _col1: '100000' }, { _col2: '2024-05-03 07:33:18.000' }],
        [{ eventName: 'GetObject' }, { _col1: '100000' }, { _col2: '2024-05-03 07:33:19.000' }],
      ]);
      expect(result.eventsScanned).toBe(200_000);
    } finally {
      big.close();
    }
  });
});

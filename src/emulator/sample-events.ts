import { mulberry32 } from './faults.js';
import { slotTimes } from './sample-span.js';

/**
 * Synthetic CloudTrail events for the emulator's event data store: records
 * shaped as trails write them into log files (the `Records` array), with the
 * key order, identity shapes and quirks of real CloudTrail, so that Lake SQL
 * written against the emulator also runs against AWS.
 */

/** One CloudTrail event, as in a trail log file's `Records` array. */
export type CloudTrailEvent = Record<string, unknown>;

export interface SampleOptions {
  /** Seed of the PRNG: the same seed and count give byte-identical events. @default 1 */
  seed?: number | undefined;
  /** The first possible eventTime; eventTime has whole seconds, floored. @default 2024-05-01T00:00:00Z */
  start?: Date | undefined;
  /** Events spread over [start, start + spanMs). @default 604800000 (7 days) */
  spanMs?: number | undefined;
  /**
   * Spread the events unevenly over the days of the span (days counted from
   * `start`): quiet weekends, busier and quieter days, one day in 25 with
   * none (src/emulator/sample-span.ts). @default false: evenly, with jitter
   */
  unevenDays?: boolean | undefined;
}

const ACCOUNTS = ['123456789012', '111122223333', '444455556666', '777788889999'] as const;
const REGIONS = ['us-east-1', 'us-east-1', 'us-east-1', 'us-west-2', 'us-west-2', 'eu-west-1', 'eu-central-1', 'ap-northeast-1', 'ap-southeast-2', 'sa-east-1'];
/** [account index, user name]: people, and machine users with long-lived keys. */
const USERS: readonly [number, string][] = [
  [0, 'alice'], [0, 'bob'], [0, 'deploy-bot'], [1, 'carol'], [1, 'ci-runner'],
  [2, 'dave'], [2, 'terraform'], [3, 'erin'], [3, 'backup-agent'],
];
const HUMAN_ROLES = ['Admin', 'ReadOnly', 'OrganizationAccountAccessRole'];
const FUNCTIONS = ['orders-api', 'thumbnail-resizer', 'nightly-report', 'audit-forwarder'];
const BUCKET_STEMS = ['app-assets', 'data-lake', 'logs-archive'];
const KEY_PREFIXES = ['uploads/2024/05/', 'raw/events/', 'reports/daily/', 'thumbnails/'];
const CALLER_SERVICES = ['cloudformation.amazonaws.com', 'config.amazonaws.com', 'autoscaling.amazonaws.com', 'elasticloadbalancing.amazonaws.com'];
const INVOKERS = ['apigateway.amazonaws.com', 'events.amazonaws.com', 's3.amazonaws.com'];
const BROWSER = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36';
const AGENTS = [
  'aws-cli/2.15.30 Python/3.11.8 Linux/6.1.84-99.169.amzn2023.x86_64 exe/x86_64.amzn.2023 prompt/off command/s3.cp',
  'Boto3/1.34.84 md/Botocore#1.34.84 ua/2.0 os/linux#5.10.215 md/arch#x86_64 lang/python#3.12.2 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.84',
  'aws-sdk-js/3.569.0 ua/2.0 os/linux#5.10.216 lang/js md/nodejs#20.12.2 api/s3#3.569.0',
  'aws-sdk-go-v2/1.26.1 os/linux lang/go#1.22.2 md/GOOS#linux md/GOARCH#amd64',
  'APN/1.0 HashiCorp/1.0 Terraform/1.8.2 (+https://www.terraform.io) terraform-provider-aws/5.47.0',
];
const LAMBDA_AGENT = 'Boto3/1.34.84 md/Botocore#1.34.84 ua/2.0 os/linux#5.10.215 md/arch#x86_64 lang/python#3.12.2 exec-env/AWS_Lambda_python3.12 Botocore/1.34.84';
const SESSION_MS = 3_600_000;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Every random choice in this file draws from one instance, in a fixed order: that is the determinism. */
export class Rng {
  readonly f: () => number;
  constructor(seed: number) {
    this.f = mulberry32(seed);
  }
  chance(p: number): boolean {
    return this.f() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.f() * items.length)]!;
  }
  hex(n: number): string {
    let s = '';
    while (s.length < n) s += ((this.f() * 4294967296) >>> 0).toString(16).padStart(8, '0');
    return s.slice(0, n);
  }
  /** An AWS-style id: prefix + `n` characters of [A-Z2-7], as in AKIA..., AROA... */
  id(prefix: string, n = 16): string {
    let s = prefix;
    for (let i = 0; i < n; i++) s += 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'[Math.floor(this.f() * 32)];
    return s;
  }
  /** A version-4-shaped UUID, as CloudTrail's eventID. */
  uuid(): string {
    const h = this.hex(32);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${'89ab'[Math.floor(this.f() * 4)]}${h.slice(17, 20)}-${h.slice(20)}`;
  }
}

interface User { account: string; name: string; id: string; key: string; ip: string; agent: string; region: string }
interface Role { account: string; name: string; id: string; trust: 'human' | 'lambda.amazonaws.com' | 'ec2.amazonaws.com' }
interface Session { role: Role; name: string; key: string; created: number; region: string; ip: string; agent: string; console: boolean }
interface Bucket { account: string; name: string; region: string }
interface LambdaFunction { account: string; name: string; region: string }

/** Who made a call. `invokedBy` marks a service acting with the principal's credentials. */
type Actor =
  | { kind: 'user'; user: User; console: boolean }
  | { kind: 'session'; session: Session; invokedBy?: string | undefined }
  | { kind: 'service'; service: string; account: string }
  | { kind: 'root'; account: string; ip: string };

/** One management API: its request and response, given where it runs. */
interface ManagementApi {
  source: string;
  name: string;
  readOnly: boolean;
  /** IAM is global: its calls are recorded in us-east-1. */
  global?: boolean;
  request(r: Rng, account: string): Record<string, unknown> | null;
  response?(r: Rng): Record<string, unknown>;
  /** The resource the call names, consistent with its request. */
  resource?(request: Record<string, unknown>, account: string, region: string, r: Rng): { type: string; ARN: string };
}

const api = (source: string, name: string, readOnly: boolean, request: ManagementApi['request'], more: Partial<ManagementApi> = {}): ManagementApi =>
  ({ source, name, readOnly, request, ...more });
const MANAGEMENT: readonly ManagementApi[] = [
  api('ec2', 'DescribeInstances', true, () => ({ instancesSet: {}, filterSet: {} })),
  api('ec2', 'DescribeSecurityGroups', true, () => ({ securityGroupSet: {}, securityGroupIdSet: {}, filterSet: {} })),
  api('ec2', 'CreateTags', false, (r) => ({ resourcesSet: { items: [{ resourceId: `i-0${r.hex(16)}` }] }, tagSet: { items: [{ key: 'Name', value: 'web' }] } }), {
    response: (r) => ({ requestId: r.uuid(), _return: true }),
  }),
  api('iam', 'ListRoles', true, () => null, { global: true }),
  api('iam', 'GetUser', true, (r) => ({ userName: r.pick(USERS)[1] }), { global: true }),
  api('iam', 'AttachRolePolicy', false, (r) => ({ roleName: r.pick(HUMAN_ROLES), policyArn: 'arn:aws:iam::aws:policy/ReadOnlyAccess' }), { global: true }),
  api('sts', 'GetCallerIdentity', true, () => null),
  api('s3', 'ListBuckets', true, () => ({ Host: 's3.amazonaws.com' })),
  api('s3', 'GetBucketAcl', true, (r, account) => ({ bucketName: bucketName(r.pick(BUCKET_STEMS), account), Host: 's3.amazonaws.com', acl: '' }), {
    resource: (request) => ({ type: 'AWS::S3::Bucket', ARN: `arn:aws:s3:::${String(request.bucketName)}` }),
  }),
  api('kms', 'Decrypt', true, () => ({ encryptionAlgorithm: 'SYMMETRIC_DEFAULT' }), {
    resource: (_, account, region, r) => ({ type: 'AWS::KMS::Key', ARN: `arn:aws:kms:${region}:${account}:key/${r.uuid()}` }),
  }),
  api('lambda', 'ListFunctions20150331', true, () => null),
  api('dynamodb', 'DescribeTable', true, (r) => ({ tableName: r.pick(['orders', 'sessions', 'inventory']) })),
  api('logs', 'CreateLogStream', false, (r) => ({ logGroupName: `/aws/lambda/${r.pick(FUNCTIONS)}`, logStreamName: `2024/05/01/[$LATEST]${r.hex(32)}` })),
  api('ssm', 'GetParameter', true, (r) => ({ name: r.pick(['/prod/db/url', '/prod/api/key', '/staging/db/url']), withDecryption: true })),
  api('secretsmanager', 'GetSecretValue', true, (r) => ({ secretId: r.pick(['prod/db', 'prod/stripe']) })),
  api('cloudformation', 'DescribeStacks', true, () => null),
];
/** What AWS services call on their own (AWSService identities): reads only. */
const SERVICE_READS = MANAGEMENT.filter((a) => a.readOnly && a.source !== 'sts');

function bucketName(stem: string, account: string): string {
  return `${stem}-${account}`;
}

/** `2024-05-01T12:34:56Z`: CloudTrail's eventTime has whole seconds. */
function isoSeconds(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19)}Z`;
}

/** STS writes credential expiry in this form, e.g. `May 1, 2024, 1:34:56 PM`. */
function stsExpiration(ms: number): string {
  const d = new Date(ms);
  const h = d.getUTCHours();
  const two = (n: number) => String(n).padStart(2, '0');
  return `${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()}, ${d.getUTCFullYear()}, ${h % 12 || 12}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} ${h < 12 ? 'AM' : 'PM'}`;
}

export function checkOptions(count: number, options: SampleOptions): { seed: number; start: number; spanMs: number; unevenDays: boolean } {
  if (!Number.isSafeInteger(count) || count < 0) throw new TypeError(`count must be a non-negative integer, got ${JSON.stringify(count)}`);
  const seed = options.seed ?? 1;
  if (!Number.isFinite(seed)) throw new TypeError(`seed must be a finite number, got ${String(seed)}`);
  const start = (options.start ?? new Date(Date.UTC(2024, 4, 1))).getTime();
  if (!Number.isFinite(start)) throw new TypeError(`start must be a valid Date, got ${String(options.start)}`);
  const spanMs = options.spanMs ?? 7 * 86_400_000;
  if (!Number.isFinite(spanMs) || spanMs <= 0) throw new TypeError(`spanMs must be a positive number, got ${String(spanMs)}`);
  return { seed, start, spanMs, unevenDays: options.unevenDays === true };
}

/**
 * Yields `count` events in ascending eventTime (ties allowed, whole seconds)
 * over [start, start + spanMs), spaced evenly with jitter (or by uneven days,
 * `unevenDays`). Deterministic: the
 * same seed, count, start and span give byte-identical events. Memory is
 * constant in `count`: besides small name pools, at most 16 live role sessions
 * are kept, so a million events stream without being held.
 *
 * The mix: about a third S3 object data events and some Lambda Invoke data
 * events, management calls across EC2, IAM, KMS, STS and others, ConsoleLogin
 * (some failed), AssumeRole (every role session in use was opened by an
 * earlier AssumeRole, sometimes chained from another session), AWS service
 * calls and AwsServiceEvent records, and about 6% failed calls with errorCode.
 */
export function sampleEvents(count: number, options: SampleOptions = {}): Generator<CloudTrailEvent> {
  return generate(count, checkOptions(count, options)); // options are checked now, not at the first next()
}

function* generate(count: number, options: ReturnType<typeof checkOptions>): Generator<CloudTrailEvent> {
  const { seed } = options;
  const timeAt = slotTimes(count, options);
  const r = new Rng(seed);
  const ips = Array.from({ length: 24 }, () => `${r.pick([3, 18, 34, 52, 54, 98, 203])}.${Math.floor(r.f() * 256)}.${Math.floor(r.f() * 256)}.${1 + Math.floor(r.f() * 254)}`);
  const users: User[] = USERS.map(([a, name]) => ({
    account: ACCOUNTS[a]!, name, id: r.id('AIDA', 17), key: r.id('AKIA'), ip: r.pick(ips), agent: r.pick(AGENTS), region: r.pick(REGIONS),
  }));
  const roles: Role[] = ACCOUNTS.flatMap((account, a) => [
    ...HUMAN_ROLES.filter((name) => a > 0 || name !== 'OrganizationAccountAccessRole').map((name) => ({ account, name, id: r.id('AROA', 17), trust: 'human' as const })),
    { account, name: 'web-instance-role', id: r.id('AROA', 17), trust: 'ec2.amazonaws.com' as const },
  ]);
  const functions: LambdaFunction[] = FUNCTIONS.map((name, i) => ({ account: ACCOUNTS[i % ACCOUNTS.length]!, name, region: REGIONS[i]! }));
  for (const fn of functions) roles.push({ account: fn.account, name: `${fn.name}-role`, id: r.id('AROA', 17), trust: 'lambda.amazonaws.com' });
  const buckets: Bucket[] = ACCOUNTS.flatMap((account) => BUCKET_STEMS.map((stem) => ({ account, name: bucketName(stem, account), region: r.pick(REGIONS) })));
  const sessions: Session[] = [];

  /** A session opened within the last hour, or undefined. */
  const liveSession = (t: number, humanOnly = false): Session | undefined => {
    const offset = Math.floor(r.f() * 16);
    for (let i = 0; i < sessions.length; i++) {
      const s = sessions[(i + offset) % sessions.length]!;
      if (t - s.created < SESSION_MS && (!humanOnly || s.role.trust === 'human')) return s;
    }
    return undefined;
  };
  const accountOf = (actor: Actor): string =>
    actor.kind === 'user' ? actor.user.account : actor.kind === 'session' ? actor.session.role.account : actor.account;

  const identity = (actor: Actor, t: number): Record<string, unknown> => {
    const attributes = (created: number, mfa: boolean) => ({ creationDate: isoSeconds(created), mfaAuthenticated: String(mfa) });
    switch (actor.kind) {
      case 'user': {
        const { user } = actor;
        const base = { type: 'IAMUser', principalId: user.id, arn: `arn:aws:iam::${user.account}:user/${user.name}`, accountId: user.account };
        if (!actor.console) return { ...base, accessKeyId: user.key, userName: user.name };
        return { ...base, accessKeyId: r.id('ASIA'), userName: user.name, sessionContext: { attributes: attributes(t - 60_000 * Math.floor(r.f() * 90), true) } };
      }
      case 'session': {
        const { session: s, session: { role } } = actor;
        return {
          type: 'AssumedRole', principalId: `${role.id}:${s.name}`, arn: `arn:aws:sts::${role.account}:assumed-role/${role.name}/${s.name}`,
          accountId: role.account, accessKeyId: s.key,
          sessionContext: {
            sessionIssuer: { type: 'Role', principalId: role.id, arn: `arn:aws:iam::${role.account}:role/${role.name}`, accountId: role.account, userName: role.name },
            webIdFederationData: {},
            attributes: attributes(s.created, s.console),
          },
          ...(actor.invokedBy ? { invokedBy: actor.invokedBy } : {}),
        };
      }
      case 'service':
        return { type: 'AWSService', invokedBy: actor.service };
      case 'root':
        return {
          type: 'Root', principalId: actor.account, arn: `arn:aws:iam::${actor.account}:root`, accountId: actor.account,
          accessKeyId: r.id('ASIA'), sessionContext: { attributes: attributes(t - 60_000 * Math.floor(r.f() * 30), true) },
        };
    }
  };

  interface Call {
    actor: Actor; t: number; source: string; name: string; region: string; readOnly: boolean; category?: 'Data';
    request: Record<string, unknown> | null; response?: Record<string, unknown> | null; additional?: Record<string, unknown>;
    resources?: Record<string, unknown>[]; error?: readonly [string, string]; host?: string; recipient?: string; requestID?: string;
  }
  /** One AwsApiCall record, keys in CloudTrail's order. */
  const apiCall = (c: Call): CloudTrailEvent => {
    const { actor } = c;
    const service = actor.kind === 'service' ? actor.service : actor.kind === 'session' ? actor.invokedBy : undefined;
    const ip = service ?? (actor.kind === 'user' ? actor.user.ip : actor.kind === 'session' ? actor.session.ip : actor.kind === 'root' ? actor.ip : '');
    const fromConsole = (actor.kind === 'user' && actor.console) || actor.kind === 'root' || (actor.kind === 'session' && actor.session.console);
    const agent = service ?? (fromConsole ? BROWSER : actor.kind === 'user' ? actor.user.agent : actor.kind === 'session' ? actor.session.agent : '');
    const event: CloudTrailEvent = {
      eventVersion: '1.09', userIdentity: identity(actor, c.t), eventTime: isoSeconds(c.t),
      eventSource: `${c.source}.amazonaws.com`, eventName: c.name, awsRegion: c.region, sourceIPAddress: ip, userAgent: agent,
    };
    if (c.error) [event.errorCode, event.errorMessage] = c.error;
    event.requestParameters = c.request;
    event.responseElements = c.error ? null : c.response ?? null;
    if (c.additional) event.additionalEventData = c.additional;
    event.requestID = c.requestID ?? r.uuid();
    event.eventID = r.uuid();
    event.readOnly = c.readOnly;
    if (c.resources) event.resources = c.resources;
    event.eventType = 'AwsApiCall';
    event.managementEvent = c.category !== 'Data';
    event.recipientAccountId = c.recipient ?? accountOf(actor);
    if (event.recipientAccountId !== accountOf(actor) && actor.kind !== 'service') event.sharedEventID = r.uuid();
    event.eventCategory = c.category ?? 'Management';
    const [tlsVersion, cipherSuite] = r.chance(0.7) ? ['TLSv1.3', 'TLS_AES_128_GCM_SHA256'] : ['TLSv1.2', 'ECDHE-RSA-AES128-GCM-SHA256'];
    const clientProvidedHostHeader = c.host ?? (c.source === 'iam' ? 'iam.amazonaws.com' : `${c.source}.${c.region}.amazonaws.com`);
    if (!service) event.tlsDetails = { tlsVersion, cipherSuite, clientProvidedHostHeader };
    if (fromConsole) event.sessionCredentialFromConsole = 'true';
    return event;
  };

  /** A call that failed, in the error vocabulary of its service. */
  const failure = (source: string, name: string, arn: string | undefined): readonly [string, string] => {
    if (arn === undefined || r.chance(0.25)) {
      if (source === 'ec2') return ['Client.RequestLimitExceeded', 'Request limit exceeded.'];
      return source === 's3' ? ['SlowDown', 'Please reduce your request rate.'] : ['ThrottlingException', 'Rate exceeded'];
    }
    if (source === 'ec2') return ['Client.UnauthorizedOperation', 'You are not authorized to perform this operation.'];
    if (source === 's3') return ['AccessDenied', 'Access Denied'];
    return ['AccessDenied', `User: ${arn} is not authorized to perform: ${source}:${name} because no identity-based policy allows the ${source}:${name} action`];
  };
  /** The caller's ARN for an AccessDenied message; undefined for AWS services, which are only throttled. */
  const arnOf = (actor: Actor): string | undefined => (actor.kind === 'service' ? undefined : String(identity(actor, 0).arn));

  const assumeRole = (t: number): CloudTrailEvent => {
    const role = r.pick(roles);
    let caller: Actor, name: string, ip: string, agent: string;
    const prior = role.trust === 'human' ? liveSession(t, true) : undefined;
    if (role.trust !== 'human') {
      caller = { kind: 'service', service: role.trust, account: role.account };
      name = role.trust === 'lambda.amazonaws.com' ? role.name.replace(/-role$/, '') : `i-0${r.hex(16)}`;
      [ip, agent] = [r.pick(ips), role.trust === 'lambda.amazonaws.com' ? LAMBDA_AGENT : r.pick(AGENTS)];
    } else if (prior && prior.role !== role && r.chance(0.3)) {
      caller = { kind: 'session', session: prior }; // role chaining: a session assumes another role
      ({ name, ip, agent } = prior);
    } else {
      const sameAccount = users.filter((u) => u.account === role.account);
      const user = sameAccount.length && r.chance(0.8) ? r.pick(sameAccount) : r.pick(users);
      caller = { kind: 'user', user, console: r.chance(0.2) };
      ({ name, ip, agent } = user);
    }
    const roleArn = `arn:aws:iam::${role.account}:role/${role.name}`;
    const region = caller.kind === 'user' ? caller.user.region : r.pick(REGIONS);
    const session: Session = { role, name, key: r.id('ASIA'), created: t, region, ip, agent, console: caller.kind === 'user' && caller.console };
    if (sessions.length < 16) sessions.push(session);
    else sessions[Math.floor(r.f() * 16)] = session;
    return apiCall({
      actor: caller, t, source: 'sts', name: 'AssumeRole', region, readOnly: true, recipient: role.account,
      request: { roleArn, roleSessionName: name, durationSeconds: 3600 },
      response: {
        credentials: { accessKeyId: session.key, expiration: stsExpiration(t + SESSION_MS) },
        assumedRoleUser: { assumedRoleId: `${role.id}:${name}`, arn: `arn:aws:sts::${role.account}:assumed-role/${role.name}/${name}` },
      },
      resources: [{ accountId: role.account, type: 'AWS::IAM::Role', ARN: roleArn }],
    });
  };

  const consoleLogin = (t: number): CloudTrailEvent => {
    const user = r.pick(users);
    const root = r.chance(0.1);
    const failed = r.chance(0.2);
    const region = r.chance(0.7) ? 'us-east-1' : user.region;
    const arn = root ? `arn:aws:iam::${user.account}:root` : `arn:aws:iam::${user.account}:user/${user.name}`;
    const who = root ? { type: 'Root', principalId: user.account } : { type: 'IAMUser', principalId: user.id };
    const event: CloudTrailEvent = {
      eventVersion: '1.08',
      // A failed sign-in records no ARN, and an empty accessKeyId.
      userIdentity: failed
        ? { ...who, accountId: user.account, accessKeyId: '', ...(root ? {} : { userName: user.name }) }
        : { ...who, arn, accountId: user.account, ...(root ? { accessKeyId: '' } : { userName: user.name }) },
      eventTime: isoSeconds(t), eventSource: 'signin.amazonaws.com', eventName: 'ConsoleLogin', awsRegion: region,
      sourceIPAddress: failed && r.chance(0.5) ? r.pick(ips) : user.ip, userAgent: BROWSER,
    };
    if (failed) event.errorMessage = 'Failed authentication';
    Object.assign(event, {
      requestParameters: null,
      responseElements: { ConsoleLogin: failed ? 'Failure' : 'Success' },
      additionalEventData: {
        LoginTo: `https://console.aws.amazon.com/console/home?hashArgs=%23&isauthcode=true&state=hashArgsFromTB_${region}_${r.hex(16)}`,
        MobileVersion: 'No', MFAUsed: root || r.chance(0.7) ? 'Yes' : 'No',
      },
      // Sign-in events carry no requestID.
      eventID: r.uuid(), readOnly: false, eventType: 'AwsConsoleSignIn', managementEvent: true,
      recipientAccountId: user.account, eventCategory: 'Management',
      tlsDetails: { tlsVersion: 'TLSv1.3', cipherSuite: 'TLS_AES_128_GCM_SHA256', clientProvidedHostHeader: `${region}.signin.aws.amazon.com` },
    });
    return event;
  };

  /** KMS's yearly automatic key rotation: an AwsServiceEvent, with no caller and no requestID. */
  const serviceEvent = (t: number): CloudTrailEvent => {
    const account = r.pick(ACCOUNTS);
    const region = r.pick(REGIONS);
    const keyId = r.uuid();
    return {
      eventVersion: '1.09', userIdentity: { accountId: account, invokedBy: 'kms.amazonaws.com' }, eventTime: isoSeconds(t),
      eventSource: 'kms.amazonaws.com', eventName: 'RotateKey', awsRegion: region,
      sourceIPAddress: 'kms.amazonaws.com', userAgent: 'kms.amazonaws.com', requestParameters: null, responseElements: null,
      additionalEventData: { keyId }, eventID: r.uuid(), readOnly: false,
      resources: [{ accountId: account, type: 'AWS::KMS::Key', ARN: `arn:aws:kms:${region}:${account}:key/${keyId}` }],
      eventType: 'AwsServiceEvent', managementEvent: true, recipientAccountId: account,
      serviceEventDetails: { keyOrigin: 'AWS_KMS', keyRotationMode: 'AUTOMATIC' }, eventCategory: 'Management',
    };
  };

  /** S3 GetObject/PutObject data events; S3 request ids are 16 hex digits, not UUIDs. */
  const s3Object = (t: number, actor: Actor): CloudTrailEvent => {
    const account = accountOf(actor);
    const own = buckets.filter((b) => b.account === account);
    const bucket = own.length && r.chance(0.9) ? r.pick(own) : r.pick(buckets);
    const put = r.chance(0.3);
    const key = `${r.pick(KEY_PREFIXES)}${r.hex(12)}.${r.pick(['json', 'parquet', 'jpg', 'csv.gz'])}`;
    const host = `${bucket.name}.s3.${bucket.region}.amazonaws.com`;
    const error = r.chance(0.05) ? (!put && r.chance(0.5) ? (['NoSuchKey', 'The specified key does not exist.'] as const) : failure('s3', '', arnOf(actor))) : undefined;
    const size = Math.floor(r.f() * 5_000_000);
    return apiCall({
      actor, t, source: 's3', name: put ? 'PutObject' : 'GetObject', region: bucket.region, readOnly: !put, category: 'Data',
      request: { bucketName: bucket.name, Host: host, key }, response: put ? { 'x-amz-server-side-encryption': 'AES256' } : null, error, host,
      additional: {
        SignatureVersion: 'SigV4', CipherSuite: 'TLS_AES_128_GCM_SHA256', bytesTransferredIn: put ? size : 0,
        AuthenticationMethod: 'AuthHeader', 'x-amz-id-2': r.hex(40), bytesTransferredOut: put ? 0 : size,
      },
      requestID: r.hex(16).toUpperCase(), recipient: bucket.account,
      resources: [
        { type: 'AWS::S3::Object', ARN: `arn:aws:s3:::${bucket.name}/${key}` },
        { accountId: bucket.account, type: 'AWS::S3::Bucket', ARN: `arn:aws:s3:::${bucket.name}` },
      ],
    });
  };

  const lambdaInvoke = (t: number, caller: Actor): CloudTrailEvent => {
    const fn = r.pick(functions);
    const actor: Actor = r.chance(0.6) ? { kind: 'service', service: r.pick(INVOKERS), account: fn.account } : caller;
    const arn = `arn:aws:lambda:${fn.region}:${fn.account}:function:${fn.name}`;
    return apiCall({
      actor, t, source: 'lambda', name: 'Invoke', region: fn.region, readOnly: false, category: 'Data', recipient: fn.account,
      request: { functionName: arn }, additional: { functionVersion: `${arn}:$LATEST` },
      error: r.chance(0.02) ? ['TooManyRequestsException', 'Rate Exceeded.'] : undefined,
      resources: [{ accountId: fn.account, type: 'AWS::Lambda::Function', ARN: arn }],
    });
  };

  const management = (t: number, actor: Actor): CloudTrailEvent => {
    const call = r.pick(actor.kind === 'service' ? SERVICE_READS : MANAGEMENT);
    const account = accountOf(actor);
    const home = actor.kind === 'user' ? actor.user.region : actor.kind === 'session' ? actor.session.region : 'us-east-1';
    const region = call.global ? 'us-east-1' : r.chance(0.8) ? home : r.pick(REGIONS);
    const request = call.request(r, account);
    const resource = request && call.resource?.(request, account, region, r);
    return apiCall({
      actor, t, source: call.source, name: call.name, region, readOnly: call.readOnly, request, response: call.response?.(r) ?? null,
      resources: resource ? [{ accountId: account, ...resource }] : undefined,
      error: r.chance(0.06) ? failure(call.source, call.name, arnOf(actor)) : undefined,
    });
  };

  /** An actor for an ordinary call, or undefined when a role session is wanted and none is open. */
  const pickActor = (t: number): Actor | undefined => {
    const x = r.f();
    if (x < 0.55) {
      const session = liveSession(t);
      if (!session) return undefined;
      const invokedBy = session.role.trust === 'human' && r.chance(0.05) ? 'cloudformation.amazonaws.com' : undefined;
      return { kind: 'session', session, invokedBy };
    }
    if (x < 0.8) return { kind: 'user', user: r.pick(users), console: r.chance(0.15) };
    if (x < 0.99) return { kind: 'service', service: r.pick(CALLER_SERVICES), account: r.pick(ACCOUNTS) };
    const user = r.pick(users);
    return { kind: 'root', account: user.account, ip: user.ip };
  };

  for (let i = 0; i < count; i++) {
    // Slot i covers [i, i+1) of count equal slots: times never decrease.
    const t = Math.floor(timeAt(i, r.f()) / 1000) * 1000;
    const x = r.f();
    if (x < 0.035) yield consoleLogin(t);
    else if (x < 0.045) yield serviceEvent(t);
    else if (x < 0.075) yield assumeRole(t);
    else {
      const actor = pickActor(t);
      if (!actor) yield assumeRole(t);
      else if (x < 0.4) yield s3Object(t, actor);
      else if (x < 0.48) yield lambdaInvoke(t, actor);
      else yield management(t, actor);
    }
  }
}

/** `sampleEvents` collected into an array, for small counts. */
export function sampleEventArray(count: number, options: SampleOptions = {}): CloudTrailEvent[] {
  return [...sampleEvents(count, options)];
}

import { Rng, checkOptions, type SampleOptions } from './sample-events.js';
import { slotTimes } from './sample-span.js';

/**
 * Synthetic events from integrations outside AWS, for an emulated event data
 * store of type `integration-events`: records as CloudTrail Lake stores what
 * applications send through a channel with PutAuditEvents. Each record has the
 * fields CloudTrail adds on ingestion (eventVersion, eventCategory
 * `ActivityAuditLog`, eventType `ActivityLog`, eventID, eventTime, awsRegion,
 * recipientAccountId, metadata with ingestionTime and channelARN, sometimes
 * an addendum) around the `eventData` the application sent: version,
 * userIdentity {type, principalId, details}, userAgent, eventSource,
 * eventName, eventTime, UID, requestParameters, responseElements, errorCode,
 * errorMessage, sourceIPAddress, recipientAccountId, additionalEventData.
 * Key names and order follow the user guide's "CloudTrail Lake integrations
 * event schema".
 */

/** One Lake record of an integration event data store. */
export type IntegrationEvent = Record<string, unknown>;

const ACCOUNT = '123456789012';
const REGION = 'us-east-1';
const BROWSER = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36';
const SERVICE_AGENTS = ['okhttp/4.12.0', 'python-requests/2.31.0', 'Go-http-client/2.0', 'axios/1.6.8'];
const PEOPLE = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi'];
const GROUPS = ['engineering', 'finance', 'support', 'admins'];
const FLAGS = ['new-checkout', 'dark-mode', 'search-v2', 'beta-reports'];
const ENVIRONMENTS = ['production', 'staging', 'development'];
const SKUS = ['SKU-1001', 'SKU-2040', 'SKU-3300', 'SKU-7781'];

/** What one call of an application looks like in eventData, given who made it. */
interface Action {
  name: string;
  /** Share of calls that fail, and how. */
  failure?: { rate: number; code: string; message: string };
  request(r: Rng, who: Person): Record<string, unknown> | undefined;
  response?(r: Rng, request: Record<string, unknown> | undefined): Record<string, unknown>;
  additional?(r: Rng): Record<string, unknown>;
}

/** An application that sends its audit log through one channel. */
interface Source {
  eventSource: string;
  version: string;
  /** How this source names the people and machines that act in it. */
  identity(r: Rng, who: Person): { type: string; principalId: string; details: Record<string, unknown> };
  uid(r: Rng): string;
  actions: readonly Action[];
  /** Whether calls come from machines (service agents) rather than people in browsers. */
  machine?: boolean;
}

interface Person {
  name: string;
  id: string;
  ip: string;
  group: string;
}

const SOURCES: readonly Source[] = [
  {
    eventSource: 'sso.example.com',
    version: '2024.05',
    identity: (_, who) => ({ type: 'User', principalId: who.id, details: { login: `${who.name}@example.com`, displayName: who.name, groups: [who.group] } }),
    uid: (r) => r.id('evt', 20),
    actions: [
      {
        name: 'user.session.start',
        failure: { rate: 0.08, code: 'INVALID_CREDENTIALS', message: 'Authentication failed: invalid credentials' },
        request: (r) => ({ authenticationMethod: r.pick(['password', 'password+totp', 'webauthn']) }),
        additional: (r) => ({ mfaUsed: r.chance(0.7), geo: { country: r.pick(['US', 'DE', 'JP', 'BR']) } }),
      },
      { name: 'user.session.end', request: () => undefined },
      {
        name: 'app.oauth2.token.grant',
        request: (r) => ({ clientId: `0oa${r.hex(16)}`, scope: 'openid profile email', grantType: 'authorization_code' }),
        response: (r) => ({ expiresIn: 3600, tokenType: 'Bearer', tokenId: r.uuid() }),
      },
      {
        name: 'group.user_membership.add',
        failure: { rate: 0.03, code: 'PERMISSION_DENIED', message: 'The actor may not change this group' },
        request: (r) => ({ groupName: r.pick(GROUPS), userLogin: `${r.pick(PEOPLE)}@example.com` }),
      },
    ],
  },
  {
    eventSource: 'flags.example.com',
    version: '3',
    identity: (_, who) => ({ type: 'Member', principalId: `member-${who.id}`, details: { email: `${who.name}@example.com`, role: who.group === 'admins' ? 'admin' : 'writer' } }),
    uid: (r) => r.uuid(),
    actions: [
      {
        name: 'UpdateFlag',
        failure: { rate: 0.02, code: 'Conflict', message: 'The flag was changed by another member' },
        request: (r) => ({ flagKey: r.pick(FLAGS), environment: r.pick(ENVIRONMENTS), patch: [{ op: 'replace', path: '/on', value: r.chance(0.5) }] }),
        response: (r) => ({ version: String(1 + Math.floor(r.f() * 200)) }),
      },
      { name: 'GetFlag', request: (r) => ({ flagKey: r.pick(FLAGS), environment: r.pick(ENVIRONMENTS) }) },
      {
        name: 'CreateFlag',
        request: (r) => ({ flagKey: `${r.pick(FLAGS)}-${r.hex(4)}`, temporary: r.chance(0.8) }),
        response: (r) => ({ version: '1', creationDate: String(1714521600000 + Math.floor(r.f() * 6e8)) }),
      },
    ],
  },
  {
    eventSource: 'orders.internal.example.com',
    version: '1.4.2',
    machine: true,
    identity: (r, who) =>
      r.chance(0.6)
        ? { type: 'ServiceAccount', principalId: 'svc-checkout', details: { clientCertificate: `CN=svc-checkout,O=Example ${r.hex(6)}` } }
        : { type: 'Employee', principalId: `E${who.id.slice(-6)}`, details: { department: who.group } },
    uid: (r) => `req-${r.hex(24)}`,
    actions: [
      {
        name: 'CreateOrder',
        failure: { rate: 0.04, code: 'PaymentDeclined', message: 'The card issuer declined the payment' },
        request: (r) => ({ sku: r.pick(SKUS), quantity: 1 + Math.floor(r.f() * 5), currency: 'USD' }),
        response: (r) => ({ orderId: `ord-${r.hex(12)}`, status: 'CREATED' }),
        additional: (r) => ({ latencyMs: 20 + Math.floor(r.f() * 400) }),
      },
      {
        name: 'RefundOrder',
        failure: { rate: 0.1, code: 'AccessDenied', message: 'Refunds above 500 USD need a second approver' },
        request: (r) => ({ orderId: `ord-${r.hex(12)}`, amount: (Math.floor(r.f() * 90_000) / 100).toFixed(2), reason: r.pick(['damaged', 'late', 'duplicate']) }),
        response: () => ({ status: 'REFUNDED' }),
      },
      { name: 'ExportCustomerData', request: (r) => ({ customerId: `cus-${r.hex(10)}`, format: 'csv' }), response: (r) => ({ rows: 1 + Math.floor(r.f() * 5000) }) },
    ],
  },
];

/** `YYYY-MM-DDTHH:MM:SSZ`, the form the integration schema gives for its times. */
function isoSeconds(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/**
 * Yields `count` integration events in ascending eventTime (whole seconds)
 * over [start, start + spanMs). Deterministic: the same seed, count, start
 * and span give byte-identical events. Memory is constant in `count`.
 *
 * The mix: three applications, each with its own channel: a single sign-on
 * service (sign-ins, about 8% failed, token grants, group changes), a
 * feature-flag service (flag reads and changes) and an in-house orders
 * service (orders, refunds, exports, mostly by a service account). About one
 * record in 200 carries an addendum, as a re-sent update of an earlier one.
 */
export function sampleIntegrationEvents(count: number, options: SampleOptions = {}): Generator<IntegrationEvent> {
  return generate(count, checkOptions(count, options)); // options are checked now, not at the first next()
}

function* generate(count: number, options: ReturnType<typeof checkOptions>): Generator<IntegrationEvent> {
  const timeAt = slotTimes(count, options);
  const r = new Rng(options.seed);
  const channels = SOURCES.map(() => `arn:aws:cloudtrail:${REGION}:${ACCOUNT}:channel/${r.uuid()}`);
  const people: Person[] = PEOPLE.map((name, i) => ({
    name,
    id: `00u${r.hex(17)}`,
    ip: `${r.pick([198, 203, 192])}.${Math.floor(r.f() * 256)}.${Math.floor(r.f() * 256)}.${1 + Math.floor(r.f() * 254)}`,
    group: GROUPS[i % GROUPS.length]!,
  }));

  for (let i = 0; i < count; i++) {
    const t = Math.floor(timeAt(i, r.f()) / 1000) * 1000;
    const x = r.f();
    const which = x < 0.45 ? 0 : x < 0.7 ? 1 : 2;
    const source = SOURCES[which]!;
    const action = r.pick(source.actions);
    const who = r.pick(people);
    const request = action.request(r, who);
    const failed = action.failure !== undefined && r.chance(action.failure.rate);
    const eventTime = isoSeconds(t);
    const eventData: Record<string, unknown> = {
      version: source.version,
      userIdentity: source.identity(r, who),
      userAgent: source.machine ? r.pick(SERVICE_AGENTS) : BROWSER,
      eventSource: source.eventSource,
      eventName: action.name,
      eventTime,
      UID: source.uid(r),
      ...(request === undefined ? {} : { requestParameters: request }),
      ...(failed || action.response === undefined ? {} : { responseElements: action.response(r, request) }),
      ...(failed ? { errorCode: action.failure!.code, errorMessage: action.failure!.message } : {}),
      sourceIPAddress: source.machine ? `10.${Math.floor(r.f() * 256)}.${Math.floor(r.f() * 256)}.${1 + Math.floor(r.f() * 254)}` : who.ip,
      recipientAccountId: ACCOUNT,
      ...(action.additional === undefined ? {} : { additionalEventData: action.additional(r) }),
    };
    const eventID = r.uuid();
    const record: IntegrationEvent = {
      eventVersion: '1.0',
      eventCategory: 'ActivityAuditLog',
      eventType: 'ActivityLog',
      eventID,
      eventTime,
      awsRegion: REGION,
      recipientAccountId: ACCOUNT,
    };
    if (r.chance(0.005)) {
      record.addendum = { reason: 'UPDATED_DATA', updatedFields: 'eventData.userAgent', originalUID: eventData.UID, originalEventID: r.uuid() };
    }
    record.metadata = { ingestionTime: isoSeconds(t + 1000 + Math.floor(r.f() * 90_000)), channelARN: channels[which]! };
    record.eventData = eventData;
    yield record;
  }
}

/** `sampleIntegrationEvents` collected into an array, for small counts. */
export function sampleIntegrationEventArray(count: number, options: SampleOptions = {}): IntegrationEvent[] {
  return [...sampleIntegrationEvents(count, options)];
}

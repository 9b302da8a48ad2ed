import { describe, it, expect } from 'vitest';
import { sampleEventArray, sampleEvents, type CloudTrailEvent } from '../../src/emulator/sample-events.js';

const ISO_SECONDS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const START = Date.UTC(2024, 4, 1);
const WEEK = 7 * 86_400_000;

type Identity = {
  type?: string;
  arn?: string;
  accountId?: string;
  accessKeyId?: string;
  invokedBy?: string;
  sessionContext?: { attributes?: { creationDate?: string }; sessionIssuer?: { type?: string; arn?: string } };
};
const identityOf = (e: CloudTrailEvent) => e.userIdentity as Identity;

/** The keys every record has, in the order CloudTrail writes them. */
const ALWAYS = ['eventVersion', 'userIdentity', 'eventTime', 'eventSource', 'eventName', 'awsRegion', 'sourceIPAddress', 'userAgent'];

/** Throws unless `e` has the shape of a trail log record. */
function checkShape(e: CloudTrailEvent): void {
  const keys = Object.keys(e);
  if (keys.slice(0, ALWAYS.length).join() !== ALWAYS.join()) throw new Error(`key order: ${keys.join()}`);
  for (const key of ['requestParameters', 'responseElements', 'eventID', 'readOnly', 'eventType', 'managementEvent', 'recipientAccountId', 'eventCategory']) {
    if (!(key in e)) throw new Error(`missing ${key}: ${JSON.stringify(e)}`);
  }
  if (!ISO_SECONDS.test(String(e.eventTime))) throw new Error(`eventTime ${String(e.eventTime)}`);
  if (!UUID.test(String(e.eventID))) throw new Error(`eventID ${String(e.eventID)}`);
  if (typeof e.readOnly !== 'boolean' || typeof e.managementEvent !== 'boolean') throw new Error('booleans');
  if (!['AwsApiCall', 'AwsConsoleSignIn', 'AwsServiceEvent'].includes(String(e.eventType))) throw new Error(`eventType ${String(e.eventType)}`);
  if ((e.eventCategory === 'Data') === e.managementEvent) throw new Error('eventCategory and managementEvent disagree');
}

describe('sampleEvents', () => {
  it('is deterministic: the same seed gives byte-identical events', () => {
    const a = JSON.stringify(sampleEventArray(2000, { seed: 7 }));
    const b = JSON.stringify(sampleEventArray(2000, { seed: 7 }));
    expect(a).toBe(b);
    expect(JSON.stringify([...sampleEvents(2000)])).toBe(JSON.stringify(sampleEventArray(2000, { seed: 1 })));
  });

  it('gives different events for a different seed', () => {
    const a = sampleEventArray(2000, { seed: 1 });
    const b = sampleEventArray(2000, { seed: 2 });
    expect(JSON.stringify(a)).not.toBe(JSON.stringify(b));
    const ids = new Set(a.map((e) => e.eventID));
    expect(b.filter((e) => ids.has(e.eventID))).toHaveLength(0);
  });

  it('writes records shaped as trail log files, with unique eventIDs', () => {
    const events = sampleEventArray(5000, { seed: 3 });
    for (const e of events) checkShape(e);
    expect(new Set(events.map((e) => e.eventID)).size).toBe(events.length);
  });

  it('orders events by ascending eventTime within [start, start + span)', () => {
    const check = (count: number, start: number, spanMs: number) => {
      const times = [...sampleEvents(count, { seed: 5, start: new Date(start), spanMs })].map((e) => Date.parse(String(e.eventTime)));
      expect(times).toHaveLength(count);
      for (let i = 1; i < times.length; i++) expect(times[i]!).toBeGreaterThanOrEqual(times[i - 1]!);
      expect(times[0]!).toBeGreaterThanOrEqual(start);
      expect(times.at(-1)!).toBeLessThan(start + spanMs);
      return times;
    };
    const week = check(3000, START, WEEK);
    // Spread over the span, not bunched at its start.
    expect(week.at(-1)! - week[0]!).toBeGreaterThan(0.99 * WEEK);
    check(500, Date.UTC(2023, 0, 1, 12), 3_600_000);
    check(50, START, 1000);
  });

  it('mixes every kind of event a trail records', () => {
    const events = sampleEventArray(5000, { seed: 11 });
    const logins = events.filter((e) => e.eventName === 'ConsoleLogin');
    expect(logins.every((e) => e.eventType === 'AwsConsoleSignIn' && e.eventSource === 'signin.amazonaws.com')).toBe(true);
    const failed = logins.filter((e) => (e.responseElements as { ConsoleLogin?: string }).ConsoleLogin === 'Failure');
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.every((e) => e.errorMessage === 'Failed authentication')).toBe(true);
    expect(logins.some((e) => (e.responseElements as { ConsoleLogin?: string }).ConsoleLogin === 'Success')).toBe(true);

    expect(events.some((e) => e.eventSource === 'sts.amazonaws.com' && e.eventName === 'AssumeRole')).toBe(true);
    const codes = new Set(events.map((e) => e.errorCode).filter((c) => c !== undefined));
    expect(codes).toContain('AccessDenied');
    expect(codes).toContain('ThrottlingException');
    for (const e of events.filter((x) => x.errorCode !== undefined)) expect(e.errorMessage).toEqual(expect.any(String));

    const data = events.filter((e) => e.eventCategory === 'Data');
    expect(new Set(data.map((e) => e.eventName))).toEqual(new Set(['GetObject', 'PutObject', 'Invoke']));
    for (const e of data) {
      expect(e.managementEvent).toBe(false);
      expect((e.resources as unknown[]).length).toBeGreaterThan(0);
    }
    const get = data.find((e) => e.eventName === 'GetObject' && e.errorCode === undefined)!;
    expect(get.resources).toEqual([
      { type: 'AWS::S3::Object', ARN: expect.stringMatching(/^arn:aws:s3:::[^/]+\/.+/) },
      { accountId: get.recipientAccountId, type: 'AWS::S3::Bucket', ARN: expect.stringMatching(/^arn:aws:s3:::/) },
    ]);
    expect(events.some((e) => e.eventType === 'AwsServiceEvent')).toBe(true);

    expect(new Set(events.map((e) => e.awsRegion)).size).toBeGreaterThanOrEqual(6);
    expect(new Set(events.map((e) => e.recipientAccountId)).size).toBeGreaterThanOrEqual(3);
    const types = new Set(events.map((e) => identityOf(e).type));
    for (const type of ['IAMUser', 'AssumedRole', 'AWSService', 'Root']) expect(types).toContain(type);
    const services = events.filter((e) => identityOf(e).type === 'AWSService');
    expect(services.every((e) => typeof identityOf(e).invokedBy === 'string' && e.sourceIPAddress === identityOf(e).invokedBy)).toBe(true);
  });

  it('opens every role session with an earlier AssumeRole of that role, and chains some', () => {
    const events = sampleEventArray(5000, { seed: 13 });
    /** Session access key → [role ARN, time the session was opened]. */
    const opened = new Map<string, [string, number]>();
    let used = 0;
    let chained = 0;
    for (const e of events) {
      const id = identityOf(e);
      if (id.type === 'AssumedRole') {
        const session = opened.get(id.accessKeyId!);
        expect(session, `session ${id.accessKeyId} used before AssumeRole`).toBeDefined();
        expect(id.sessionContext?.sessionIssuer?.type).toBe('Role');
        expect(id.sessionContext?.sessionIssuer?.arn).toBe(session![0]);
        expect(Date.parse(id.sessionContext!.attributes!.creationDate!)).toBe(session![1]);
        expect(Date.parse(String(e.eventTime)) - session![1]).toBeLessThan(3_600_000);
        used += 1;
        if (e.eventName === 'AssumeRole') chained += 1;
      }
      if (e.eventName === 'AssumeRole' && e.errorCode === undefined) {
        const response = e.responseElements as { credentials: { accessKeyId: string } };
        const request = e.requestParameters as { roleArn: string };
        opened.set(response.credentials.accessKeyId, [request.roleArn, Date.parse(String(e.eventTime))]);
      }
    }
    expect(used).toBeGreaterThan(1000);
    expect(chained).toBeGreaterThan(0);
  });

  it('streams 200,000 events without holding them', () => {
    let count = 0;
    let previous = '';
    let data = 0;
    for (const e of sampleEvents(200_000, { seed: 17 })) {
      count += 1;
      const time = e.eventTime as string;
      if (time < previous) throw new Error(`event ${count} goes back in time: ${time} < ${previous}`);
      previous = time;
      if (e.eventCategory === 'Data') data += 1;
    }
    expect(count).toBe(200_000);
    expect(previous < '2024-05-08T00:00:00Z').toBe(true);
    expect(data / count).toBeGreaterThan(0.2);
  }, 60_000);

  it('yields nothing for count 0 and rejects bad options with a TypeError', () => {
    expect(sampleEventArray(0)).toEqual([]);
    expect(() => sampleEvents(-1)).toThrow(TypeError);
    expect(() => sampleEventArray(1.5)).toThrow(/count/);
    expect(() => sampleEventArray(10, { spanMs: 0 })).toThrow(/spanMs/);
    expect(() => sampleEventArray(10, { start: new Date('nope') })).toThrow(/start/);
  });
});

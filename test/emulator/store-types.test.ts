import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DescribeQueryCommand,
  GetEventDataStoreCommand,
  GetQueryResultsCommand,
  ListEventDataStoresCommand,
  StartQueryCommand,
  type CloudTrailClient,
} from '@aws-sdk/client-cloudtrail';
import { lakeSchema } from '../../src/rows/lake-schema.js';
import { startEmulator, type Emulator } from '../../src/emulator/server.js';
import { advancedEventSelectors } from '../../src/emulator/event-data-store.js';
import { sampleIntegrationEventArray, sampleIntegrationEvents } from '../../src/emulator/sample-integration-events.js';
import { emulatorClient } from '../support/lake.js';

const ISO_SECONDS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;

/** Runs a query to its end; each row's cells merged into one object. Rejects with the ErrorMessage of a failed query. */
async function queryRows(client: CloudTrailClient, sql: string): Promise<Array<Record<string, string>>> {
  const { QueryId } = await client.send(new StartQueryCommand({ QueryStatement: sql }));
  for (;;) {
    const described = await client.send(new DescribeQueryCommand({ QueryId }));
    if (described.QueryStatus === 'FINISHED') break;
    if (described.QueryStatus !== 'QUEUED' && described.QueryStatus !== 'RUNNING') throw new Error(described.ErrorMessage);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const results = await client.send(new GetQueryResultsCommand({ QueryId }));
  return (results.QueryResultRows ?? []).map((row) => Object.assign({}, ...row) as Record<string, string>);
}

describe('sampleIntegrationEvents', () => {
  it('is deterministic and ordered by eventTime', () => {
    const a = sampleIntegrationEventArray(1500, { seed: 4 });
    expect(JSON.stringify(a)).toBe(JSON.stringify(sampleIntegrationEventArray(1500, { seed: 4 })));
    expect(JSON.stringify(a)).not.toBe(JSON.stringify(sampleIntegrationEventArray(1500, { seed: 5 })));
    const times = a.map((e) => Date.parse(String(e.eventTime)));
    expect(times).toEqual([...times].sort((x, y) => x - y));
    expect(() => sampleIntegrationEvents(-1)).toThrow(TypeError);
  });

  it('writes records as Lake stores PutAuditEvents: CloudTrail fields around the eventData sent', () => {
    const events = sampleIntegrationEventArray(2000, { seed: 1 });
    const sources = new Set<string>();
    let failed = 0;
    for (const e of events) {
      expect(Object.keys(e).slice(0, 7)).toEqual(['eventVersion', 'eventCategory', 'eventType', 'eventID', 'eventTime', 'awsRegion', 'recipientAccountId']);
      expect(e).toMatchObject({ eventCategory: 'ActivityAuditLog', eventType: 'ActivityLog' });
      const metadata = e.metadata as { ingestionTime: string; channelARN: string };
      expect(metadata.channelARN).toMatch(/^arn:aws:cloudtrail:us-east-1:123456789012:channel\/[0-9a-f-]{36}$/);
      expect(Date.parse(metadata.ingestionTime)).toBeGreaterThan(Date.parse(String(e.eventTime)));
      const data = e.eventData as Record<string, unknown>;
      for (const key of ['version', 'userIdentity', 'eventSource', 'eventName', 'eventTime', 'UID', 'recipientAccountId']) expect(data).toHaveProperty(key);
      expect(data.eventTime).toMatch(ISO_SECONDS);
      expect(data.recipientAccountId).toBe(e.recipientAccountId);
      const identity = data.userIdentity as Record<string, unknown>;
      expect(Object.keys(identity)).toEqual(['type', 'principalId', 'details']);
      sources.add(String(data.eventSource));
      if (data.errorCode !== undefined) {
        failed++;
        expect(typeof data.errorMessage).toBe('string');
        expect(data.responseElements).toBeUndefined();
      }
    }
    expect(sources.size).toBe(3);
    expect(failed / events.length).toBeGreaterThan(0.01);
    expect(failed / events.length).toBeLessThan(0.1);
  });
});

describe('an emulated integration event data store', () => {
  let emulator: Emulator;
  let client: CloudTrailClient;
  beforeAll(async () => {
    emulator = await startEmulator({ storeType: 'integration-events', sample: 300, seed: 2 });
    client = emulatorClient(emulator);
  });
  afterAll(async () => {
    client.destroy();
    await emulator.close();
  });

  it('answers nested eventdata queries', async () => {
    const rows = await queryRows(client, `SELECT eventdata.uid, eventdata.useridentity.type, eventcategory FROM ${emulator.eventDataStoreId} ORDER BY eventtime LIMIT 5`);
    expect(rows).toHaveLength(5);
    for (const row of rows) {
      expect(Object.keys(row)).toEqual(['uid', 'type', 'eventcategory']);
      expect(row.uid).toMatch(/^(evt[A-Z2-7]{20}|[0-9a-f-]{36}|req-[0-9a-f]{24})$/);
      expect(['User', 'Member', 'ServiceAccount', 'Employee']).toContain(row.type);
      expect(row.eventcategory).toBe('ActivityAuditLog');
    }
  });

  it('has the published columns, and keeps map keys of the eventData as sent', async () => {
    const rows = await queryRows(
      client,
      `SELECT *, eventData.userIdentity.details AS details FROM ${emulator.eventDataStoreId} WHERE eventdata.eventsource = 'sso.example.com' AND eventdata.eventname = 'user.session.start' LIMIT 1`,
    );
    const published = lakeSchema('integration-events').columns.map((c) => c.name);
    expect(Object.keys(rows[0]!).filter((k) => k !== 'details')).toEqual(published.filter((name) => name !== 'addendum'));
    expect(rows[0]!.details).toMatch(/^\{login=[a-z]+@example\.com, displayName=[a-z]+, groups=\["[a-z]+"\]\}$/);
    expect(rows[0]!.eventdata).toMatch(/^\{version=2024\.05, useridentity=\{type=User, principalid=00u[0-9a-f]{17}, details=\{login=/);
    expect(rows[0]!.metadata).toMatch(/^\{ingestiontime=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ, channelarn=arn:aws:cloudtrail:us-east-1:123456789012:channel\//);
  });

  it('describes the store by the ActivityAuditLog event category, and lists it by ARN and name', async () => {
    const store = await client.send(new GetEventDataStoreCommand({ EventDataStore: emulator.eventDataStoreArn }));
    expect(store.AdvancedEventSelectors).toEqual([{ Name: 'Events from integrations', FieldSelectors: [{ Field: 'eventCategory', Equals: ['ActivityAuditLog'] }] }]);
    const listed = await client.send(new ListEventDataStoresCommand({}));
    expect(listed.EventDataStores).toEqual([{ EventDataStoreArn: emulator.eventDataStoreArn, Name: 'ctlake-emulator' }]);
  });

  it('has no CloudTrail columns', async () => {
    await expect(queryRows(client, `SELECT useridentity.arn FROM ${emulator.eventDataStoreId}`)).rejects.toThrow(/useridentity/);
  });
});

describe('store types', () => {
  it('describes a CloudTrail event store by its Management and Data selectors', async () => {
    const emulator = await startEmulator();
    const client = emulatorClient(emulator);
    try {
      expect(emulator.storeType).toBe('cloudtrail-events');
      const store = await client.send(new GetEventDataStoreCommand({ EventDataStore: emulator.eventDataStoreId }));
      expect(store.AdvancedEventSelectors).toEqual([
        { Name: 'Management events', FieldSelectors: [{ Field: 'eventCategory', Equals: ['Management'] }] },
        { Name: 'S3 object data events', FieldSelectors: [{ Field: 'eventCategory', Equals: ['Data'] }, { Field: 'resources.type', Equals: ['AWS::S3::Object'] }] },
        { Name: 'Lambda invocations', FieldSelectors: [{ Field: 'eventCategory', Equals: ['Data'] }, { Field: 'resources.type', Equals: ['AWS::Lambda::Function'] }] },
      ]);
    } finally {
      client.destroy();
      await emulator.close();
    }
  });

  it('names each store type by its event category', () => {
    const categories = (storeType: Parameters<typeof advancedEventSelectors>[0]) =>
      advancedEventSelectors(storeType).flatMap((s) => s.FieldSelectors.filter((f) => f.Field === 'eventCategory').flatMap((f) => f.Equals));
    expect(categories('cloudtrail-events')).toEqual(['Management', 'Data', 'Data']);
    expect(categories('cloudtrail-insights')).toEqual(['Insight']);
    expect(categories('config-configuration-items')).toEqual(['ConfigurationItem']);
    expect(categories('audit-manager-evidence')).toEqual(['Evidence']);
    expect(categories('integration-events')).toEqual(['ActivityAuditLog']);
    for (const storeType of ['cloudtrail-insights', 'config-configuration-items', 'audit-manager-evidence', 'integration-events'] as const) {
      expect(categories(storeType)).toEqual([lakeSchema(storeType).eventCategory]);
    }
  });

  it('builds a store of a type without samples from its records, and refuses a bad type or a sample it cannot make', async () => {
    await expect(startEmulator({ storeType: 'cloudtrail' as never })).rejects.toThrow(/storeType must be one of cloudtrail-events, /);
    await expect(startEmulator({ storeType: 'cloudtrail-insights', sample: 5 })).rejects.toThrow(/no sample events for storeType cloudtrail-insights/);
    const emulator = await startEmulator({ storeType: 'cloudtrail-insights' });
    const client = emulatorClient(emulator);
    try {
      const rows = await queryRows(client, `SELECT count(*) AS n FROM ${emulator.eventDataStoreId} WHERE insightContext.insightduration > 0`);
      expect(rows).toEqual([{ n: '0' }]);
    } finally {
      client.destroy();
      await emulator.close();
    }
  });
});

import { describe, expect, it } from 'vitest';
import { GetEventDataStoreCommand, ListEventDataStoresCommand } from '@aws-sdk/client-cloudtrail';
import { startEmulator, type Emulator } from '../../src/emulator/server.js';
import { retentionCutoff } from '../../src/emulator/event-data-store.js';
import { sampleEvents } from '../../src/emulator/sample-events.js';
import { shapeProblems } from '../support/model-shapes.js';
import { emulatorStarter, runQuery } from './limits-harness.js';

const DAY = 86_400_000;

describe('the event data store: GetEventDataStore and retentionDays', () => {
  const start = emulatorStarter();
  async function wireStore(emulator: Emulator): Promise<Record<string, unknown>> {
    const response = await fetch(emulator.url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': 'com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.GetEventDataStore' },
      body: JSON.stringify({ EventDataStore: emulator.eventDataStoreArn }),
    });
    return (await response.json()) as Record<string, unknown>;
  }

  it('describes the store with every member that applies, in the shapes of the model', async () => {
    const { emulator, client } = await start({ sample: 100 });
    const body = await wireStore(emulator);
    expect(shapeProblems('GetEventDataStoreResponse', body)).toEqual([]);
    expect(Object.keys(body).sort()).toEqual(
      ['AdvancedEventSelectors', 'BillingMode', 'CreatedTimestamp', 'EventDataStoreArn', 'FederationStatus', 'MultiRegionEnabled', 'Name', 'OrganizationEnabled', 'PartitionKeys', 'RetentionPeriod', 'Status', 'TerminationProtectionEnabled', 'UpdatedTimestamp'],
    );
    const store = await client.send(new GetEventDataStoreCommand({ EventDataStore: emulator.eventDataStoreId }));
    expect(store).toMatchObject({
      EventDataStoreArn: emulator.eventDataStoreArn,
      Status: 'ENABLED',
      RetentionPeriod: 2557,
      BillingMode: 'EXTENDABLE_RETENTION_PRICING',
      FederationStatus: 'DISABLED',
      PartitionKeys: [{ Name: 'eventTime', Type: 'timestamp' }],
    });
    expect(store.FederationRoleArn).toBeUndefined();
    // Created the day before the oldest sample event (2024-05-01), not when the emulator started.
    expect(store.CreatedTimestamp).toEqual(new Date('2024-04-30T00:00:00Z'));
    expect(store.UpdatedTimestamp).toEqual(store.CreatedTimestamp);
    // ListEventDataStores stays ARN and name, as the service lists stores.
    expect((await client.send(new ListEventDataStoresCommand({}))).EventDataStores).toEqual([{ EventDataStoreArn: emulator.eventDataStoreArn, Name: 'ctlake-emulator' }]);
  });

  it('reports retentionDays, billingMode and federation as set', async () => {
    const { emulator, client } = await start({ retentionDays: 365, billingMode: 'FIXED_RETENTION_PRICING', federation: true, accountId: '111122223333' });
    expect(shapeProblems('GetEventDataStoreResponse', await wireStore(emulator))).toEqual([]);
    const store = await client.send(new GetEventDataStoreCommand({ EventDataStore: emulator.eventDataStoreArn }));
    expect(store).toMatchObject({ RetentionPeriod: 365, BillingMode: 'FIXED_RETENTION_PRICING', FederationStatus: 'ENABLED', FederationRoleArn: expect.stringMatching(/^arn:aws:iam::111122223333:role\//) });
    // No events: the store was created now.
    expect(Math.abs(store.CreatedTimestamp!.getTime() - Date.now())).toBeLessThan(60_000);
  });

  it('hides from every query the events before the start of the UTC day retentionDays ago', async () => {
    const from = new Date(Math.floor(Date.now() / DAY) * DAY - 60 * DAY);
    const span = { seed: 9, start: from, spanMs: 60 * DAY };
    const { emulator, client } = await start({ sample: 3000, seed: 9, eventsFrom: from, eventsTo: new Date(from.getTime() + 60 * DAY), retentionDays: 30 });
    const cutoff = retentionCutoff(30);
    expect(cutoff.getTime() % DAY).toBe(0);
    const kept = [...sampleEvents(3000, span)].filter((e) => Date.parse(String(e.eventTime)) >= cutoff.getTime());
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.length).toBeLessThan(3000);
    const run = await runQuery(client, `SELECT count(*) AS events, min(eventTime) AS oldest FROM ${emulator.eventDataStoreId}`);
    expect(run.rows[0]![0]).toEqual({ events: String(kept.length) });
    expect(run.rows[0]![1]!.oldest! >= cutoff.toISOString().slice(0, 10)).toBe(true);
    const scanned = await runQuery(client, `SELECT eventID FROM ${emulator.eventDataStoreId} WHERE eventTime < '${cutoff.toISOString().slice(0, 10)} 00:00:00'`);
    expect(scanned.rows).toEqual([]);
    expect(scanned.described.QueryStatistics?.EventsScanned).toBe(0);
  });

  it('spreads sample events over [eventsFrom, eventsTo), evenly unless unevenDays', async () => {
    const { emulator, client } = await start({ sample: 700, eventsFrom: '2023-03-01T00:00:00Z', eventsTo: '2023-03-08T00:00:00Z' });
    const run = await runQuery(client, `SELECT date_trunc('day', eventTime) AS day, count(*) AS n FROM ${emulator.eventDataStoreId} GROUP BY 1 ORDER BY 1`);
    expect(run.rows.map((r) => r[0]!.day)).toEqual(Array.from({ length: 7 }, (_, i) => `2023-03-0${i + 1} 00:00:00.000`));
    expect(run.rows.every((r) => Math.abs(Number(r[1]!.n) - 100) <= 1)).toBe(true);
  });

  it.each([
    [{ retentionDays: 6 }, /retentionDays must be a whole number of days from 7 to 3653/],
    [{ billingMode: 'FREE' as never }, /billingMode must be one of EXTENDABLE_RETENTION_PRICING, FIXED_RETENTION_PRICING/],
    [{ sample: 10, eventsFrom: '2024-02-01', eventsTo: '2024-01-01' }, /eventsTo must be after eventsFrom/],
    [{ sample: 10, eventsFrom: 'soon' }, /eventsFrom must be a Date or a time/],
  ])('refuses %j', async (options, message) => {
    await expect(startEmulator(options)).rejects.toThrow(message);
  });
});

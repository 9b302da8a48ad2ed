import { describe, expect, it } from 'vitest';
import { GetEventDataStoreCommand } from '@aws-sdk/client-cloudtrail';
import { main } from '../../src/cli/main.js';
import { whileRunning } from '../support/emulator-cli.js';
import { captureIO } from '../support/lake.js';
import { rowObject, runQuery } from './limits-harness.js';

describe('ctlake emulator: the flags of the limits', () => {
  it('passes the store, span and rate flags to the emulator', async () => {
    const args = ['--sample', '300', '--events-from', '2025-01-01T00:00:00Z', '--events-to', '2025-03-01T00:00:00Z', '--uneven-days', '--retention-days', '3653'];
    const store = ['--billing-mode', 'FIXED_RETENTION_PRICING', '--federation', '--timeout-events', '1000000', '--tps-read', '1000', '--tps-write', '1000', '--token-key', 'shared'];
    const code = await whileRunning([...args, ...store], async (client, eds) => {
      const described = await client.send(new GetEventDataStoreCommand({ EventDataStore: eds }));
      expect(described).toMatchObject({ RetentionPeriod: 3653, BillingMode: 'FIXED_RETENTION_PRICING', FederationStatus: 'ENABLED' });
      expect(described.CreatedTimestamp).toEqual(new Date('2024-12-31T00:00:00Z'));
      const { rows } = await runQuery(client, `SELECT MIN(eventTime) AS oldest, MAX(eventTime) AS newest, COUNT(*) AS events FROM ${eds}`);
      const span = rowObject(rows[0]!);
      expect(span.events).toBe('300');
      expect(span.oldest! >= '2025-01-01').toBe(true);
      expect(span.newest! < '2025-03-01').toBe(true);
    });
    expect(code).toBe(0);
  });

  it.each([
    [['--retention-days', '5'], /--retention-days must be/],
    [['--billing-mode', 'FREE'], /--billing-mode must be EXTENDABLE_RETENTION_PRICING, FIXED_RETENTION_PRICING/],
    [['--tps-read', '0'], /--tps-read must be/],
    [['--events-from', 'yesterday'], /--events-from must be a UTC time/],
  ])('refuses %j with exit 2', async (args, message) => {
    const { io, stderr } = captureIO({});
    expect(await main(['emulator', ...args], io)).toBe(2);
    expect(stderr()).toMatch(message);
  });
});

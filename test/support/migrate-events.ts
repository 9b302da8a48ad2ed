import { writeFile } from 'node:fs/promises';

const DAY_MS = 86_400_000;

/**
 * CloudTrail events over [from, from + days) with uneven days: some empty,
 * most quiet, a few busy, written as NDJSON for the emulator's `events`.
 * Returns the file and the events by day, the independent record a migration
 * is checked against (the test reads the same file back with DuckDB too).
 */
export async function writeMigrateEvents(file: string, from: number, days: number, perDay: (day: number) => number): Promise<{ total: number; byDay: Map<string, number> }> {
  const lines: string[] = [];
  const byDay = new Map<string, number>();
  let n = 0;
  for (let d = 0; d < days; d++) {
    const count = perDay(d);
    const dayStart = from + d * DAY_MS;
    for (let i = 0; i < count; i++) {
      // Spread over the day, every event its own second: ordered, unique, and in range.
      const t = dayStart + Math.floor(((i + 0.5) * DAY_MS) / count);
      const id = `00000000-0000-4000-8000-${String(n++).padStart(12, '0')}`;
      lines.push(
        JSON.stringify({
          eventVersion: '1.08',
          eventTime: new Date(t - (t % 1000)).toISOString().replace('.000Z', 'Z'),
          eventID: id,
          eventName: i % 3 === 0 ? 'ConsoleLogin' : 'GetObject',
          eventSource: i % 3 === 0 ? 'signin.amazonaws.com' : 's3.amazonaws.com',
          awsRegion: 'us-east-1',
          eventType: 'AwsApiCall',
          recipientAccountId: '123456789012',
          sourceIPAddress: '198.51.100.7',
          userIdentity: { type: 'IAMUser', arn: 'arn:aws:iam::123456789012:user/alice', accountId: '123456789012' },
        }),
      );
    }
    if (count) byDay.set(new Date(dayStart).toISOString().slice(0, 10), count);
  }
  await writeFile(file, lines.join('\n') + '\n');
  return { total: n, byDay };
}

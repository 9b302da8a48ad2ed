import type { MigrationPlan } from './migrate-plan.js';

/**
 * A migration plan (projectPlan in migrate-plan.ts) as a person reads it on
 * stderr, and as JSON for a program: the two views `ctlake migrate --plan`
 * gives. Pure: the plan in, text or a plain object out.
 */

/** How many expiring days renderPlan lists before "and N more". */
export const EXPIRING_LISTED = 20;

/**
 * The plan as a person reads it on stderr: a table of slices, events,
 * estimated bytes and cost, projected duration and end, then each day that
 * would expire, at most EXPIRING_LISTED of them and "and N more". Figures
 * that were assumed say so.
 */
export function renderPlan(plan: MigrationPlan): string[] {
  const a = plan.assumptions;
  const assumed = (name: string) => (a.assumed.includes(name) ? ', assumed' : '');
  const end = plan.schedule.length ? plan.schedule.reduce((m, s) => (s.endsAt > m ? s.endsAt : m), a.now) : a.now;
  const rows: Array<[string, string]> = [
    ['slices', count(plan.slices)],
    ['events', count(plan.events)],
    ['estimated bytes', `${bytesText(plan.bytesEstimate)} (${count(a.bytesPerEvent)} bytes an event${assumed('bytesPerEvent')})`],
    ['estimated cost', `${plan.cost.text} at $${a.pricePerGb} per GB scanned`],
    ['projected time', `${durationWords(plan.durationMs)} (concurrency ${a.concurrency}, ${count(a.pageRowsPerSecond)} rows/s each${assumed('pageRowsPerSecond')}, ${durationWords(a.queryRunMs)} a query before its first page${assumed('queryRunMs')})`],
    ['projected end', end],
    ['retention', a.retentionDays === undefined ? 'not known: days that would expire are not projected' : `${count(a.retentionDays)} days`],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  const lines = ['migration plan', ...rows.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`)];
  if (a.retentionDays === undefined) return lines;
  if (plan.expiring.length === 0) {
    lines.push('  no day expires before its slice ends');
    return lines;
  }
  lines.push(`  ${count(plan.expiring.length)} ${plan.expiring.length === 1 ? 'day expires' : 'days expire'} before its slice ends (Lake deletes events older than ${a.retentionDays} days, daily):`);
  for (const e of plan.expiring.slice(0, EXPIRING_LISTED)) lines.push(`    ${e.day}  deleted from ${e.deletedAt}  slice ${e.slice} starts ${e.startsAt}`);
  if (plan.expiring.length > EXPIRING_LISTED) lines.push(`    and ${count(plan.expiring.length - EXPIRING_LISTED)} more`);
  return lines;
}

/**
 * The plan as JSON (`--plan --json`, a state file's plan). Field names are
 * stable; a change to them raises planVersion:
 * - planVersion: 1
 * - slices, events, bytesEstimate, durationMs: numbers (durationMs from assumptions.now)
 * - cost: { usd: number, exact: decimal string, text: `$1.23` }
 * - schedule: [{ key, events, startsAt, endsAt }], ISO times, in run order
 * - expiring: [{ day: YYYY-MM-DD, deletedAt, slice: key, startsAt }]
 * - assumptions: { now, retentionDays (absent when not known), concurrency,
 *   pageRowsPerSecond, readTps, queryRunMs, bytesPerEvent, pricePerGb,
 *   assumed: the names of those not given, so assumed }
 */
export function planJson(plan: MigrationPlan): Record<string, unknown> {
  return {
    planVersion: 1,
    slices: plan.slices,
    events: plan.events,
    bytesEstimate: plan.bytesEstimate,
    cost: { usd: plan.cost.usd, exact: plan.cost.exact, text: plan.cost.text },
    durationMs: plan.durationMs,
    schedule: plan.schedule.map((s) => ({ key: s.key, events: s.events, startsAt: s.startsAt, endsAt: s.endsAt })),
    expiring: plan.expiring.map((e) => ({ day: e.day, deletedAt: e.deletedAt, slice: e.slice, startsAt: e.startsAt })),
    assumptions: { ...plan.assumptions, assumed: [...plan.assumptions.assumed] },
  };
}

const count = (n: number) => n.toLocaleString('en-US');

/** Decimal units, as Lake bills them (a GB is 10^9 bytes). */
function bytesText(bytes: number): string {
  const units = ['bytes', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return unit === 0 ? `${bytes} bytes` : `${value.toFixed(value < 10 ? 2 : 1)} ${units[unit]}`;
}

/** `3d 4h`, `2h 05m`, `45s`: a projected duration, to the precision a plan has. */
function durationWords(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

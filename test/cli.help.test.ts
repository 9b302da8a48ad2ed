import { describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import { COMMANDS } from '../src/cli/commands.js';
import { BACKFILL_SPEC, EXPORT_SPEC } from '../src/cli/export-table.js';
import { VERIFY_SPEC } from '../src/cli/verify-command.js';
import { EMULATOR_SPEC } from '../src/cli/emulator-command.js';
import { commandHelp, type CommandSpec } from '../src/cli/flag-table.js';
import { captureIO } from './support/lake.js';
import { runCli } from './support/cli-process.js';

/**
 * The help of ctlake: generated from the registry (main help) and from each
 * command's flag table (command help), on stdout with exit 0 when asked for,
 * on stderr with exit 2 when the command line is incomplete.
 */
async function run(args: string[]) {
  const { io, stdout, stderr } = captureIO({});
  const code = await main(args, io);
  return { code, stdout: stdout(), stderr: stderr() };
}

const TABLES: Array<[string, CommandSpec]> = [
  ['export', EXPORT_SPEC],
  ['backfill', BACKFILL_SPEC],
  ['verify', VERIFY_SPEC],
  ['emulator', EMULATOR_SPEC],
];

describe('ctlake help', () => {
  it('lists every command of the registry, in one help for --help, -h and help', async () => {
    const help = await run(['--help']);
    expect(help).toMatchObject({ code: 0, stderr: '' });
    for (const c of COMMANDS) expect(help.stdout).toMatch(new RegExp(`^  ${c.name} +\\S`, 'm'));
    expect(help.stdout).toMatch(/^Exit codes: 0 success, 1 failure, 2 usage error, 3 the query ended FAILED,$/m);
    expect(help.stdout).toMatch(/ctlake help <command>/);
    expect(await run(['-h'])).toEqual(help);
    expect(await run(['help'])).toEqual(help);
    for (const line of help.stdout.split('\n')) expect(line.length).toBeLessThanOrEqual(80);
  });

  it('prints the usage on stderr with exit 2 for a bare ctlake', async () => {
    const bare = await run([]);
    expect(bare.code).toBe(2);
    expect(bare.stdout).toBe('');
    expect(bare.stderr).toBe((await run(['--help'])).stdout);
  });

  it.each(COMMANDS.map((c) => [c.name]))('shows the help of %s for ctlake help %s, as its --help does', async (name) => {
    const viaHelp = await run(['help', name]);
    expect(viaHelp).toMatchObject({ code: 0, stderr: '' });
    expect(viaHelp.stdout).toMatch(new RegExp(`^Usage: ctlake ${name}\\b`));
    expect(await run([name, '--help'])).toEqual(viaHelp);
  });

  it('refuses help of an unknown command, or of two, with exit 2 and one line', async () => {
    expect(await run(['help', 'nosuch'])).toEqual({ code: 2, stdout: '', stderr: "ctlake: error: unknown command 'nosuch'; run ctlake --help for the commands\n" });
    expect(await run(['help', 'constructor'])).toMatchObject({ code: 2, stdout: '' });
    expect(await run(['help', 'export', 'list'])).toEqual({
      code: 2,
      stdout: '',
      stderr: "ctlake: error: ctlake help takes one command, not also 'list'; run ctlake --help for the commands\n",
    });
  });

  it('does the same from the real process: help export on stdout, a bare ctlake on stderr', async () => {
    const help = await runCli(['help', 'export'], {});
    expect(help).toMatchObject({ status: 0, stderr: '' });
    expect(help.stdout).toBe(commandHelp(EXPORT_SPEC));
    const bare = await runCli([], {});
    expect(bare).toMatchObject({ status: 2, stdout: '' });
    expect(bare.stderr).toMatch(/^Usage: ctlake <command> \[options\]\n/);
    expect(await runCli(['help', 'nosuch'], { CTLAKE_LOG_FORMAT: 'text' })).toEqual({
      status: 2,
      stdout: '',
      stderr: "ctlake: error: unknown command 'nosuch'; run ctlake --help for the commands\n",
    });
  });

  it.each(TABLES)('%s --help shows every flag of its table that is not hidden, within 80 columns', async (name, spec) => {
    const { stdout } = await run([name, '--help']);
    for (const [flag, f] of Object.entries(spec.flags)) {
      const shown = new RegExp(`^  ${f.short ? `-${f.short}, ` : ''}--${flag}${f.type === 'string' ? ` ${f.value!.replace(/[|.*+?()[\]{}$^\\]/g, '\\$&')}` : ''}( |$)`, 'm');
      if (f.hidden) expect(stdout).not.toMatch(shown);
      else expect(stdout, `--${flag}`).toMatch(shown);
    }
    for (const line of stdout.split('\n')) expect(line.length, line).toBeLessThanOrEqual(80);
    expect(stdout).toMatch(/^Exit codes: 0 /m);
  });

  it('keeps the content of the help it replaced: every section and exit code', async () => {
    const exportHelp = (await run(['export', '--help'])).stdout;
    expect(exportHelp).toMatch(/\nScheduled runs \(with --sql or --sql-file holding \{\{start\}\} and \{\{end\}\}, and a\ndataset --out\):\n {2}--window D/);
    expect(exportHelp).toMatch(/With --window: 0 windows exported .*\n6 nothing to do, 7 some exported then one failed .*\n8 another run holds the lock/);
    expect(exportHelp).toMatch(/--request-deadline D +Longest one CloudTrail request may take, answer\n +included; past it the request is retried as a timeout\n +\(default 120s\)/);
    const backfillHelp = (await run(['backfill', '--help'])).stdout;
    expect(backfillHelp).toMatch(/--from T +Start of the range, included/);
    expect(backfillHelp).not.toMatch(/^ +--partition-by/m); // export's, pointed at
    expect(backfillHelp).toMatch(/see ctlake export --help/);
    expect((await run(['emulator', '--help'])).stdout).toMatch(/--log-format text\|json/);
  });
});

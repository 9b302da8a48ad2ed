import { parseArgs } from 'node:util';
import { CtlakeError, quoted } from '../errors.js';

/**
 * One table per command (STYLE habit 13): a command's flags, their types,
 * checks and help text are declared once, and both parsing and `--help`
 * are generated from that declaration, so the two can never disagree.
 * A command's code is loaded only when it runs (`load`), so that
 * `ctlake --help` and `ctlake --version` load no SDK, no Parquet writer and
 * no emulator. Model: unjs/citty's `defineCommand({ meta, args, run })`.
 */

/** One flag: how it parses, how it is checked, and how `--help` shows it. */
export interface FlagSpec {
  type: 'string' | 'boolean';
  /** A one-letter alias (`-o`). */
  short?: string | undefined;
  /** Repeatable: the values come as a list, in order. */
  multiple?: boolean | undefined;
  /** The value's placeholder in `--help` (`ID`, `FILE|-`); strings only. @default 'VALUE' */
  value?: string | undefined;
  /** What the flag does, for `--help`: sentences, wrapped by the generator. */
  help: string;
  /** The heading this flag is listed under in `--help`; flags without one come first. */
  group?: string | undefined;
  /**
   * The flag's check: turns the text typed into its value (a number of
   * milliseconds, one of a few words), or throws a usage error that names
   * `flag` and quotes the text (the readers of args.ts). Each value of a
   * repeatable flag is read alone. Without it, the value is the text.
   * Checks that involve several flags (`--compression` for the `--format`)
   * stay with the command.
   */
  read?: ((text: string, flag: string) => unknown) | undefined;
  /** Not listed in `--help` (kept for compatibility, or for tests). */
  hidden?: boolean | undefined;
  /**
   * The library option this flag sets (`queryTimeoutMs` for
   * `--query-timeout`), or the options, when one flag feeds several (`--sql`
   * is `sql` to an export and `sqlTemplate` to a job): an option error from
   * the library is shown under the flag's name, by this mapping and no
   * rewriting of messages.
   */
  option?: string | readonly string[] | undefined;
}

export type FlagTable = Readonly<Record<string, FlagSpec>>;

/** What a flag's `read` makes of its text; the text itself without one. */
type ReadValue<F> = F extends { read: (text: string, flag: string) => infer R } ? R : string;

/** The values parsed from a table: booleans, what `read` makes of the text (else strings), lists for `multiple`. */
export type FlagValues<T extends FlagTable> = {
  [K in keyof T]?: T[K]['type'] extends 'boolean' ? boolean : T[K]['multiple'] extends true ? Array<ReadValue<T[K]>> : ReadValue<T[K]>;
};

export interface CommandSpec<T extends FlagTable = FlagTable> {
  name: string;
  /** One line for the main `--help`; the registry (commands.ts) holds it, so that listing a command does not load it. */
  summary?: string | undefined;
  /** The usage line after `Usage: ctlake `. */
  usage: string;
  /** Paragraphs shown between the usage line and the options. */
  description: string;
  flags: T;
  /** Text after the options (environment, exit codes). */
  footer?: string | undefined;
  /** Whether the command takes positional arguments. @default false */
  positionals?: boolean | undefined;
}

/**
 * Parses `args` by the table. An unknown flag, a missing value or a value
 * for a boolean is a usage error (exit 2) that names the flag and the
 * command's `--help`; then each value is read by its flag's `read`, which
 * names the flag in its error. With `--help`, values are not read (and none
 * but `help` is returned): help is shown whatever else the line holds.
 */
export function parseFlags<T extends FlagTable>(spec: CommandSpec<T>, args: string[]): { values: FlagValues<T>; positionals: string[] } {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = Object.create(null);
  for (const [name, flag] of Object.entries(spec.flags)) {
    options[name] = { type: flag.type, ...(flag.short ? { short: flag.short } : {}), ...(flag.multiple ? { multiple: true } : {}) };
  }
  let parsed: { values: Record<string, string | boolean | Array<string | boolean> | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({ args, options, allowPositionals: spec.positionals ?? false, strict: true });
  } catch (error) {
    const first = ((error as Error).message.split('\n')[0] ?? '').replace(/\. To specify a positional argument.*$/, '');
    throw new CtlakeError('INVALID_OPTION', `${first}; run ctlake ${spec.name} --help for the options`);
  }
  // parseArgs returns a plain object keyed by flag names, all from the table.
  const values: Record<string, unknown> = Object.create(null);
  const raw = parsed.values;
  if (Object.hasOwn(spec.flags, 'help') && raw.help === true) return { values: { help: true } as unknown as FlagValues<T>, positionals: parsed.positionals };
  for (const [name, value] of Object.entries(raw)) {
    const read = spec.flags[name]?.read;
    if (read === undefined || typeof value === 'boolean' || value === undefined) values[name] = value;
    else values[name] = Array.isArray(value) ? value.map((v) => read(String(v), `--${name}`)) : read(value, `--${name}`);
  }
  return { values: values as FlagValues<T>, positionals: parsed.positionals };
}

/**
 * The flag that sets a library option, for showing an option error under the
 * name the user typed. An option of a map (`columns.eventName`) is the flag
 * of the map (`--column`). The first flag in the table wins (`--sql` before
 * `--sql-file`).
 */
export function flagForOption(spec: CommandSpec, option: string): string | undefined {
  const sets = (flag: FlagSpec, name: string) => flag.option !== undefined && (typeof flag.option === 'string' ? flag.option === name : flag.option.includes(name));
  for (const name of [option, option.split('.')[0]!]) {
    // Every flag that sets the option, as the user may have typed any of them: `--sql or --sql-file`.
    const setting = Object.entries(spec.flags).filter(([, flag]) => sets(flag, name));
    // The flags --help shows; a flag that only a hidden one sets (backfill takes export's flags unlisted) is named all the same.
    const shown = setting.filter(([, flag]) => !flag.hidden);
    const flags = (shown.length ? shown : setting).map(([flagName]) => `--${flagName}`);
    if (flags.length) return flags.join(' or ');
  }
  return undefined;
}

/** `queryTimeoutMs` → `--query-timeout-ms`: the name of an option that no flag of the table sets. */
export function kebabFlag(option: string): string {
  return `--${option.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`).replace(/\./g, '-')}`;
}

/**
 * How the CLI names a library option in a message: the flag of the running
 * command's table that sets it, else `--` and the option in kebab-case
 * (also when no table is known, as for an error outside any command).
 */
export function optionNamer(spec: CommandSpec | undefined): (option: string) => string {
  return (option) => (spec && flagForOption(spec, option)) ?? kebabFlag(option);
}

const WIDTH = 80;
const COLUMN = 27;

/** The `--help` text of a command, generated from its table. */
export function commandHelp(spec: CommandSpec): string {
  // A long usage line continues under the command's first argument.
  const [command = '', ...rest] = spec.usage.split(' ');
  const lead = `Usage: ctlake ${command} `;
  const usage = wrap(rest.join(' '), WIDTH - lead.length, true).map((line, i) => (i === 0 ? lead : ' '.repeat(lead.length)) + line);
  const out = [...usage, '', spec.description.trimEnd(), ''];
  const groups = new Map<string, string[]>();
  for (const [name, flag] of Object.entries(spec.flags)) {
    if (flag.hidden) continue;
    const group = flag.group ?? 'Options';
    if (!groups.has(group)) groups.set(group, []);
    groups.get(group)!.push(...flagLines(name, flag));
  }
  for (const [group, lines] of groups) out.push(...wrap(`${group}:`, WIDTH), ...lines, '');
  if (spec.footer) out.push(spec.footer.trimEnd(), '');
  return out.join('\n');
}

function flagLines(name: string, flag: FlagSpec): string[] {
  const head = `  ${flag.short ? `-${flag.short}, ` : ''}--${name}${flag.type === 'string' ? ` ${flag.value ?? 'VALUE'}` : ''}`;
  const words = flag.help.split(/\s+/).filter(Boolean);
  const lines: string[] = [];
  let line = head.length + 2 > COLUMN ? (lines.push(head), ' '.repeat(COLUMN - 1)) : head.padEnd(COLUMN - 1);
  let empty = true;
  for (const word of words) {
    if (!empty && line.length + 1 + word.length > WIDTH) {
      lines.push(line);
      line = ' '.repeat(COLUMN - 1);
      empty = true;
    }
    line += ` ${word}`;
    empty = false;
  }
  lines.push(line);
  return lines;
}

/** Words of `text` in lines of at most `width` characters. */
/** Words to wrap, a bracketed group (`[--until T]`, `(--sql SQL | --sql-file FILE)`) counted as one word, so a usage line never breaks inside one. */
function words(text: string): string[] {
  return text.match(/\[[^\]]*\]|\([^)]*\)|\S+/g) ?? [];
}

function wrap(text: string, width: number, grouped = false): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of grouped ? words(text) : text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

/** The main `--help`: the commands with their one-line summaries (from the registry, so that no command is loaded for it). */
export function mainHelp(commands: ReadonlyArray<{ name: string; summary: string }>, footer: string): string {
  const width = Math.max(...commands.map((c) => c.name.length)) + 4;
  const lines = ['Usage: ctlake <command> [options]', '', 'Export AWS CloudTrail Lake query results.', '', 'Commands:'];
  for (const c of commands) {
    const words = c.summary.split(/\s+/);
    let line = `  ${c.name.padEnd(width)}`;
    let empty = true;
    for (const word of words) {
      if (!empty && line.length + 1 + word.length > WIDTH) {
        lines.push(line);
        line = ' '.repeat(width + 2);
        empty = true;
      }
      line += `${empty ? '' : ' '}${word}`;
      empty = false;
    }
    lines.push(line);
  }
  lines.push('', 'Options:', '  -h, --help     Show this help', '  -V, --version  Show the version', '', footer.trimEnd(), '');
  return lines.join('\n');
}

/** A usage error for a flag's value: names the flag and quotes the value (cut if long). */
export function badValue(flag: string, value: string, expected: string): CtlakeError {
  return new CtlakeError('INVALID_OPTION', `${flag} must be ${expected}, not ${quoted(value)}`);
}

import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CtlakeError } from '../errors.js';
import type { CliIO } from './cli-io.js';

/** Parses one command's flags; an unknown or malformed flag is a usage error naming the command's --help. */
type Parsed<T extends NonNullable<ParseArgsConfig['options']>> = ReturnType<typeof parseArgs<{ args: string[]; options: T; allowPositionals: true; strict: true }>>;

export function parse<T extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: T, command: string, positionals = false): Parsed<T> {
  try {
    return parseArgs({ args, options, allowPositionals: positionals as true, strict: true });
  } catch (error) {
    const message = (error as Error).message.split('\n')[0] ?? '';
    throw usage(`${message.replace(/\. To specify a positional argument.*$/, '')}; run ctlake ${command} --help for the options`);
  }
}

export function usage(message: string): CtlakeError {
  return new CtlakeError('INVALID_OPTION', message);
}

export function required<T>(value: T | undefined, flag: string, what: string): T {
  if (value === undefined || value === '') throw usage(`${flag} is required: ${what}`);
  return value;
}

export function integer(text: string, flag: string, min: number, max: number): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < min || value > max) throw usage(`${flag} must be a whole number from ${min} to ${max}, not '${text}'`);
  return value;
}

export function fraction(text: string, flag: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value < 0 || value > 1) throw usage(`${flag} must be a number from 0 to 1, not '${text}'`);
  return value;
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `1500ms`, `90s`, `15m`, `24h`, `7d` (and plain milliseconds) to milliseconds. */
export function duration(text: string, flag: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text.trim());
  if (!match) throw usage(`${flag} must be a duration such as 90s, 15m, 24h or 7d, not '${text}'`);
  return Math.round(Number(match[1]) * (UNIT_MS[match[2] ?? 'ms'] ?? 1));
}

const UNIT_BYTES: Record<string, number> = { '': 1, b: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3 };

/** `128MB`, `1GiB`, `512KiB`, `5000000` (bytes) to bytes: decimal KB/MB/GB, binary KiB/MiB/GiB. */
export function size(text: string, flag: string, min = 1): number {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  const factor = match ? UNIT_BYTES[match[2]!.toLowerCase()] : undefined;
  const value = match && factor ? Math.round(Number(match[1]) * factor) : NaN;
  if (!Number.isSafeInteger(value) || value < min) throw usage(`${flag} must be a size such as 128MB, 1GiB or 64MiB${min > 1 ? ` (at least ${min} bytes)` : ''}, not '${text}'`);
  return value;
}

export function oneOf<T extends string>(value: string | undefined, flag: string, allowed: readonly T[], context = ''): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) throw usage(`${flag} must be ${allowed.join(', ')}${context}, not '${value}'`);
  return value as T;
}

/**
 * `--log-format`, else CTLAKE_LOG_FORMAT, else text on a terminal and JSON
 * lines elsewhere (cron, log shippers). A `--log-format` that is neither
 * counts as not given, so that the error saying so is written as the
 * environment asks.
 */
export function logFormat(argv: string[], io: CliIO): 'text' | 'json' {
  const at = argv.indexOf('--log-format');
  const flag = at >= 0 ? argv[at + 1] : argv.find((a) => a.startsWith('--log-format='))?.slice(13);
  for (const value of [flag, io.env.CTLAKE_LOG_FORMAT]) if (value === 'text' || value === 'json') return value;
  return io.stderrIsTTY ? 'text' : 'json';
}


/**
 * An endpoint from the environment, as the AWS SDKs read it: none when
 * AWS_IGNORE_CONFIGURED_ENDPOINT_URLS is true (a flag's endpoint is used
 * all the same, as the AWS CLI uses `--endpoint-url`). The profile's own
 * endpoints are the library's to read (src/source/aws-profile.ts).
 */
function envEndpoint(io: CliIO, ...names: string[]): string | undefined {
  if (io.env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS?.toLowerCase() === 'true') return undefined;
  for (const name of names) if (io.env[name]) return io.env[name];
  return undefined;
}

/** The S3 client's endpoint and addressing from the flags, then AWS_ENDPOINT_URL_S3 as the AWS SDKs read it. */
export function s3ClientOptions(values: { 's3-endpoint-url'?: string | undefined; 's3-force-path-style'?: boolean | undefined }, io: CliIO) {
  return {
    s3EndpointUrl: values['s3-endpoint-url'] ?? envEndpoint(io, 'AWS_ENDPOINT_URL_S3'),
    s3ForcePathStyle: values['s3-force-path-style'] ?? false,
  };
}

/** The client's region, profile and endpoint from the flags, then the environment as the AWS SDKs read it. */
export function clientOptions(values: { region?: string | undefined; profile?: string | undefined; 'endpoint-url'?: string | undefined }, io: CliIO) {
  return {
    region: values.region ?? io.env.AWS_REGION ?? io.env.AWS_DEFAULT_REGION,
    profile: values.profile,
    endpointUrl: values['endpoint-url'] ?? envEndpoint(io, 'AWS_ENDPOINT_URL_CLOUDTRAIL', 'AWS_ENDPOINT_URL'),
  };
}

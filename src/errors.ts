/**
 * The one error family of ctlake. Every failure that reaches a caller of the
 * library is a `CtlakeError` with a `code` from `CtlakeErrorCode`; the CLI maps
 * the code to an exit code (see `exitCodeFor` in src/cli). Misuse of the
 * library API (a bad option) is a `TypeError` instead, thrown before any I/O.
 */
export type CtlakeErrorCode =
  /** An option or argument is invalid; the message names it and the fix. */
  | 'INVALID_OPTION'
  /** The service refused the SQL (InvalidQueryStatementException). */
  | 'INVALID_QUERY'
  /** The query ended FAILED; `status` and the service's message are attached. */
  | 'QUERY_FAILED'
  /** The query ended CANCELLED. */
  | 'QUERY_CANCELLED'
  /** The query ended TIMED_OUT. */
  | 'QUERY_TIMED_OUT'
  /** QueryIdNotFoundException: unknown id, another region, or results older than 7 days. */
  | 'QUERY_NOT_FOUND'
  /** InvalidNextTokenException: a page token the service no longer accepts. */
  | 'INVALID_NEXT_TOKEN'
  /** Credentials missing, expired or without permission. */
  | 'ACCESS_DENIED'
  /** Throttling outlasted every retry. */
  | 'THROTTLED'
  /** A service error that no retry can fix, or 5xx that outlasted every retry. */
  | 'SERVICE_ERROR'
  /** Network faults (reset, timeout, refused) that outlasted every retry. */
  | 'NETWORK_ERROR'
  /** The service answered with something that is not a CloudTrail response. */
  | 'UNEXPECTED_RESPONSE'
  /** The rows written differ from the TotalResultsCount the service reported. */
  | 'COUNT_MISMATCH'
  /** A cell does not parse as its column's type; `column` names it, the message the row, value and fix. */
  | 'VALUE_INVALID'
  /** A column appeared after a file's schema was fixed; the message says how to declare it. */
  | 'SCHEMA_CHANGED'
  /** Writing to the destination failed (ENOSPC, EACCES, ...). */
  | 'DESTINATION_FAILED'
  /** The reader of stdout went away (EPIPE): not a failure for a pipe such as `| head`. */
  | 'DESTINATION_CLOSED'
  /** The export was stopped by an AbortSignal (SIGINT, SIGTERM). */
  | 'INTERRUPTED'
  /** `ctlake verify` found a dataset that differs from its manifest. */
  | 'VERIFY_FAILED'
  /** Another run of the same job holds its lock. */
  | 'LOCK_HELD'
  /** A job's state file belongs to another job, or cannot be read. */
  | 'STATE_INVALID'
  /** An export's checkpoint cannot be built on (its files changed, its columns differ); the export starts over. */
  | 'RESUME_REFUSED'
  /** `ctlake migrate`: the rows exported differ from the events Lake counts; the message names the days and slices. */
  | 'RECONCILE_MISMATCH'
  /** Lake's own delivery to S3 (DeliveryS3Uri) ended without SUCCESS, or the query has no DeliveryS3Uri; `status` is the DeliveryStatus, the message the fix. */
  | 'DELIVERY_FAILED';

export interface CtlakeErrorContext {
  queryId?: string | undefined;
  /** Zero-based index of the GetQueryResults page the error belongs to. */
  page?: number | undefined;
  column?: string | undefined;
  /** The final QueryStatus, for QUERY_* codes. */
  status?: string | undefined;
  /** The AWS error name (`ThrottlingException`, ...), when the service sent one. */
  awsErrorName?: string | undefined;
  /**
   * The library option the error is about (`endpointUrl`, `queryId`): the
   * message names the thing in words, and a caller with options of its own
   * (the CLI and its flags) says which of its own names set it.
   */
  option?: string | undefined;
  cause?: unknown;
}

/**
 * How a message names an option: the library names its own options
 * (`endpointUrl`), a caller with names of its own (the CLI: `--endpoint-url`)
 * passes its mapping to `CtlakeError.describe`.
 */
export type OptionNamer = (option: string) => string;

/** A message, or a message that names options through an OptionNamer. */
export type ErrorMessage = string | ((name: OptionNamer) => string);

const LIBRARY_NAMES: OptionNamer = (option) => option;

export class CtlakeError extends Error {
  override readonly name = 'CtlakeError';
  readonly code: CtlakeErrorCode;
  readonly queryId: string | undefined;
  readonly page: number | undefined;
  readonly column: string | undefined;
  readonly status: string | undefined;
  readonly awsErrorName: string | undefined;
  readonly option: string | undefined;
  readonly #template: ErrorMessage;
  readonly #rendered: string;

  /**
   * `message` may name options through a function (``(name) => `${name('out')} is a directory` ``):
   * the error's `message` then names the library's options, and
   * `describe(namer)` the same message with the caller's names for them.
   */
  constructor(code: CtlakeErrorCode, message: ErrorMessage, context: CtlakeErrorContext = {}) {
    super(typeof message === 'string' ? message : message(LIBRARY_NAMES), context.cause === undefined ? undefined : { cause: context.cause });
    this.#template = message;
    this.#rendered = this.message;
    this.code = code;
    this.queryId = context.queryId;
    this.page = context.page;
    this.column = context.column;
    this.status = context.status;
    this.awsErrorName = context.awsErrorName;
    this.option = context.option;
  }

  /** The message with options named by `name` (the CLI's flags); the plain message when it names none. */
  describe(name: OptionNamer): string {
    if (typeof this.#template === 'string') return this.message;
    // What was added to the message after construction (`message += '; ...'`) is kept.
    const added = this.message.startsWith(this.#rendered) ? this.message.slice(this.#rendered.length) : '';
    return this.#template(name) + added;
  }
}

export function isCtlakeError(error: unknown, code?: CtlakeErrorCode): error is CtlakeError {
  return error instanceof CtlakeError && (code === undefined || error.code === code);
}

/**
 * Library misuse: a `TypeError` that names the option and quotes the bad
 * value, thrown before any I/O. It keeps its parts, so that the CLI can say
 * the same under the flag that set the option, with no rewriting of the
 * message.
 */
export class OptionError extends TypeError {
  override readonly name = 'OptionError';
  constructor(
    readonly option: string,
    readonly value: unknown,
    readonly expected: string,
  ) {
    super(`Invalid option ${option}: ${quoted(value)}; expected ${expected}`);
  }
}

/** An OptionError: the option, the bad value, what was expected. */
export function optionError(option: string, value: unknown, expected: string): OptionError {
  return new OptionError(option, value, expected);
}

/** How many characters of a value a message quotes before cutting it. */
export const QUOTE_LIMIT = 80;

/** A name from the data (a listed file) as it is when it is plain printable ASCII, else quoted: a name with a newline must not make two lines. */
export function shownName(name: string): string {
  return /^[\x20-\x7e]*$/.test(name) ? name : quoted(name);
}

/**
 * A value from outside (data, a flag, a file) quoted for a message: JSON
 * quoted, so that control characters and quotes are escaped, with its
 * credentials masked (maskSecrets), and cut to `limit` characters with its
 * full length said, so that a 10 MiB value never makes a 10 MiB message.
 * Every message that quotes such a value goes through here. Reads no more
 * of the value than a password that reaches the cut could span.
 */
export function quoted(value: unknown, limit = QUOTE_LIMIT): string {
  const raw = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  const head = raw.length > limit + 2 * PASSWORD_LIMIT ? raw.slice(0, limit + 2 * PASSWORD_LIMIT) : raw;
  const text = maskSecrets(head);
  const length = text.length + (raw.length - head.length);
  if (typeof value !== 'string') return length > limit ? `${text.slice(0, limit)}... (${length} characters)` : text;
  if (length <= limit) return JSON.stringify(text);
  // Cut on a code point, not inside a surrogate pair.
  let cut = limit;
  const code = text.charCodeAt(cut - 1);
  if (code >= 0xd800 && code <= 0xdbff) cut--;
  return `${JSON.stringify(text.slice(0, cut))}... (${length} characters)`;
}

/**
 * The credentials a message may carry: the password of a URL's userinfo
 * (`scheme://user:password@host`: up to the last `@` before the URL's path,
 * as URL parsers read it, so that a password with `@` or quotes in it is
 * hidden whole; failing that, up to the next `@`, so that one with an
 * unencoded `/`, which makes the URL invalid and so quoted in an error, is
 * hidden too; the user name stays, to tell URLs apart), the
 * `X-Amz-Security-Token` and `X-Amz-Signature` of a presigned URL, and
 * `aws_secret_access_key`, `aws_session_token`, `secretAccessKey` or
 * `sessionToken` settings as a credentials file, an environment or a
 * JSON object writes them. Each is written `***`.
 * Linear in the text, whatever it holds: a password is looked for up to
 * PASSWORD_LIMIT characters and not past another `://`, so one longer, or
 * one with whitespace in it (which a URL percent-encodes), is not found.
 */
const URL_PASSWORD = /(?<![A-Za-z0-9+.-])([A-Za-z][A-Za-z0-9+.-]{0,31}:\/\/[^\s/?#:"'<>]{0,256}):(?:[^\s/?#]{0,1024}@|(?:(?!:\/\/)\S){0,1024}?@)/g;
const PRESIGNED = /([?&](?:X-Amz-Security-Token|X-Amz-Signature)=)[^&\s"'#]+/gi;
const SETTING = /\b((?:aws_)?(?:secret_access_key|session_token|security_token)|secretAccessKey|sessionToken)(["']?\s*[:=]\s*["']?)[^\s"',;&]+/gi;

/** How far a URL password may run for maskSecrets() to find it. */
export const PASSWORD_LIMIT = 1024;

/**
 * Text with every credential in it (see above) replaced by `***`, so that
 * no message, warning or log line echoes one. Apply it to the whole
 * message before cutting it (a cut URL may lose the `@` that marks its
 * password), and to a JSON value before serializing it.
 */
export function maskSecrets(text: string): string {
  return text.replace(URL_PASSWORD, '$1:***@').replace(PRESIGNED, '$1***').replace(SETTING, '$1$2***');
}

import pRetry, { AbortError } from 'p-retry';
import { isThrottlingError, isTransientError } from '@smithy/core/retry';
import { CtlakeError, optionError, quoted, type CtlakeErrorCode, type ErrorMessage } from '../errors.js';
import { AwsProfileError, profileFiles } from './aws-profile.js';

/**
 * Backoff for every CloudTrail call ctlake makes.
 *
 * Why p-retry and not the SDK's own retry: the SDK's standard strategy spends
 * tokens from a shared retry quota, so a long throttling storm (the normal case
 * when an account runs many Lake queries) exhausts it and fails the export
 * after a few pages; its delays cannot be aborted by our AbortSignal; and it
 * cannot tell us when it retries. So the client ctlake builds has
 * `maxAttempts: 1`, and this module is the single retry layer: exponential
 * backoff with jitter (each delay is multiplied by a random factor from 1 to 2),
 * capped, cancellable, and reported through `onRetry`. A client passed in by a
 * library user keeps its own retry settings, and the two layers then stack.
 *
 * Which errors are retried comes from the SDK's own classification
 * (@smithy/core/retry): throttling, 5xx, timeouts and Node network faults.
 */
export interface RetryOptions {
  /** Retries after the first attempt. @default 8 */
  retries: number;
  /** Delay before the first retry, in ms, before jitter. @default 250 */
  minDelayMs: number;
  /** Cap on any one delay, in ms, before jitter. @default 20000 */
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryOptions = { retries: 8, minDelayMs: 250, maxDelayMs: 20_000 };

/**
 * A library user's `retry` over DEFAULT_RETRY, checked: retries 0 to 100,
 * delays 0 to an hour, maxDelayMs at least minDelayMs. Throws an OptionError
 * (a TypeError) naming `retry.retries`, `retry.minDelayMs` or `retry.maxDelayMs`.
 */
export function resolveRetry(input: Partial<RetryOptions> | undefined): RetryOptions {
  if (input !== undefined && (typeof input !== 'object' || input === null)) throw optionError('retry', input, 'an object such as { retries: 8 }');
  const retry = { ...DEFAULT_RETRY, ...input };
  const check = (name: keyof RetryOptions, min: number, max: number) => {
    const value: unknown = retry[name];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) throw optionError(`retry.${name}`, value, `a whole number from ${min} to ${max}`);
  };
  check('retries', 0, 100);
  check('minDelayMs', 0, 3_600_000);
  check('maxDelayMs', retry.minDelayMs, 3_600_000);
  return retry;
}

export interface RetryEvent {
  /** The CloudTrail operation, e.g. `GetQueryResults`. */
  operation: string;
  /** 1 for the first retry. */
  attempt: number;
  retriesLeft: number;
  error: Error;
}

export interface CallContext {
  operation: string;
  queryId?: string | undefined;
  page?: number | undefined;
  signal?: AbortSignal | undefined;
  retry: RetryOptions;
  onRetry?: ((event: RetryEvent) => void) | undefined;
  /** Retries also what this accepts (e.g. MaxConcurrentQueriesException when starting a query). */
  retryIf?: ((error: unknown) => boolean) | undefined;
}

/** Node's codes for a host that is not there: a wrong endpoint, not a passing fault. */
const UNREACHABLE_CODES = new Set(['ENOTFOUND', 'ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH']);

/**
 * Whether one more attempt may succeed. A CtlakeError is final: it comes from
 * an inner withRetry that already spent its retries (StartQuery's wait for a
 * slot wraps one), and retrying it would multiply the attempts.
 */
export function isRetryable(error: unknown): boolean {
  if (!(error instanceof Error) || error instanceof CtlakeError || error instanceof AwsProfileError) return false;
  if (UNREACHABLE_CODES.has((error as NodeJS.ErrnoException).code ?? '')) return false;
  if (isThrottlingError(error as never) || isTransientError(error as never)) return true;
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return status !== undefined && status >= 500;
}

/**
 * Runs `call` with backoff. Resolves with its result, or rejects with a
 * `CtlakeError` whose code says what went wrong and whose message says what to
 * do. An abort of `signal` rejects at once with code INTERRUPTED.
 */
export async function withRetry<T>(call: () => Promise<T>, context: CallContext): Promise<T> {
  const { signal } = context;
  try {
    return await pRetry(
      async () => {
        try {
          return await call();
        } catch (error) {
          if (signal?.aborted || !(isRetryable(error) || context.retryIf?.(error))) throw new AbortError(error as Error);
          throw error;
        }
      },
      {
        retries: context.retry.retries,
        minTimeout: context.retry.minDelayMs,
        maxTimeout: context.retry.maxDelayMs,
        factor: 2,
        randomize: true,
        signal,
        onFailedAttempt: ({ error, attemptNumber, retriesLeft }) => {
          // p-retry also lands here when a call succeeded as the signal was aborted (its throwIfAborted after the call): no retry follows, so none is told.
          if (signal?.aborted) return;
          if (retriesLeft > 0) context.onRetry?.({ operation: context.operation, attempt: attemptNumber, retriesLeft, error });
        },
      },
    );
  } catch (error) {
    throw toCtlakeError(error, context);
  }
}

/**
 * Turns whatever a CloudTrail call threw into a CtlakeError with an
 * actionable message: the one translation of SDK errors in ctlake (every call
 * of src/source goes through withRetry, which ends here). Messages name the
 * library's options (`endpointUrl`, `region`), through a template, and set
 * the error's `option`; the CLI shows the same message with its flags
 * (`error.describe(namer)`).
 */
export function toCtlakeError(error: unknown, context: Pick<CallContext, 'operation' | 'queryId' | 'page' | 'signal'>): CtlakeError {
  if (error instanceof CtlakeError) return error;
  const ctx = { queryId: context.queryId, page: context.page, cause: error };
  if (context.signal?.aborted) return new CtlakeError('INTERRUPTED', 'Export interrupted', ctx);
  const err = error instanceof Error ? error : new Error(String(error));
  const name = err.name;
  const code = (err as NodeJS.ErrnoException).code ?? '';
  const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  // The service's messages end in a period; ours go on after a semicolon.
  const detail = (err.message.split('\n')[0] ?? '').trim().replace(/\.$/, '');
  const fail = (c: CtlakeErrorCode, message: ErrorMessage, option?: string) =>
    new CtlakeError(c, message, { ...ctx, awsErrorName: status === undefined ? undefined : name, option });
  const op = context.operation;

  if (err instanceof AwsProfileError) {
    // No profile named: the SDK's default chain failed, said as before.
    return err.profile === undefined ? toCtlakeError(err.cause, context) : profileFailure(err, fail);
  }
  if (/Region is missing/i.test(err.message)) {
    return fail('INVALID_OPTION', (n) => `no AWS region is set; use ${n('region')} or set AWS_REGION`, 'region');
  }
  if (/Region not accepted/i.test(err.message)) {
    return fail('INVALID_OPTION', (n) => `the AWS region is not valid (${detail}); use ${n('region')} or set AWS_REGION`, 'region');
  }
  switch (name) {
    case 'QueryIdNotFoundException':
      return fail('QUERY_NOT_FOUND', (n) => `${op}: query ${context.queryId ?? ''} not found; check the id and ${n('region')} (results are kept for 7 days)`, 'queryId');
    case 'InvalidNextTokenException':
      return fail('INVALID_NEXT_TOKEN', `${op}: the service refused the page token (${detail}); rerun the export from the start`);
    case 'EventDataStoreNotFoundException':
    case 'EventDataStoreARNInvalidException':
      return fail('INVALID_OPTION', (n) => `${op}: ${name}: ${detail}; check ${n('eventDataStore')}`, 'eventDataStore');
    case 'InvalidQueryStatementException':
      return fail('INVALID_QUERY', (n) => `${op}: the service refused the SQL: ${detail}; correct the statement in ${n('sql')}`, 'sql');
    case 'MaxConcurrentQueriesException':
      return fail('SERVICE_ERROR', `${op}: the account already runs the most queries it may (MaxConcurrentQueriesException); wait for some to finish, or cancel them with ctlake cancel`);
    case 'InactiveQueryException':
      // An answer more than a failure: cancelQuery tells it apart by awsErrorName.
      return fail('SERVICE_ERROR', `${op}: query ${context.queryId ?? ''} already ended (${name}); nothing to cancel`, 'queryId');
    case 'InvalidMaxResultsException':
      return fail('INVALID_OPTION', (n) => `${op}: ${name}: ${detail}; use a ${n('pageSize')} from 1 to 1000`, 'pageSize');
    case 'CredentialsProviderError':
      return fail('ACCESS_DENIED', (n) => `no AWS credentials found (${detail}); set AWS_PROFILE or ${n('profile')}, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY`, 'profile');
    case 'UnknownOperationException':
      return fail('UNEXPECTED_RESPONSE', (n) => `${op}: the endpoint does not know CloudTrail's operations (${name}: ${detail}); check ${n('endpointUrl')}`, 'endpointUrl');
  }
  // Credentials the service does not accept: a key it does not know, a wrong
  // secret, an expired session. No retry changes them, and no permission helps.
  if (/UnrecognizedClient|InvalidClientTokenId|InvalidSignature|SignatureDoesNotMatch|IncompleteSignature|MissingAuthenticationToken|ExpiredToken/.test(name)) {
    return fail('ACCESS_DENIED', (n) => `${op}: the service refused the credentials (${name}: ${detail}); check ${n('profile')}, or AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN`, 'profile');
  }
  if (/AccessDenied|NotAuthorized|OperationNotPermitted/.test(name)) {
    return fail('ACCESS_DENIED', (n) => `${op}: access denied (${name}: ${detail}); the credentials (${n('profile')}) need the cloudtrail:${op} permission`, 'profile');
  }
  if (isThrottlingError(err as never)) {
    return fail('THROTTLED', `${op}: still throttled after every retry (${name}); try again later or lower the account's query load`);
  }
  if (UNREACHABLE_CODES.has(code)) {
    return fail('NETWORK_ERROR', (n) => `${op}: cannot reach the CloudTrail endpoint (${code}: ${detail}); check ${n('endpointUrl')} and ${n('region')}`, 'endpointUrl');
  }
  // The SDK parses every answer as JSON; a SyntaxError is a body that is not
  // JSON (an HTML page, a proxy's error), which no CloudTrail endpoint sends.
  const notJson = err instanceof SyntaxError ? `a body that is not JSON: ${detail}` : undefined;
  if (status !== undefined && status >= 500) {
    if (notJson) return fail('SERVICE_ERROR', (n) => `${op}: the endpoint kept failing (HTTP ${status} with ${notJson}); try again later, and check ${n('endpointUrl')}`, 'endpointUrl');
    return fail('SERVICE_ERROR', `${op}: the service kept failing (HTTP ${status} ${name}); try again later`);
  }
  if (isTransientError(err as never)) {
    return fail('NETWORK_ERROR', `${op}: network fault outlasted every retry (${code || name}: ${detail}); check the connection and try again`);
  }
  // 'Unknown' is the SDK's name for an error answer without CloudTrail's `__type`.
  if (notJson || name === 'Unknown' || status === undefined || !(err as { $fault?: string }).$fault) {
    const answer =
      status === undefined ? `${name}: ${detail}`
      : notJson ? `HTTP ${status}, ${notJson}`
      : name === 'Unknown' ? `HTTP ${status}: ${detail}`
      : `HTTP ${status}, ${name}: ${detail}`;
    return fail('UNEXPECTED_RESPONSE', (n) => `${op}: the endpoint did not answer as CloudTrail does (${answer}); check ${n('endpointUrl')}`, 'endpointUrl');
  }
  return fail('SERVICE_ERROR', `${op}: ${name}: ${detail}`);
}

/** How many characters of a credential step's own message a message keeps. */
const CAUSE_LIMIT = 300;

/**
 * A credential step's own error, as a message quotes it: its name when that
 * says more than `Error`, its message on one line (a credential_process's
 * stderr spans lines), masked and cut (quoted()).
 */
function causeText(cause: unknown): string {
  const error = cause instanceof Error ? cause : new Error(String(cause));
  const lines = error.message.split('\n').map((line) => line.trim()).filter((line) => line !== '').join(' ');
  const named = /^(Error|CredentialsProviderError|ProviderError|TokenProviderError)$/.test(error.name) ? lines : `${error.name}: ${lines}`;
  return quoted(named, CAUSE_LIMIT);
}

/**
 * The CtlakeError for a profile failure outside a CloudTrail call (an S3
 * client's: src/destinations/s3.ts), worded as toCtlakeError words it.
 * Without a named profile, undefined: the caller words the SDK's error.
 */
export function profileError(error: AwsProfileError): CtlakeError | undefined {
  if (error.profile === undefined) return undefined;
  return profileFailure(error, (c, message, option) => new CtlakeError(c, message, { cause: error, option }));
}

/**
 * A profile that is not there (INVALID_OPTION, exit 2 in the CLI), or one
 * of its credential steps that failed (ACCESS_DENIED), named as such and
 * not blamed on the CloudTrail endpoint. The message says the profile, the
 * files looked in, the step, and the step's own error.
 */
function profileFailure(error: AwsProfileError, fail: (c: CtlakeErrorCode, message: ErrorMessage, option?: string) => CtlakeError): CtlakeError {
  const name = error.profile === undefined ? '' : quoted(error.profile);
  const source = (n: (option: string) => string) => (error.fromOption ? n('profile') : 'AWS_PROFILE');
  const files = profileFiles().map((file) => (file.variable ? `${quoted(file.path)} (${file.variable})` : file.path));
  if (error.kind === 'missing') {
    return fail('INVALID_OPTION', (n) => `the AWS profile ${name} does not exist: it is in neither ${files.join(' nor ')}; check ${source(n)}`, 'profile');
  }
  const cause = causeText(error.cause);
  return fail('ACCESS_DENIED', (n) => `the AWS profile ${name} (${source(n)}) could not get credentials: its ${error.step} failed: ${cause}; check the profile in ${files.join(' and ')}`, 'profile');
}

import { Readable } from 'node:stream';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { CloudTrailClient } from '@aws-sdk/client-cloudtrail';

/**
 * A fast path for GetQueryResults answers, inside the SDK's own middleware
 * stack.
 *
 * Why: the SDK's schema deserializer (@smithy/core, attached per command by
 * getSchemaSerdePlugin as `deserializerMiddleware`) parses a page's JSON and
 * then copies every row, column map and value into new objects that follow
 * the schema, which flattening copies once more; on a 1,000-row SELECT *
 * page that is 15 to 19 ms, measured, and the next page's request waits for
 * it (its NextToken is in the answer). Here a 2xx GetQueryResults answer is
 * read and `JSON.parse`d once, its rows kept as parsed, and the SDK's
 * deserializer is handed an empty body, so that it only adds `$metadata`.
 *
 * What stays the SDK's: everything on the request side (serializing,
 * endpoint resolution, the credential chain, SigV4 signing, ctlake's rate
 * limit middleware, abort signals, the request deadline), every other
 * operation, and every answer of 300 or more, which still goes through the
 * SDK's error deserializer, so a ThrottlingException or an HTML 503 is
 * classified exactly as before. A 2xx body that is not a JSON object is
 * handed back to the SDK's deserializer as bytes, so that it fails exactly
 * as it did (a SyntaxError with `$response` and `$metadata`, which
 * toCtlakeError calls UNEXPECTED_RESPONSE); a body that fails while it is
 * read is replayed to the SDK as the same failure. The values are not
 * checked here: queryPages checks every page (checkedPage) whichever path
 * parsed it.
 *
 * NextToken before the parse: a caller may register a hook for one command
 * (watchNextToken). It is called with the page's NextToken as read from the
 * answer's bytes (guessNextToken) as soon as the whole body is in and
 * before it is parsed, so that the next page's request can leave while this
 * page is parsed; then one turn of the event loop lets that request reach
 * its socket before the parse blocks the thread. The hook's token is a
 * guess until the parse confirms it: the caller compares it with the parsed
 * NextToken and discards a request made with a wrong one.
 */

/** The names of the middleware pair: installing it again replaces it, never stacks a second one. */
export const FAST_PAGES_READ = 'ctlakeFastPagesRead';
export const FAST_PAGES_OUTPUT = 'ctlakeFastPagesOutput';

/** Called once per answer with the NextToken read from its bytes; undefined when none could be read safely. */
export type NextTokenHook = (token: string | undefined) => void;

/** The hooks, by the command object they were registered for (a command is sent once by queryPages). */
const hooks = new WeakMap<object, NextTokenHook>();

/** The parsed outputs, by the SDK's response object, from the inner to the outer middleware. */
const parsed = new WeakMap<object, Record<string, unknown>>();

/** Calls `hook` with the NextToken of `command`'s answer before the answer is parsed (only on a client with useFastPages). */
export function watchNextToken(command: object, hook: NextTokenHook): void {
  hooks.set(command, hook);
}

/** The members of GetQueryResultsResponse; the SDK's deserializer keeps these and drops any other key. */
const OUTPUT_MEMBERS = ['QueryStatus', 'QueryStatistics', 'QueryResultRows', 'NextToken', 'ErrorMessage'] as const;

interface FastContext {
  commandName?: string;
  __smithy_context?: { commandInstance?: object };
}

interface RawResponse {
  statusCode?: number;
  body?: unknown;
}

type Next = (args: unknown) => Promise<{ response: unknown; output?: unknown }>;

/**
 * Installs the fast path on `client` (both middleware, around the SDK's
 * deserializer in the deserialize step) and returns the client.
 */
export function useFastPages<C extends CloudTrailClient>(client: C): C {
  // Inner: between the SDK's deserializer and the HTTP handler, so it sees the raw answer first.
  const read = (next: Next, context: FastContext) => async (args: unknown) => {
    const result = await next(args);
    if (context.commandName !== 'GetQueryResultsCommand') return result;
    const response = result.response as RawResponse;
    if (response.statusCode === undefined || response.statusCode >= 300) return result;
    let bytes: Buffer;
    try {
      bytes = await readBody(response.body);
    } catch (error) {
      // The SDK's deserializer reads the same failure, and wraps it as it always did.
      response.body = failingBody(error);
      return result;
    }
    const hook = context.__smithy_context?.commandInstance && hooks.get(context.__smithy_context.commandInstance);
    if (hook) {
      hook(guessNextToken(bytes));
      await yieldToLoop();
    }
    const output = parseOutput(bytes);
    if (output === undefined) {
      response.body = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      return result;
    }
    parsed.set(response, output);
    response.body = new Uint8Array(0);
    return result;
  };
  // Outer: wraps the SDK's deserializer, and puts the parsed members into the output it made.
  const output = (next: Next) => async (args: unknown) => {
    const result = await next(args);
    const members = typeof result.response === 'object' && result.response !== null ? parsed.get(result.response) : undefined;
    if (members !== undefined && typeof result.output === 'object' && result.output !== null) Object.assign(result.output, members);
    return result;
  };
  client.middlewareStack.addRelativeTo(read as never, { relation: 'after', toMiddleware: 'deserializerMiddleware', name: FAST_PAGES_READ, override: true });
  client.middlewareStack.addRelativeTo(output as never, { relation: 'before', toMiddleware: 'deserializerMiddleware', name: FAST_PAGES_OUTPUT, override: true });
  return client;
}

/** The whole body, as one Buffer; a Uint8Array body (never sent by the Node handler, but allowed) as it is. */
async function readBody(body: unknown): Promise<Buffer> {
  if (body === undefined || body === null) return Buffer.alloc(0);
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const chunks: Buffer[] = [];
  for await (const chunk of body as AsyncIterable<Buffer | string>) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}

function failingBody(error: unknown): Readable {
  return new Readable({
    read() {
      this.destroy(error instanceof Error ? error : new Error(String(error)));
    },
  });
}

/**
 * The output members of a body that is one JSON object, in a null-prototype
 * object (keys from the wire are data); undefined for any other body, which
 * the SDK then parses and fails on as it always did.
 */
function parseOutput(bytes: Buffer): Record<string, unknown> | undefined {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const members = Object.create(null) as Record<string, unknown>;
  for (const name of OUTPUT_MEMBERS) {
    // The SDK's deserializer leaves out a member that is null or absent.
    const member = (value as Record<string, unknown>)[name];
    if (Object.hasOwn(value, name) && member !== null && member !== undefined) members[name] = member;
  }
  return members;
}

const KEY = Buffer.from('"NextToken":"');

/**
 * The NextToken of a GetQueryResults body read from its bytes without
 * parsing it, or undefined when it cannot be read safely. Only two places
 * are trusted, because only there can `"NextToken":"` be the top-level key
 * of a body that is valid JSON: the very start of the body (the first key)
 * and a string that is followed only by the body's closing `}` (the last
 * key; the service sends it last). Anywhere else it may be a column named
 * NextToken inside QueryResultRows (a cell is `{"NextToken":"..."}`), which
 * is always followed by `}]`; inside a string value its quotes would be
 * escaped. The body is not checked to be JSON here: the parse that follows
 * confirms or refutes the guess.
 */
export function guessNextToken(bytes: Buffer): string | undefined {
  let start = trimStart(bytes, 0);
  if (bytes[start] !== 0x7b /* { */) return undefined;
  start = trimStart(bytes, start + 1);
  if (bytes.subarray(start, start + KEY.length).equals(KEY)) {
    return stringAt(bytes, start + KEY.length - 1, (end) => bytes[trimStart(bytes, end)] === 0x2c /* , */ || bytes[trimStart(bytes, end)] === 0x7d /* } */);
  }
  const at = bytes.lastIndexOf(KEY);
  if (at < 0) return undefined;
  return stringAt(bytes, at + KEY.length - 1, (end) => {
    const close = trimStart(bytes, end);
    return bytes[close] === 0x7d && trimStart(bytes, close + 1) === bytes.length;
  });
}

/** The JSON string whose opening quote is at `quote`, when `followed(indexAfterIt)` accepts what comes after it. */
function stringAt(bytes: Buffer, quote: number, followed: (end: number) => boolean): string | undefined {
  let i = quote + 1;
  while (i < bytes.length && bytes[i] !== 0x22 /* " */) i += bytes[i] === 0x5c /* \ */ ? 2 : 1;
  if (i >= bytes.length || !followed(i + 1)) return undefined;
  try {
    const token: unknown = JSON.parse(bytes.toString('utf8', quote, i + 1));
    return typeof token === 'string' && token !== '' ? token : undefined;
  } catch {
    return undefined;
  }
}

/** The index of the first byte at or after `i` that is not JSON whitespace. */
function trimStart(bytes: Buffer, i: number): number {
  while (i < bytes.length && (bytes[i] === 0x20 || bytes[i] === 0x0a || bytes[i] === 0x0d || bytes[i] === 0x09)) i++;
  return i;
}

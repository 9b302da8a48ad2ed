import { maskSecrets } from '../errors.js';

/**
 * Text from the service or the data (SQL, service messages, column names,
 * values) made safe to print: every control character (C0, DEL, C1) and
 * every bidirectional override or isolate, and the Unicode line and
 * paragraph separators (U+2028, U+2029), is written as a visible escape
 * (`\n`, `\t`, `\x1b`, `\u202e`), so that such text can neither move the
 * cursor, recolour or clear a terminal, nor reorder what a person reads, nor
 * forge a second line. Printable text, tabs included as `\t`, is otherwise
 * kept as it is.
 */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;

const NAMED: Readonly<Record<string, string>> = Object.freeze(Object.assign(Object.create(null) as Record<string, string>, {
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
}));

export function escapeControl(text: string): string {
  return text.replace(UNSAFE, (c) => {
    const named = NAMED[c];
    if (named !== undefined) return named;
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** How many characters of a message an error, warning or log line prints; a longer one is cut and its length said. */
export const MESSAGE_LIMIT = 1000;

/** How many characters of any other string a JSON log line carries: more than any path or S3 URL (PATH_MAX 4096, S3 keys 1024 bytes). */
export const FIELD_LIMIT = 4096;

/**
 * How much of a message is read at all: masking and cutting look at no more
 * than this, so that a 10 MiB message costs no more than a short one. It is
 * far more than MESSAGE_LIMIT, so that every password a printed line could
 * reach still has its `@` in view (see maskSecrets).
 */
const READ_LIMIT = 128 * 1024;

const UNSAFE_ONE = new RegExp(`^${UNSAFE.source}$`);
const escapeOne = (c: string) => (UNSAFE_ONE.test(c) ? escapeControl(c) : c);
/** The characters JSON.stringify leaves raw that a terminal still acts on or reorders, or a JavaScript reader splits lines at. */
const JSON_UNSAFE = /[\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/g;

/** A message on one line: each line trimmed, blank ones dropped, the rest joined by a space. Linear, whatever the whitespace. */
function oneLine(text: string): string {
  return text.includes('\n') ? text.split('\n').map((line) => line.trim()).filter((line) => line !== '').join(' ') : text.trim();
}

/**
 * `text` with its credentials masked, on one line if asked, each code point
 * passed through `map` (an escape is never split), and cut to at most
 * `limit` characters, `... (N characters)` included, N being the length
 * of the whole (masked) text. Reads at most READ_LIMIT characters of it.
 */
function bounded(text: string, limit: number, single: boolean, map?: (c: string) => string): string {
  const head = text.length > READ_LIMIT ? text.slice(0, READ_LIMIT) : text;
  const masked = single ? oneLine(maskSecrets(head)) : maskSecrets(head);
  const length = masked.length + (text.length - head.length);
  const pieces: string[] = [];
  let size = 0;
  for (const c of masked) {
    const piece = map ? map(c) : c;
    pieces.push(piece);
    size += piece.length;
    if (size > limit) break;
  }
  if (size <= limit && length === masked.length) return pieces.join('');
  const suffix = `... (${length} characters)`;
  let out = '';
  for (const piece of pieces) {
    if (out.length + piece.length > limit - suffix.length) break;
    out += piece;
  }
  return out + suffix;
}

/**
 * A message for a text line on stderr (an error, a warning, a log line):
 * credentials masked, on one line, control characters escaped, at most
 * `limit` characters. Text log lines are escaped whether or not stderr is
 * a terminal, as a log file is read in one later.
 */
export function logText(text: string, limit = MESSAGE_LIMIT): string {
  return bounded(text, limit, true, escapeOne);
}

/**
 * One JSON log line (no newline): every string in `record` with its
 * credentials masked and cut, `message` to one line of MESSAGE_LIMIT, any
 * other to FIELD_LIMIT; and the characters that JSON leaves raw but a
 * terminal acts on written as `\uXXXX` escapes, so that the line reads the
 * same to a JSON parser and cannot move a cursor when a person cats the log.
 */
export function jsonLine(record: Record<string, unknown>): string {
  const line = JSON.stringify(record, (key, value: unknown) =>
    typeof value === 'string' ? (key === 'message' ? bounded(value, MESSAGE_LIMIT, true) : bounded(value, FIELD_LIMIT, false)) : value,
  );
  return line.replace(JSON_UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * Text from the service or the data (SQL, service messages, column names,
 * values) made safe to print: every control character (C0, DEL, C1) and
 * every bidirectional override or isolate is written as a visible escape
 * (`\n`, `\t`, `\x1b`, `\u202e`), so that such text can neither move the
 * cursor, recolour or clear a terminal, nor reorder what a person reads, nor
 * forge a second line. Printable text, tabs included as `\t`, is otherwise
 * kept as it is.
 */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

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

import { describe, expect, it } from 'vitest';
import { lakeColumn, lakeSchema } from '../src/rows/lake-schema.js';
import { parseLakeType, type LakeType } from '../src/rows/lake-type.js';
import { readNested } from '../src/rows/nested-value.js';

/**
 * Texts of about 1 MB built to make a reader backtrack, rescan or recurse:
 * each must come back (ok or not) in a few passes. The tests assert no
 * time; an exponential or quadratic reader would exceed vitest's timeout.
 */
const events = lakeSchema('cloudtrail-events');
const MAP = lakeColumn(events, 'requestparameters')!.type;
const USER_IDENTITY = lakeColumn(events, 'useridentity')!.type;
const RESOURCES = lakeColumn(events, 'resources')!.type;
const RESOURCE = parseLakeType('struct<accountid:string,type:string,arn:string,arnprefix:string>');
const STRINGS = parseLakeType('array<string>');
const MB = 1 << 20;

function fill(head: string, unit: string, tail: string): string {
  return head + unit.repeat(Math.floor((MB - head.length - tail.length) / unit.length)) + tail;
}

/** A map of distinct keys k0, k1, ... whose every value is `value`, about 1 MB long. */
function mapOf(value: string): string {
  const entries: string[] = [];
  for (let i = 0, length = 2; length < MB; i++) {
    const entry = `k${i}=${value}`;
    entries.push(entry);
    length += entry.length + 2;
  }
  return `{${entries.join(', ')}}`;
}

const HOSTILE: Array<[string, string, LakeType]> = [
  ['map values that each start like JSON and never end', fill('{k=', '["x, k=', '}'), MAP],
  // each value is plain text, and as JSON its string literals chain through escaped quotes to the end of the text
  ['map values whose JSON scan runs on to the end of the text', mapOf('["\\"]'), MAP],
  ['map values that are all canonical JSON', mapOf('{"a":["x, k=y"]}'), MAP],
  ['JSON with quoted brackets that keep the plain scan open', fill('[', '{"x":"{"}, ', '{"x":"{"}]'), STRINGS],
  ['a map of many small JSON values', fill('{a={"x":1}', ', a={"x":1}', '}'), MAP],
  ['one struct field name repeated', fill('{accountid=1', ', arn=x', '}'), RESOURCE],
  ['two struct field names repeated alternately', fill('{accountid=1', ', arn=x, type=y', '}'), RESOURCE],
  ['the first field repeated as its own string', fill('{type=x', ', type=x', '}'), USER_IDENTITY],
  ['opening brackets only', fill('{a=', '[', '}'), MAP],
  ['alternating brackets', fill('{a=', '[{', '}'), MAP],
  ['commas with no key after them', fill('{a=', 'x, ', '}'), MAP],
  ['commas followed by long runs with white space', fill('{a=', ', b c d e f g h', '=}'), MAP],
  ['would-be keys that never reach "="', fill('{a=', ', bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb', '}'), MAP],
  ['nested arrays of structs, unclosed', fill('[', '{accountid=[', ''), RESOURCES],
  ['struct after struct with no separator', fill('[', '{accountid=1}', ']'), RESOURCES],
  ['a valid array of a great many structs', fill('[{accountid=1, type=t, arn=a, arnprefix=p}', ', {accountid=1, type=t, arn=a, arnprefix=p}', ']'), RESOURCES],
  ['array elements that each start like JSON', fill('[', '[1, ', '1]'), STRINGS],
  ['arrays of arrays of arrays', fill('[[[a]]', ', [[b, c], []]', ']'), parseLakeType('array<array<array<string>>>')],
];

describe('readNested on hostile text of 1 MB', () => {
  for (const [name, text, type] of HOSTILE) {
    it(`comes back in a few passes: ${name}`, () => {
      expect(text.length).toBeGreaterThan(MB - 100);
      const reading = readNested(text, type);
      if (!reading.ok) expect(reading.reason.length).toBeLessThan(400);
      else expect(Array.isArray(reading.value)).toBe(true);
    });
  }

  it('reads the valid ones and refuses the ambiguous ones', () => {
    const results = new Map(HOSTILE.map(([name, text, type]) => [name, readNested(text, type).ok]));
    expect(results.get('a map of many small JSON values')).toBe(false); // the key repeats
    expect(results.get('a valid array of a great many structs')).toBe(true);
    expect(results.get('commas with no key after them')).toBe(true);
    expect(results.get('one struct field name repeated')).toBe(false);
    expect(results.get('the first field repeated as its own string')).toBe(false);
    expect(results.get('map values that are all canonical JSON')).toBe(true);
    expect(results.get('arrays of arrays of arrays')).toBe(true);
  });

  it('reads a large map of distinct keys', () => {
    const entries = Array.from({ length: 40_000 }, (_, i) => `key${i}={"n":${i},"s":"v, x=${i}"}`);
    const reading = readNested(`{${entries.join(', ')}}`, MAP);
    expect(reading.ok && (reading.value as unknown[]).length).toBe(40_000);
  });
});

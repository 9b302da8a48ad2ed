import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../src/emulator/faults.js';
import { formatNumber, formatTimestampMicros } from '../src/emulator/presto-text.js';
import { LAKE_STORE_TYPES, lakeSchema } from '../src/rows/lake-schema.js';
import { isPrimitive, parseLakeType, type LakePrimitiveKind, type LakeType } from '../src/rows/lake-type.js';
import { readNested, type NestedValue } from '../src/rows/nested-value.js';

/**
 * The round trip: random typed values of the published nested types, printed
 * as Lake prints them (src/emulator/presto-text.ts: fields in type order and
 * lower-cased, `, ` between, strings bare, null as `null`), read back.
 * readNested must give exactly the value or ok:false, and whatever it reads
 * must print back to the same text.
 */

/** Lake's text of a typed value. */
function render(value: NestedValue, type: LakeType): string {
  if (value === null) return 'null';
  switch (type.kind) {
    case 'struct':
      return `{${type.fields.map((f, i) => `${f.name.toLowerCase()}=${render((value as NestedValue[])[i] ?? null, f.type)}`).join(', ')}}`;
    case 'map':
      return `{${(value as Array<[string, NestedValue]>).map(([k, v]) => `${k}=${render(v, type.value)}`).join(', ')}}`;
    case 'array':
      return `[${(value as NestedValue[]).map((v) => render(v, type.element)).join(', ')}]`;
    case 'float':
    case 'double':
      return formatNumber(value as number);
    case 'timestamp':
      return formatTimestampMicros(BigInt(value as number) * 1000n)!;
    case 'date':
      return formatTimestampMicros(BigInt(value as number) * 1000n)!.slice(0, 10);
    default:
      return String(value);
  }
}

/**
 * What strings hold:
 * - plain: no `, `, `=`, `{`, `}`, `[` or `]` (parentheses, quotes, unicode, emoji, lone commas and spaces allowed);
 * - realistic: also `=`, balanced and (rarely) unbalanced brackets, and canonical JSON text, whose string literals may hold `, x=y`;
 * - fields: plain, except that a struct's string field may hold `, name=` with a field name of the same struct;
 * - any: also `, ` and `, key=` at the top, which Presto prints exactly like structure.
 */
type Strings = 'plain' | 'realistic' | 'fields' | 'any';

const PLAIN_CHARS = [...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:/-_.@+*&^%$#!~;\'"<>?|\\()  ,', 'é', '名', 'ключ', '🎉', '🔑', '\u00a0', '\t'];
const KEYS = ['bucketName', 'Host', 'key', 'x-amz-date', 'roleArn', 'roleSessionName', 'durationSeconds', '__proto__', 'constructor', 'toString', 'ключ', '名前', 'emoji🔑', 'a.b', 'k1', 'k2', 'policy'];
const WORDS = ['arn:aws:iam::123456789012:role/Admin', 'AKIAEXAMPLE', 'us-east-1', 'Mozilla/5.0 (X11; Linux x86_64)', 'Jan 22, 2023, 5:50:01 PM', 'v, x=y', 'a=b', 'null!', 'true'];

class Generator {
  readonly random: () => number;
  constructor(seed: number) {
    this.random = mulberry32(seed);
  }

  int(n: number): number {
    return Math.floor(this.random() * n);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  plain(max = 12): string {
    for (;;) {
      let s = '';
      const n = this.int(max + 1);
      for (let i = 0; i < n; i++) s += this.pick(PLAIN_CHARS);
      if (!s.includes(', ') && s !== 'null') return s;
    }
  }

  json(depth = 0): unknown {
    const r = this.random();
    if (depth > 2 || r < 0.4) return this.random() < 0.5 ? this.pick(WORDS) : this.random() < 0.5 ? this.int(1000) : null;
    if (r < 0.7) return Array.from({ length: this.int(3) }, () => this.json(depth + 1));
    const o: Record<string, unknown> = {};
    for (let i = this.int(3); i > 0; i--) o[this.pick(['accessKeyId', 'k', 'Statement', 'Effect', 'x'])] = this.json(depth + 1);
    return o;
  }

  string(strings: Strings): string {
    if (strings === 'plain' || strings === 'fields') return this.plain();
    const r = this.random();
    if (r < 0.6) return this.plain();
    if (r < 0.7) return `${this.plain(5)}=${this.plain(5)}`;
    if (r < 0.85) {
      const text = JSON.stringify(this.json());
      if (text !== 'null' && (text.startsWith('{') || text.startsWith('['))) return text;
      return this.plain();
    }
    if (r < 0.97) return this.random() < 0.5 ? `${this.plain(4)}[${this.plain(4)}]` : `{${this.plain(4)}}${this.plain(4)}`;
    if (strings === 'realistic') return r < 0.972 ? `${this.plain(4)}${this.pick(['[', ']', '{', '}'])}` : this.plain();
    return this.pick([`${this.plain(4)}, ${this.plain(4)}`, `${this.plain(4)}, ${this.pick(KEYS)}=${this.plain(4)}`, `[${this.plain(3)}, ${this.plain(3)}]`, this.plain()]);
  }

  primitive(kind: LakePrimitiveKind, strings: Strings): NestedValue {
    switch (kind) {
      case 'string':
      case 'binary':
        return this.string(strings);
      case 'boolean':
        return this.random() < 0.5;
      case 'tinyint':
        return BigInt(this.int(256) - 128);
      case 'smallint':
        return BigInt(this.int(65_536) - 32_768);
      case 'int':
        return BigInt(this.int(2 ** 32) - 2 ** 31);
      case 'bigint':
        return BigInt.asIntN(64, (BigInt(this.int(2 ** 32)) << 32n) | BigInt(this.int(2 ** 32)));
      case 'float':
        return this.pick([Math.fround((this.random() - 0.5) * 1e6), 1.5, Math.fround(1e-7), NaN, Infinity]);
      case 'double':
        return this.pick([(this.random() - 0.5) * 1e12, this.random() * 1e-300, 1e21, -Infinity, 42]);
      case 'timestamp':
        return this.int(4_102_444_800_000);
      case 'date':
        return this.int(50_000) * 86_400_000;
    }
  }

  value(type: LakeType, strings: Strings, depth = 0): NestedValue {
    if (depth > 0 && this.random() < 0.12) return null;
    if (isPrimitive(type)) return this.primitive(type.kind, strings);
    if (type.kind === 'struct') {
      return type.fields.map((f) =>
        strings === 'fields' && f.type.kind === 'string' && this.random() < 0.2
          ? `${this.plain(4)}, ${this.pick(type.fields).name.toLowerCase()}=${this.plain(4)}`
          : this.value(f.type, strings, depth + 1),
      );
    }
    if (type.kind === 'array') {
      const items = Array.from({ length: this.int(4) }, () => this.value(type.element, strings, depth + 1));
      // `[]` is the empty array, so an array of one empty string prints as one too
      return items.length === 1 && items[0] === '' ? [] : items;
    }
    const keys = new Set<string>();
    for (let n = this.int(5); n > 0; n--) {
      keys.add(type.key.kind === 'string' ? (this.random() < 0.7 ? this.pick(KEYS) : this.plain(6).replace(/[\s,]/g, '') || 'k') : render(this.primitive(type.key.kind, strings), type.key));
    }
    return [...keys].map((k): [string, NestedValue] => [k, this.value(type.value, strings, depth + 1)]);
  }
}

/** The nested columns of every published store, and a type with every primitive kind and shape. */
const TYPES: Array<[string, LakeType]> = [
  ...LAKE_STORE_TYPES.flatMap((store) => lakeSchema(store).columns.filter((c) => !isPrimitive(c.type)).map((c): [string, LakeType] => [`${store}.${c.name}`, c.type])),
  [
    'every kind',
    parseLakeType(
      'struct<s:string,b:boolean,t:tinyint,m:smallint,i:int,g:bigint,f:float,d:double,ts:timestamp,dt:date,bin:binary,tags:array<string>,byint:map<int,double>,deep:array<map<string,array<struct<x:string,y:bigint>>>>>',
    ),
  ],
];
const EVENTS_TYPES = TYPES.filter(([name]) => name.startsWith('cloudtrail-events.'));

function trial(types: Array<[string, LakeType]>, strings: Strings, count: number, seed: number) {
  const gen = new Generator(seed);
  let ok = 0;
  let exact = 0;
  const wrong: string[] = [];
  const refusals: string[] = [];
  for (let n = 0; n < count; n++) {
    const [name, type] = gen.pick(types);
    const value = gen.value(type, strings);
    const text = render(value, type);
    const reading = readNested(text, type);
    if (!reading.ok) {
      if (refusals.length < 5) refusals.push(`${name}: ${reading.reason}`);
      continue;
    }
    ok++;
    // lossless: what was read prints back to the text
    if (render(reading.value, type) !== text) wrong.push(`${name}: ${text.slice(0, 200)} reads as a value that prints otherwise`);
    if (strings !== 'any') {
      try {
        expect(reading.value).toEqual(value);
        exact++;
      } catch {
        wrong.push(`${name}: ${text.slice(0, 200)} reads as another value`);
      }
    }
  }
  return { ok, exact, wrong, refusals };
}

describe('readNested round trip', () => {
  it('reads every value whose strings hold no separator or bracket, exactly', () => {
    for (const [types, seed] of [
      [EVENTS_TYPES, 1],
      [TYPES, 2],
    ] as const) {
      const result = trial(types, 'plain', 3000, seed);
      expect(result.wrong).toEqual([]);
      expect(result.refusals).toEqual([]);
      expect(result.exact).toBe(3000);
    }
  });

  // Below 100%: a map whose value holds "=" before another entry falls back
  // (it may be one value holding ", KEY="); so do values with unbalanced brackets.
  it('reads at least 85% of realistic values (with "=", brackets and JSON text in strings), and reads them exactly', () => {
    for (const [types, seed] of [
      [EVENTS_TYPES, 3],
      [TYPES, 4],
    ] as const) {
      const result = trial(types, 'realistic', 3000, seed);
      expect(result.wrong).toEqual([]);
      expect(result.exact).toBe(result.ok);
      expect(result.ok / 3000).toBeGreaterThanOrEqual(0.85);
    }
  });

  it('reads a struct whose string fields hold ", name=" of its own fields only when one reading fits, and then exactly', () => {
    const result = trial(TYPES, 'fields', 3000, 6);
    expect(result.wrong).toEqual([]);
    expect(result.exact).toBe(result.ok);
    expect(result.ok).toBeGreaterThan(1000);
  });

  it('reads any value, separators in strings included, only as a value that prints back to the same text', () => {
    const result = trial(TYPES, 'any', 3000, 5);
    expect(result.wrong).toEqual([]);
    expect(result.ok).toBeGreaterThan(0);
  });
});

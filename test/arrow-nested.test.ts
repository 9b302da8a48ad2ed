import { makeVector, MapRow, StructRow, Type, Vector, type Data, type DataType, type Field, type Map_, type Struct } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { isCtlakeError } from '../src/errors.js';
import { arrowTypeOf, LIST_ELEMENT_FIELD, MAP_ENTRIES_FIELD, nestedData } from '../src/formats/arrow-nested.js';
import { parseLakeType } from '../src/rows/lake-type.js';
import type { NestedValue } from '../src/rows/nested-value.js';

const type = (text: string) => arrowTypeOf(parseLakeType(text));

/** A type as a plain tree: Arrow type id name, field names and nullability. */
function shape(t: DataType): unknown {
  const children = (t.children ?? []) as Field[];
  const name = Type[t.typeId];
  return children.length ? { [name]: children.map((f) => [f.name, f.nullable, shape(f.type)]) } : String(t);
}

/** Values as apache-arrow reads them back from the built data (maps as [key, value] pairs). */
function read(data: Data): unknown[] {
  const plain = (v: unknown): unknown => {
    if (v instanceof MapRow) return [...(v as Iterable<[unknown, unknown]>)].map(([k, x]) => [k, plain(x)]);
    if (v instanceof StructRow) return Object.fromEntries([...(v as Iterable<[string, unknown]>)].map(([k, x]) => [k, plain(x)]));
    if (v instanceof Vector) return [...v].map(plain);
    return v;
  };
  return [...makeVector(data)].map(plain);
}

describe('arrowTypeOf', () => {
  it('gives every Lake primitive its Arrow type', () => {
    expect(Object.fromEntries(['string', 'binary', 'boolean', 'tinyint', 'smallint', 'int', 'integer', 'bigint', 'float', 'double', 'timestamp', 'date'].map((t) => [t, String(type(t))]))).toEqual({
      string: 'Utf8',
      binary: 'Utf8',
      boolean: 'Bool',
      tinyint: 'Int8',
      smallint: 'Int16',
      int: 'Int32',
      integer: 'Int32',
      bigint: 'Int64',
      float: 'Float32',
      double: 'Float64',
      timestamp: 'Timestamp<MILLISECOND, UTC>',
      date: 'Date32<DAY>',
    });
  });

  it('names struct fields as published, list elements `element` and map entries `entries` with `key` and `value`; all nullable but entries and keys', () => {
    expect(shape(type('struct<Arn:string,sessionContext:struct<x:int>,tags:array<string>,attrs:map<string,array<double>>>'))).toEqual({
      Struct: [
        ['Arn', true, 'Utf8'],
        ['sessionContext', true, { Struct: [['x', true, 'Int32']] }],
        ['tags', true, { List: [[LIST_ELEMENT_FIELD, true, 'Utf8']] }],
        ['attrs', true, { Map: [[MAP_ENTRIES_FIELD, false, { Struct: [['key', false, 'Utf8'], ['value', true, { List: [['element', true, 'Float64']] }]] }]] }],
      ],
    });
    expect((type('map<string,string>') as Map_).keysSorted).toBe(false);
    expect(MAP_ENTRIES_FIELD).toBe('entries');
  });

  it('keeps a field called __proto__ or constructor as an ordinary field', () => {
    expect((type('struct<__proto__:string,constructor:int>') as Struct).children.map((f) => f.name)).toEqual(['__proto__', 'constructor']);
  });
});

describe('nestedData', () => {
  const t = parseLakeType('struct<name:string,n:int,tags:array<string>,attrs:map<string,struct<on:boolean,at:timestamp,day:date>>>');

  it('builds values, nulls at every depth, empty lists and empty maps', () => {
    const values: NestedValue[] = [
      ['a', 1n, ['x', null, 'ü🚀'], [['k', [true, 0, 86_400_000]], ['__proto__', null], ['k', [null, null, null]]]],
      null,
      [null, null, [], []],
      [null, -5n, null, null],
    ];
    const data = nestedData(t, values);
    expect(data.length).toBe(4);
    expect(data.nullCount).toBe(1);
    // The date is stored as days (Date32), the timestamp as milliseconds.
    const attrs = data.children[3]!.children[0]!;
    expect([...(attrs.children[1]!.children[2]!.values as Int32Array)]).toEqual([1, 0, 0]);
    expect(attrs.children[1]!.children[1]!.values).toBeInstanceOf(BigInt64Array);
    expect(read(data)).toEqual([
      {
        name: 'a',
        n: 1,
        tags: ['x', null, 'ü🚀'],
        attrs: [
          // apache-arrow reads a timestamp and a date back as epoch milliseconds.
          ['k', { on: true, at: 0, day: 86_400_000 }],
          ['__proto__', null],
          ['k', { on: null, at: null, day: null }],
        ],
      },
      null,
      { name: null, n: null, tags: [], attrs: [] },
      { name: null, n: -5, tags: null, attrs: null },
    ]);
  });

  it('grows its buffers past their first size', () => {
    const list = parseLakeType('array<struct<s:string,b:bigint,f:float,o:boolean>>');
    const values: NestedValue[] = Array.from({ length: 5000 }, (_, i) => (i % 7 === 0 ? null : Array.from({ length: i % 4 }, (_, j) => [`v${i}-${j}-${'x'.repeat(i % 50)}`, BigInt(i) * 2n ** 40n, j / 2, (i + j) % 2 === 0])));
    const data = nestedData(list, values);
    const back = read(data);
    expect(back).toHaveLength(5000);
    expect(back[4999]).toEqual([
      { s: `v4999-0-${'x'.repeat(4999 % 50)}`, b: 4999n * 2n ** 40n, f: 0, o: false },
      { s: `v4999-1-${'x'.repeat(4999 % 50)}`, b: 4999n * 2n ** 40n, f: 0.5, o: true },
      { s: `v4999-2-${'x'.repeat(4999 % 50)}`, b: 4999n * 2n ** 40n, f: 1, o: false },
    ]);
    expect(back.filter((v) => v === null)).toHaveLength(Math.ceil(5000 / 7));
  });

  it('refuses a lone surrogate anywhere, map keys included, with VALUE_INVALID naming the column and row', () => {
    const attempt = (values: NestedValue[]) => {
      try {
        nestedData(t, values, { column: 'userIdentity', firstRow: 101 });
      } catch (error) {
        return error;
      }
      return undefined;
    };
    const long = 'x'.repeat(100);
    for (const bad of [['\ud800x', null, null, null], [`${long}\ud800`, null, null, null], [null, null, ['ok', 'a\udfff'], null], [null, null, null, [['\udbff', null]]]] as NestedValue[]) {
      const error = attempt([null, bad]);
      expect(isCtlakeError(error, 'VALUE_INVALID')).toBe(true);
      expect((error as Error).message).toMatch(/^column userIdentity, row 102: ".*"(\.\.\. \(\d+ characters\))? holds a lone UTF-16 surrogate/);
    }
    // Well-formed text is kept, short or long, ASCII or not (short ASCII takes a faster path).
    const texts = ['\ud83d\ude80', 'a'.repeat(64), 'b'.repeat(65), `${'c'.repeat(63)}é`, `é${long}`, '', '\u0000'];
    expect(read(nestedData(parseLakeType('array<string>'), [texts]))[0]).toEqual(texts);
  });

  it('refuses a value that is not of its type (a reader bug) with a TypeError', () => {
    const wrong: Array<[string, NestedValue]> = [
      ['struct<a:string>', ['x', 'y']],
      ['struct<a:string>', 'x'],
      ['array<string>', 'x'],
      ['map<string,string>', [['k']] as unknown as NestedValue],
      ['map<string,string>', [[1, 'v']] as unknown as NestedValue],
      ['string', 1],
      ['int', 1],
      ['int', 2n ** 31n],
      ['tinyint', -129n],
      ['bigint', 2n ** 63n],
      ['double', 1n],
      ['boolean', 'true'],
      ['timestamp', 1.5],
      ['date', 1],
    ];
    for (const [text, value] of wrong) expect(() => nestedData(parseLakeType(text), [value]), text).toThrow(TypeError);
  });

  it('gives a column of nulls no buffers but its validity', () => {
    const data = nestedData(t, [null, null, null]);
    expect(data.nullCount).toBe(3);
    expect(read(data)).toEqual([null, null, null]);
  });
});

import { describe, expect, it } from 'vitest';
import {
  formatLakeType,
  isPrimitive,
  LAKE_PRIMITIVE_KINDS,
  LakeTypeSyntaxError,
  lakeStructField,
  lakeTypeAtPath,
  MAX_LAKE_TYPE_LENGTH,
  parseLakeType,
  type LakeType,
} from '../src/rows/lake-type.js';

/** The fault a text gives, as position and message. */
function fault(text: string, options?: { maxDepth?: number }): { position: number; message: string } {
  try {
    parseLakeType(text, options);
  } catch (error) {
    expect(error).toBeInstanceOf(LakeTypeSyntaxError);
    expect(error).toBeInstanceOf(SyntaxError);
    const e = error as LakeTypeSyntaxError;
    return { position: e.position, message: e.message };
  }
  throw new Error(`${text} parsed`);
}

describe('parseLakeType', () => {
  it('parses every primitive, and integer as int with its spelling kept', () => {
    for (const kind of LAKE_PRIMITIVE_KINDS) expect(parseLakeType(kind)).toEqual({ kind });
    expect(parseLakeType('integer')).toEqual({ kind: 'int', spelling: 'integer' });
    expect(formatLakeType(parseLakeType('integer'))).toBe('integer');
    expect(parseLakeType('  BIGINT ')).toEqual({ kind: 'bigint' });
  });

  it('parses structs, maps and arrays into a tree, ignoring whitespace between tokens', () => {
    const t = parseLakeType('array< struct<accountid:string,\n   type : string, when:timestamp> >');
    expect(t.kind).toBe('array');
    if (t.kind !== 'array' || t.element.kind !== 'struct') throw new Error('shape');
    expect(t.element.fields.map((f) => [f.name, f.type.kind])).toEqual([
      ['accountid', 'string'],
      ['type', 'string'],
      ['when', 'timestamp'],
    ]);
    const m = parseLakeType('map<string,array<bigint>>');
    expect(m).toEqual({ kind: 'map', key: { kind: 'string' }, value: { kind: 'array', element: { kind: 'bigint' } } });
  });

  it('prints the text back without whitespace, names as written', () => {
    const text = 'struct<a:map<string,string>,originalUID:string,n:struct<x:double,y:integer>,l:array<boolean>>';
    expect(formatLakeType(parseLakeType(text))).toBe(text);
    expect(formatLakeType(parseLakeType(' STRUCT < A : INT > '))).toBe('struct<A:int>');
  });

  it('finds struct fields without regard to case, through a Map', () => {
    const t = parseLakeType('struct<insightContext:struct<baselineDuration:integer>>');
    if (t.kind !== 'struct') throw new Error('shape');
    expect(t.byName).toBeInstanceOf(Map);
    expect(lakeStructField(t, 'INSIGHTCONTEXT')?.name).toBe('insightContext');
    expect(lakeStructField(t, 'nope')).toBeNull();
    expect(lakeTypeAtPath(t, ['insightcontext', 'BASELINEDURATION'])).toEqual({ kind: 'int', spelling: 'integer' });
    expect(lakeTypeAtPath(t, [])).toBe(t);
    expect(lakeTypeAtPath(t, ['insightcontext', 'baselineduration', 'deeper'])).toBeNull();
  });

  it('does not step into maps or arrays with a dotted path', () => {
    const t = parseLakeType('struct<m:map<string,string>,a:array<struct<arn:string>>>');
    expect(lakeTypeAtPath(t, ['m', 'key'])).toBeNull();
    expect(lakeTypeAtPath(t, ['a', 'arn'])).toBeNull();
  });

  it('treats __proto__, constructor and other hostile names as ordinary fields', () => {
    const t = parseLakeType('struct<__proto__:string,constructor:bigint,toString:boolean,hasOwnProperty:struct<__proto__:double>>');
    if (t.kind !== 'struct') throw new Error('shape');
    expect(t.fields.map((f) => f.name)).toEqual(['__proto__', 'constructor', 'toString', 'hasOwnProperty']);
    expect(lakeTypeAtPath(t, ['__proto__'])).toEqual({ kind: 'string' });
    expect(lakeTypeAtPath(t, ['CONSTRUCTOR'])).toEqual({ kind: 'bigint' });
    expect(lakeTypeAtPath(t, ['hasownproperty', '__PROTO__'])).toEqual({ kind: 'double' });
    expect(lakeTypeAtPath(t, ['valueOf'])).toBeNull();
    expect(({} as Record<string, unknown>).constructor).toBe(Object); // nothing polluted
    expect(formatLakeType(t)).toBe('struct<__proto__:string,constructor:bigint,toString:boolean,hasOwnProperty:struct<__proto__:double>>');
    // a struct with no such fields does not find the prototype's
    const plain = parseLakeType('struct<a:string>');
    expect(lakeTypeAtPath(plain, ['__proto__'])).toBeNull();
    expect(lakeTypeAtPath(plain, ['constructor'])).toBeNull();
  });

  it('takes backtick-quoted names and quotes them back', () => {
    const t = parseLakeType('struct<`a.b`:string,`x``y`:int,`with space`:string>');
    if (t.kind !== 'struct') throw new Error('shape');
    expect(t.fields.map((f) => f.name)).toEqual(['a.b', 'x`y', 'with space']);
    expect(formatLakeType(t)).toBe('struct<`a.b`:string,`x``y`:int,`with space`:string>');
    expect(parseLakeType(formatLakeType(t))).toEqual(t);
  });

  it('fails on malformed text with the position and what was expected', () => {
    expect(fault('')).toMatchObject({ position: 0, message: expect.stringMatching(/expected a type at position 0, found the end of the text/) });
    expect(fault('struct<a:int')).toMatchObject({ position: 12, message: expect.stringMatching(/expected "," or ">" after field "a" at position 12/) });
    expect(fault('struct<>')).toMatchObject({ position: 7, message: expect.stringMatching(/at least one field/) });
    expect(fault('struct<a string>')).toMatchObject({ position: 9, message: expect.stringMatching(/expected ":" at position 9/) });
    expect(fault('struct<:string>')).toMatchObject({ position: 7, message: expect.stringMatching(/expected a field name/) });
    expect(fault('struct<1a:string>').position).toBe(7);
    expect(fault('map<string>')).toMatchObject({ position: 10, message: expect.stringMatching(/expected ","/) });
    expect(fault('map<array<string>,string>')).toMatchObject({ position: 4, message: expect.stringMatching(/map key must be a primitive/) });
    expect(fault('array<string>>')).toMatchObject({ position: 13, message: expect.stringMatching(/expected the end of the type at position 13, found ">"/) });
    expect(fault('array<strin>')).toMatchObject({ position: 6, message: expect.stringMatching(/unknown type "strin" \(known: string, boolean/) });
    expect(fault('varchar(10)')).toMatchObject({ position: 0, message: expect.stringMatching(/unknown type "varchar"/) });
    expect(fault('struct<a:int,A:string>')).toMatchObject({ position: 13, message: expect.stringMatching(/field "A" repeats "a"/) });
    expect(fault('struct<`a:int>')).toMatchObject({ position: 7, message: expect.stringMatching(/unterminated quoted field name/) });
    expect(fault('struct<``:int>').message).toMatch(/empty field name/);
    expect(fault('struct<a:int>,')).toMatchObject({ position: 13 });
    expect(fault('string string').position).toBe(7);
  });

  it('rejects the published integration eventdata text where its stray ">" closes the struct', () => {
    const published =
      'struct<version:string,useridentity:struct<type:string,principalid:string,details:map<string,string>>,useragent:string,eventsource:string,eventname:string,eventtime:string,uid:string,requestparameters:map<string,string>>,responseelements":map<string,string>>,errorcode:string';
    const f = fault(published);
    expect(f.position).toBe(published.indexOf('>>,responseelements') + 2);
    expect(f.message).toMatch(/expected the end of the type/);
  });

  it('bounds the nesting depth and the length of the text', () => {
    const deep = (n: number) => 'array<'.repeat(n - 1) + 'string' + '>'.repeat(n - 1);
    expect(() => parseLakeType(deep(32))).not.toThrow();
    expect(fault(deep(33)).message).toMatch(/nesting deeper than 32/);
    expect(fault(deep(4), { maxDepth: 3 }).message).toMatch(/nesting deeper than 3/);
    expect(fault(deep(100_000 / 7)).message).toMatch(/characters long; the limit is/);
    expect(fault('struct<' + 'a'.repeat(MAX_LAKE_TYPE_LENGTH) + ':string>').message).toMatch(/the limit is 65536/);
    expect(() => parseLakeType('string', { maxDepth: 0 })).toThrow(TypeError);
    expect(() => parseLakeType(42 as unknown as string)).toThrow(TypeError);
  });

  it('cuts long texts in its messages', () => {
    const long = 'struct<' + Array.from({ length: 200 }, (_, i) => `f${i}:string`).join(',') + ',oops>';
    const { message } = fault(long);
    expect(message.length).toBeLessThan(200);
    expect(message).toContain('…');
  });

  it('tells primitives from nested types', () => {
    const kinds = (t: LakeType) => isPrimitive(t);
    expect(kinds(parseLakeType('double'))).toBe(true);
    expect(kinds(parseLakeType('array<double>'))).toBe(false);
    expect(kinds(parseLakeType('map<string,double>'))).toBe(false);
    expect(kinds(parseLakeType('struct<a:double>'))).toBe(false);
  });
});

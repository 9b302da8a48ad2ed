import { describe, expect, it } from 'vitest';
import { buildSchema, safeColumnNames } from '../src/rows/schema.js';
import { parseColumnSpec, typeForColumn } from '../src/rows/column-types.js';
import { parseTimestamp, parseValue, ValueError } from '../src/rows/parse-value.js';

describe('column types', () => {
  it('types CloudTrail fields by name, without regard to case', () => {
    expect(typeForColumn('eventTime')).toBe('timestamp');
    expect(typeForColumn('EVENTTIME')).toBe('timestamp');
    expect(typeForColumn('readOnly')).toBe('boolean');
    expect(typeForColumn('managementEvent')).toBe('boolean');
    expect(typeForColumn('creationDate')).toBe('timestamp');
    expect(typeForColumn('eventName')).toBe('string');
    expect(typeForColumn('_col0')).toBe('string');
    expect(typeForColumn('userIdentity')).toBe('string');
    expect(typeForColumn('userIdentity', { nested: 'json' })).toBe('json');
  });

  it('lets --column set or override any column', () => {
    expect(typeForColumn('_col0', { columns: { _col0: 'int64' } })).toBe('int64');
    expect(typeForColumn('eventTime', { columns: { eventTime: 'string' } })).toBe('string');
    expect(parseColumnSpec('n:int64')).toEqual({ name: 'n', type: 'int64' });
    expect(parseColumnSpec('a:b:double')).toEqual({ name: 'a:b', type: 'double' });
    expect(() => parseColumnSpec('n:integer')).toThrow(/expected NAME:TYPE with TYPE one of string, int64, double, boolean, timestamp, json/);
    expect(() => parseColumnSpec(':int64')).toThrow(TypeError);
  });
});

describe('safe column names', () => {
  it('makes names unique without regard to case, and safe for Hive', () => {
    expect(safeColumnNames(['eventName', 'eventname', 'EVENTNAME', 'arn', 'arn_2'])).toEqual(['eventName', 'eventname_2', 'EVENTNAME_3', 'arn', 'arn_2']);
    expect(safeColumnNames(['count(*)', 'a b', '1st', '', 'é'])).toEqual(['count___', 'a_b', '_1st', '_', '__2']);
    expect(safeColumnNames(['_', '_'])).toEqual(['_', '__2']);
  });

  it('builds the same schema from the same columns', () => {
    const sources = ['eventTime', 'eventName', 'readOnly', 'n'];
    const a = buildSchema(sources, { columns: { n: 'int64' } });
    expect(a).toEqual([
      { source: 'eventTime', name: 'eventTime', type: 'timestamp' },
      { source: 'eventName', name: 'eventName', type: 'string' },
      { source: 'readOnly', name: 'readOnly', type: 'boolean' },
      { source: 'n', name: 'n', type: 'int64' },
    ]);
    expect(buildSchema(sources, { columns: { n: 'int64' } })).toEqual(a);
  });
});

describe('parseValue', () => {
  it('keeps strings exactly, the text null included', () => {
    expect(parseValue('null', 'string')).toBe('null');
    expect(parseValue(' x ', 'string')).toBe(' x ');
    expect(parseValue(null, 'string')).toBeNull();
  });

  it('parses typed cells, and reads the text null as null outside strings', () => {
    expect(parseValue('9223372036854775807', 'int64')).toBe(9223372036854775807n);
    expect(parseValue('-42', 'int64')).toBe(-42n);
    expect(parseValue('1.5e3', 'double')).toBe(1500);
    expect(parseValue('TRUE', 'boolean')).toBe(true);
    expect(parseValue('false', 'boolean')).toBe(false);
    expect(parseValue('null', 'int64')).toBeNull();
    expect(parseValue('[1, 2]', 'json')).toBe('[1, 2]');
  });

  it('refuses what does not fit, and never guesses', () => {
    expect(() => parseValue('12a', 'int64')).toThrow(ValueError);
    expect(() => parseValue('9223372036854775808', 'int64')).toThrow(/int64 range/);
    expect(() => parseValue('1.5', 'int64')).toThrow(/whole number/);
    expect(() => parseValue('yes', 'boolean')).toThrow(/true or false/);
    expect(() => parseValue('', 'double')).toThrow(/not a number/);
    expect(() => parseValue('2023-02-30 00:00:00', 'timestamp')).toThrow(/valid date/);
  });

  it('reads Lake and ISO-8601 timestamps as UTC with milliseconds', () => {
    expect(parseTimestamp('2023-01-22 16:53:53.000')).toBe(Date.UTC(2023, 0, 22, 16, 53, 53));
    // Date.UTC would read years 0 to 99 as 1900 to 1999.
    expect(new Date(parseTimestamp('0099-03-04 05:06:07.000')).toISOString()).toBe('0099-03-04T05:06:07.000Z');
    expect(new Date(parseTimestamp('0001-01-01T00:00:00Z')).toISOString()).toBe('0001-01-01T00:00:00.000Z');
    expect(() => parseTimestamp('0099-02-29 00:00:00.000')).toThrow(ValueError);
    expect(parseTimestamp('2023-01-22 16:53:53.123')).toBe(Date.UTC(2023, 0, 22, 16, 53, 53, 123));
    expect(parseTimestamp('2023-01-22T16:53:53Z')).toBe(Date.UTC(2023, 0, 22, 16, 53, 53));
    expect(parseTimestamp('2023-01-22T18:53:53+02:00')).toBe(Date.UTC(2023, 0, 22, 16, 53, 53));
    expect(parseTimestamp('2023-01-22')).toBe(Date.UTC(2023, 0, 22));
    expect(parseTimestamp('2023-01-22 16:53:53.120000')).toBe(Date.UTC(2023, 0, 22, 16, 53, 53, 120));
    expect(() => parseTimestamp('2023-01-22 16:53:53.123456')).toThrow(/finer than milliseconds/);
  });
});

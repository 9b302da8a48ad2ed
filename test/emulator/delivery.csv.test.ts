import { describe, expect, it } from 'vitest';
import { csvField, csvLine, resultFileLines, resultFileName, resultFileRanges } from '../../src/emulator/result-csv.js';

describe('the CSV layout of delivered results', () => {
  it('keeps NULL (a bare empty field) apart from the empty string ("")', () => {
    expect(csvField(null)).toBe('');
    expect(csvField('')).toBe('""');
    expect(csvLine([null, '', 'x'])).toBe(',"",x\n');
  });

  it('quotes a field with a comma, a quote, CR or LF, doubling its quotes, and nothing else', () => {
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('one\ntwo')).toBe('"one\ntwo"');
    expect(csvField('one\rtwo')).toBe('"one\rtwo"');
    expect(csvField('{type=IAMUser, arn=x}')).toBe('"{type=IAMUser, arn=x}"');
    expect(csvField('2024-05-01 00:00:00.000')).toBe('2024-05-01 00:00:00.000');
    expect(csvField(' padded ')).toBe(' padded ');
  });

  it('splits rows into files of at most N rows, and gives an empty result one file', () => {
    expect(resultFileRanges(250, 100)).toEqual([[0, 100], [100, 200], [200, 250]]);
    expect(resultFileRanges(200, 100)).toEqual([[0, 100], [100, 200]]);
    expect(resultFileRanges(0, 100)).toEqual([[0, 0]]);
    expect(() => resultFileRanges(5, 0)).toThrow(RangeError);
    expect([0, 1, 9].map(resultFileName)).toEqual(['result_1.csv.gz', 'result_2.csv.gz', 'result_10.csv.gz']);
  });

  it('writes the header, with repeated names as they are, before each file\'s rows', () => {
    const table = [['a', null], ['b', 'c']];
    expect([...resultFileLines(['arn', 'arn'], table, 1, 2)].join('')).toBe('arn,arn\nb,c\n');
    expect([...resultFileLines(['arn', 'arn'], table, 0, 0)].join('')).toBe('arn,arn\n');
  });
});

import * as duckdb from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { formatNumber, formatTimeOfDay, formatTimestampMicros, prestoRenderer } from '../../src/emulator/presto-text.js';

const render = prestoRenderer(duckdb);
const {
  arrayValue,
  dateValue,
  decimalValue,
  listValue,
  mapValue,
  structValue,
  timestampMillisValue,
  timestampNanosValue,
  timestampSecondsValue,
  timestampTZValue,
  timestampValue,
  timeValue,
  unionValue,
} = duckdb;

/** Microseconds since the epoch of an ISO instant. */
const micros = (iso: string) => BigInt(Date.parse(iso)) * 1000n;

describe('scalars', () => {
  it('prints strings bare and booleans as words', () => {
    expect(render('GetObject')).toBe('GetObject');
    expect(render('')).toBe('');
    expect(render(true)).toBe('true');
    expect(render(false)).toBe('false');
  });

  it('prints numbers as plain decimal text', () => {
    expect(render(42)).toBe('42');
    expect(render(12345678901234567890n)).toBe('12345678901234567890');
    expect(render(-7n)).toBe('-7');
    expect(render(0.1 + 0.2)).toBe('0.30000000000000004');
    expect(render(2.5)).toBe('2.5');
    expect(formatNumber(-0)).toBe('0');
    expect(render(Number.NaN)).toBe('NaN');
    expect(render(decimalValue(150n, 5, 2))).toBe('1.50');
  });

  it('prints a NULL as null', () => {
    expect(render(null)).toBe('null');
  });
});

describe('timestamps', () => {
  it('prints UTC with exactly three decimals and no zone', () => {
    expect(render(timestampValue(micros('2024-05-01T12:34:56Z')))).toBe('2024-05-01 12:34:56.000');
    expect(render(timestampValue(micros('2024-05-01T12:34:56.789Z') + 999n))).toBe('2024-05-01 12:34:56.789');
  });

  it('cuts sub-millisecond digits rather than rounding them', () => {
    expect(formatTimestampMicros(1_999n)).toBe('1970-01-01 00:00:00.001');
    expect(formatTimestampMicros(-1n)).toBe('1969-12-31 23:59:59.999');
  });

  it('prints every timestamp precision the same way', () => {
    const at = '2023-01-22 16:50:01.000';
    const seconds = BigInt(Date.parse('2023-01-22T16:50:01Z') / 1000);
    expect(render(timestampSecondsValue(seconds))).toBe(at);
    expect(render(timestampMillisValue(seconds * 1000n))).toBe(at);
    expect(render(timestampNanosValue(seconds * 1_000_000_000n + 123_456_789n))).toBe('2023-01-22 16:50:01.123');
  });

  it('marks a timestamp with time zone as UTC, as Presto does', () => {
    expect(render(timestampTZValue(micros('2024-01-01T00:00:00Z')))).toBe('2024-01-01 00:00:00.000 UTC');
  });

  it('keeps DuckDB text for infinities and years Date cannot print', () => {
    expect(render(duckdb.DuckDBTimestampValue.PosInf)).toBe('infinity');
    expect(formatTimestampMicros(duckdb.DuckDBTimestampValue.Max.micros)).toBeUndefined();
  });

  it('prints dates and times of day', () => {
    expect(render(dateValue(19844))).toBe('2024-05-01');
    expect(render(timeValue(((13n * 60n + 5n) * 60n + 9n) * 1_000_000n + 42_000n))).toBe('13:05:09.042');
    expect(formatTimeOfDay(0n)).toBe('00:00:00.000');
  });
});

describe('nested values', () => {
  it('prints a struct as {field=value} with lowercased names and nested nulls', () => {
    const identity = structValue({
      type: 'AssumedRole',
      principalId: 'AROAEXAMPLE:alice',
      userName: null,
      sessionContext: structValue({
        attributes: structValue({ creationDate: timestampValue(micros('2023-01-22T16:50:01Z')), mfaAuthenticated: 'false' }),
        sessionIssuer: structValue({ type: 'Role', arn: 'arn:aws:iam::123456789012:role/Admin' }),
      }),
    });
    expect(render(identity)).toBe(
      '{type=AssumedRole, principalid=AROAEXAMPLE:alice, username=null, sessioncontext={attributes={creationdate=2023-01-22 16:50:01.000, mfaauthenticated=false}, sessionissuer={type=Role, arn=arn:aws:iam::123456789012:role/Admin}}}',
    );
  });

  it('prints lists and fixed arrays as [a, b, c]', () => {
    expect(render(listValue(['a', 'b', 'c']))).toBe('[a, b, c]');
    expect(render(listValue([]))).toBe('[]');
    expect(render(arrayValue([1, null, 3]))).toBe('[1, null, 3]');
    expect(render(listValue([structValue({ accountId: '1', ARN: 'arn:aws:s3:::b' })]))).toBe('[{accountid=1, arn=arn:aws:s3:::b}]');
  });

  it('prints maps as {key=value} and keeps key case', () => {
    const map = mapValue([
      { key: 'bucketName', value: 'my-bucket' },
      { key: 'Host', value: 'my-bucket.s3.amazonaws.com' },
      { key: 'acl', value: null },
    ]);
    expect(render(map)).toBe('{bucketName=my-bucket, Host=my-bucket.s3.amazonaws.com, acl=null}');
    expect(render(mapValue([]))).toBe('{}');
  });

  it('prints a union by its value', () => {
    expect(render(unionValue('n', 5))).toBe('5');
  });
});

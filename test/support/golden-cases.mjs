/**
 * The fixed export behind test/export.golden-bytes.test.ts: rows and the
 * export flags whose output bytes are kept in test/fixtures/golden/. Plain
 * JavaScript, so that the same cases can be run with an earlier build.
 */
export const GOLDEN_QUERY_ID = '9f0e8d7c-0000-4000-8000-00000000901d';

/** 400 CloudTrail-like rows over five days, with the nested fixture page's rows in among them. */
export function goldenRows(nested) {
  const regions = ['us-east-1', 'eu-west-1', 'ap-south-1'];
  const rows = [];
  for (let i = 0; i < 400; i++) {
    const ms = Date.UTC(2024, 4, 1) + Math.floor((i * 5 * 86_400_000) / 400);
    rows.push([
      { eventTime: new Date(ms).toISOString().replace('T', ' ').replace('Z', '') },
      { eventID: `e-${String(i).padStart(6, '0')}` },
      { eventName: i % 3 === 0 ? 'ConsoleLogin' : 'AssumeRole' },
      { awsRegion: regions[i % 3] },
      { readOnly: i % 2 ? 'true' : 'false' },
      { seq: String(i) },
      ...(i % 11 === 0 ? [] : [{ errorCode: i % 2 ? 'AccessDenied' : 'x/y=z%' }]),
      { arn: `arn:aws:iam::123456789012:user/u${i % 7}` },
      { arn: `arn:aws:sts::123456789012:assumed-role/r${i % 5}/s` },
    ]);
    if (i % 100 === 50) rows.push(...nested);
  }
  return rows;
}

export const GOLDEN_CASES = [
  { file: 'raw.ndjson', args: [] },
  { file: 'typed.ndjson', args: ['--types', 'typed'] },
  { file: 'typed-json.ndjson', args: ['--types', 'typed', '--nested', 'json'] },
  { file: 'raw.ndjson.gz', args: [] },
  { file: 'zstd.parquet', args: [] },
  { file: 'snappy-json.parquet', args: ['--compression', 'snappy', '--nested', 'json', '--column', 'seq:int64'] },
];

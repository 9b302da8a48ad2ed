import { describe, expect, it } from 'vitest';
import { escapeHiveValue, NULL_PARTITION, parsePartitionSpecs, partitionKeyType, partitionPath, settlePartitionLevels } from '../src/dataset/partition.js';
import { partitionValues } from '../src/dataset/write-dataset.js';
import { isDataFileOf } from '../src/dataset/manifest.js';

describe('partition specs', () => {
  it('names time grains after the column, and plain columns in lower case', () => {
    expect(parsePartitionSpecs(['eventTime:day'])).toEqual([{ key: 'eventdate', column: 'eventTime', grain: 'day' }]);
    expect(parsePartitionSpecs(['eventTime:month'])).toEqual([{ key: 'eventmonth', column: 'eventTime', grain: 'month' }]);
    expect(parsePartitionSpecs(['eventTime:hour']).map((l) => l.key)).toEqual(['eventdate', 'eventhour']);
    expect(parsePartitionSpecs(['ts:day', 'awsRegion']).map((l) => l.key)).toEqual(['ts_date', 'awsregion_part']);
    expect(parsePartitionSpecs(['dt=eventTime:day'])).toEqual([{ key: 'dt', column: 'eventTime', grain: 'day' }]);
  });

  it('refuses an unknown grain, a malformed spec and a key given twice', () => {
    expect(() => parsePartitionSpecs(['eventTime:week'])).toThrow(/grain must be hour, day, month/);
    expect(() => parsePartitionSpecs(['a=b=c'])).toThrow(/not COLUMN/);
    expect(() => parsePartitionSpecs(['eventTime:day', 'eventdate=awsRegion'])).toThrow(/'eventdate' is given twice/);
  });
});

describe('partition paths', () => {
  const levels = parsePartitionSpecs(['eventTime:hour', 'awsRegion']);
  it('derives UTC dates and hours from Lake timestamps and ISO-8601', () => {
    expect(partitionPath(levels, { eventTime: '2024-05-01 23:59:59.999', awsRegion: 'us-east-1' })).toBe('eventdate=2024-05-01/eventhour=23/awsregion_part=us-east-1');
    expect(partitionPath(levels, { eventTime: '2024-05-01T23:30:00+02:00', awsRegion: 'x' })).toBe('eventdate=2024-05-01/eventhour=21/awsregion_part=x');
  });

  it("puts missing values in Hive's default partition and escapes as Hive does", () => {
    expect(partitionPath(levels, { eventTime: null, awsRegion: '' })).toBe(`eventdate=${NULL_PARTITION}/eventhour=${NULL_PARTITION}/awsregion_part=${NULL_PARTITION}`);
    expect(escapeHiveValue('a/b=c%d:e#f\n')).toBe('a%2Fb%3Dc%25d%3Ae%23f%0A');
    expect(partitionValues('awsregion=a%2Fb%3Dc/eventdate=2024-05-01')).toEqual({ awsregion: 'a/b=c', eventdate: '2024-05-01' });
    expect(partitionValues(`eventdate=${NULL_PARTITION}/awsregion_part=%5F_HIVE_DEFAULT_PARTITION__`)).toEqual({ eventdate: null, awsregion_part: NULL_PARTITION });
  });

  it('refuses a timestamp that does not parse, naming the column', () => {
    expect(() => partitionPath(levels, { eventTime: 'yesterday', awsRegion: 'x' })).toThrow(/column eventTime: "yesterday" is not a timestamp/);
  });
});

describe('data file names', () => {
  it('tells the files of one key from those of another', () => {
    expect(isDataFileOf('eventdate=2024-05-01/part-00003-abc.parquet', 'abc')).toBe(true);
    expect(isDataFileOf('part-00000-abc.ndjson.gz', 'abc')).toBe(true);
    expect(isDataFileOf('part-00000-abcd.parquet', 'abc')).toBe(false);
    expect(isDataFileOf('_manifest.json', 'abc')).toBe(false);
  });
});

describe('partition keys against the settled columns', () => {
  const columns = [
    { source: 'eventtime', name: 'eventtime' },
    { source: 'awsregion', name: 'awsregion' },
    { source: 'eventdate', name: 'eventdate' },
  ];

  it('matches a column spelled in another case, as Lake matches names', () => {
    const [level] = settlePartitionLevels(parsePartitionSpecs(['awsRegion']), columns);
    expect(level).toEqual({ key: 'awsregion_part', column: 'awsregion', grain: undefined });
  });

  it('refuses a key that is also a column name, naming the fix', () => {
    expect(() => settlePartitionLevels(parsePartitionSpecs(['eventTime:day']), columns)).toThrow(
      "the partition key 'eventdate' is also the name of a column; name the key yourself, e.g. eventdate_part=eventTime:day",
    );
    expect(() => settlePartitionLevels(parsePartitionSpecs(['AwsRegion=eventTime:day']), columns)).toThrow("'awsregion' is also the name");
  });

  it('types day keys as dates and hour keys as integers', () => {
    expect(parsePartitionSpecs(['eventTime:hour', 'eventTime:month', 'awsRegion']).map(partitionKeyType)).toEqual(['date', 'int', 'string', 'string']);
  });
});

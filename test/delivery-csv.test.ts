import { Readable } from 'node:stream';
import { createGzip, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { isCtlakeError } from '../src/errors.js';
import { deliveredRows, type DeliveredRowsOptions } from '../src/rows/delivery-csv.js';
import { flattenRow } from '../src/rows/flatten-row.js';
import type { QueryResultRow } from '../src/lake-model.js';
import { csvText, type CsvLayout } from './support/delivery.js';

async function rowsOf(bytes: Buffer, options: DeliveredRowsOptions = {}): Promise<QueryResultRow[]> {
  const rows: QueryResultRow[] = [];
  // Small chunks: records and quotes split across them.
  const chunks = Array.from({ length: Math.ceil(bytes.length / 5) }, (_, i) => bytes.subarray(i * 5, i * 5 + 5));
  for await (const batch of deliveredRows(Readable.from(chunks), options)) rows.push(...batch);
  return rows;
}

const gz = (text: string) => gzipSync(Buffer.from(text, 'utf8'));

async function failureOf(bytes: Buffer, options: DeliveredRowsOptions = {}) {
  try {
    await rowsOf(bytes, options);
  } catch (error) {
    return error;
  }
  throw new Error('expected a failure');
}

const HEADER = ['eventname', 'arn', 'arn', 'requestparameters', '__proto__', 'constructor'];
const VALUES: Array<Array<string | null>> = [
  ['Get,Object', 'arn:aws:iam::1:user/a', 'arn:aws:iam::1:role/b', '{bucketName=b, key="x"}', 'p', 'c'],
  ['line\nbreak\r\nand CR\r', null, '', 'say ""hi""', null, ''],
  ['ünïcödé ✓ 𝄞 日本', '"', ',', ' spaced ', 'x', null],
  [null, null, null, null, null, null],
  ['2023-01-22 16:53:53.000', 'a', 'b', '[{k=v}]', '', ''],
];
const EXPECTED: QueryResultRow[] = VALUES.map((row) => row.flatMap((value, i) => (value === null ? [] : [{ [HEADER[i]!]: value }])));

describe('deliveredRows', () => {
  it('reads awkward values back: commas, quotes, newlines, unicode, empty and null, two arn, __proto__', async () => {
    const rows = await rowsOf(gz(csvText(HEADER, VALUES)));
    expect(rows).toEqual(EXPECTED);
    // Two `arn` kept in order, and flattened as a page's cells are.
    expect(flattenRow(rows[0]!).map(([name]) => name)).toEqual(['eventname', 'arn', 'arn_2', 'requestparameters', '__proto__', 'constructor']);
    // `__proto__` is an own key of an ordinary object, as JSON.parse makes it; the prototype is untouched.
    const cell = rows[0]![4]!;
    expect(Object.getPrototypeOf(cell)).toBe(Object.prototype);
    expect(Object.keys(cell)).toEqual(['__proto__']);
    expect(Object.getOwnPropertyDescriptor(cell, '__proto__')?.value).toBe('p');
    expect(({} as Record<string, unknown>).p).toBeUndefined();
    // A row of nulls is a row with no cells.
    expect(rows[3]).toEqual([]);
  });

  for (const [name, layout] of [
    ['CRLF line ends', { crlf: true }],
    ['a UTF-8 BOM', { bom: true }],
    ['quoted header names', { quoteHeader: true }],
    ['all three', { crlf: true, bom: true, quoteHeader: true }],
  ] as Array<[string, CsvLayout]>) {
    it(`reads ${name}`, async () => {
      expect(await rowsOf(gz(csvText(HEADER, VALUES, layout)))).toEqual(EXPECTED);
    });
  }

  it('reads nulls written as "": as empty strings, or as nulls with quotedEmpty null', async () => {
    const bytes = gz(csvText(['a', 'b'], [['x', null], [null, '']], { nullsQuoted: true }));
    expect(await rowsOf(bytes)).toEqual([[{ a: 'x' }, { b: '' }], [{ a: '' }, { b: '' }]]);
    expect(await rowsOf(bytes, { quotedEmpty: 'null' })).toEqual([[{ a: 'x' }], []]);
  });

  it('reads a one-column null as an empty line, and a file of only a header as no rows', async () => {
    expect(await rowsOf(gz('a\nx\n\n""\n'))).toEqual([[{ a: 'x' }], [], [{ a: '' }]]);
    expect(await rowsOf(gz('a,b\n'))).toEqual([]);
    expect(await rowsOf(gz(''))).toEqual([]);
    expect(await rowsOf(Buffer.from('a\n1\n'), { gzip: false })).toEqual([[{ a: '1' }]]);
  });

  it('refuses a malformed file, naming the file and the line', async () => {
    const cases: Array<[string, RegExp]> = [
      ['a,b\n1,2\n3\n', /^result_7\.csv\.gz: not the CSV Lake delivers, at line 3: a record has another number of fields than the header$/],
      ['a,b\n1,"open\n2,3\n', /^result_7\.csv\.gz: not the CSV Lake delivers, at line \d+: a quoted field is not closed by the end of the file$/],
      ['a,b\n1,"x"y\n', /^result_7\.csv\.gz: not the CSV Lake delivers, at line 2: a closing quote is followed by/],
    ];
    for (const [text, message] of cases) {
      const error = await failureOf(gz(text), { fileName: 'result_7.csv.gz' });
      expect(isCtlakeError(error, 'UNEXPECTED_RESPONSE'), text).toBe(true);
      expect((error as Error).message).toMatch(message);
    }
    // Values never reach the message: they may be anything the query returned.
    const secret = await failureOf(gz('a,b\n1,"x"secret-value\n'), { fileName: 'f' });
    expect((secret as Error).message).not.toContain('secret-value');
  });

  it('refuses bytes that are not gzip, and a cut gzip file', async () => {
    const notGzip = await failureOf(Buffer.from('a,b\n1,2\n'), { fileName: 'result_1.csv.gz' });
    expect(isCtlakeError(notGzip, 'UNEXPECTED_RESPONSE')).toBe(true);
    expect((notGzip as Error).message).toMatch(/^result_1\.csv\.gz: not a gzip file/);
    const whole = gz(csvText(['a'], Array.from({ length: 1000 }, (_, i) => [`row ${i}`])));
    const cut = await failureOf(whole.subarray(0, whole.length - 20), { fileName: 'result_1.csv.gz' });
    expect((cut as Error).message).toMatch(/^result_1\.csv\.gz: not a gzip file/);
  });

  it('checks batchSize', async () => {
    await expect(rowsOf(gz('a\n'), { batchSize: 0 })).rejects.toThrow(/Invalid option batchSize: 0/);
  });

  it('streams a 200,000-row file in batches, reading ahead a bounded number of rows', async () => {
    const total = 200_000;
    const wide = 'x'.repeat(100);
    let made = 0;
    // Made as it is read, never held whole: some 25 MB of CSV.
    async function* csv() {
      yield 'seq,eventname,"request,parameters"\n';
      for (let i = 0; i < total; i += 100) {
        let chunk = '';
        for (let j = i; j < i + 100; j++) chunk += `${j},"Get""Object",${j % 7 === 0 ? '' : `"${wide},${j}"`}\n`;
        made = i + 100;
        yield chunk;
      }
    }
    const source = Readable.from(csv()).pipe(createGzip());
    let rows = 0;
    let batches = 0;
    let largest = 0;
    let lead = 0;
    for await (const batch of deliveredRows(source, { batchSize: 1000 })) {
      batches++;
      largest = Math.max(largest, batch.length);
      lead = Math.max(lead, made - rows);
      for (const row of batch) {
        const seq = Number(row[0]!.seq);
        if (seq !== rows) throw new Error(`row ${rows} has seq ${seq}`);
        if (row[1]!.eventname !== 'Get"Object') throw new Error(`row ${rows}: ${JSON.stringify(row)}`);
        if (seq % 7 === 0 ? row.length !== 2 : row[2]!['request,parameters'] !== `${wide},${seq}`) throw new Error(`row ${rows}: ${JSON.stringify(row)}`);
        rows++;
      }
    }
    expect(rows).toBe(total);
    expect(batches).toBe(200);
    expect(largest).toBe(1000);
    // Backpressure holds: what is made ahead of what is read is the streams' buffers, not the file.
    expect(lead).toBeLessThan(20_000);
  });

  it('stops with INTERRUPTED when aborted', async () => {
    const controller = new AbortController();
    const source = Readable.from([gz(csvText(['a'], Array.from({ length: 5000 }, (_, i) => [String(i)])))]);
    const reading = (async () => {
      for await (const _ of deliveredRows(source, { batchSize: 10, signal: controller.signal })) controller.abort();
    })();
    await expect(reading).rejects.toMatchObject({ code: 'INTERRUPTED' });
    expect(source.destroyed).toBe(true);
  });

  it('stops reading when the consumer stops', async () => {
    const source = Readable.from([gz(csvText(['a'], Array.from({ length: 5000 }, (_, i) => [String(i)])))]);
    for await (const batch of deliveredRows(source, { batchSize: 10 })) {
      expect(batch).toHaveLength(10);
      break;
    }
    expect(source.destroyed).toBe(true);
  });
});

describe('deliveredRows: the comment line a real delivery may open with', () => {
  it("skips # lines before the header (the AWS CLI's sample opens with `# Execution Time: ... Query Statement: ...`), and keeps a # in the rows", async () => {
    const text = '# Execution Time: 1.2s Query Statement: SELECT eventName, "x" FROM eds WHERE a = \'1,2\'\r\neventname,note\r\nGetObject,#1\r\n#2,ok\r\n';
    const rows = await rowsOf(gz(text));
    expect(rows).toEqual([
      [{ eventname: 'GetObject' }, { note: '#1' }],
      [{ eventname: '#2' }, { note: 'ok' }],
    ]);
    const bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('# c\neventname\nx\n')]);
    expect(await rowsOf(gzipSync(bom))).toEqual([[{ eventname: 'x' }]]);
    expect(await rowsOf(gz('# only a comment'))).toEqual([]);
  });
});

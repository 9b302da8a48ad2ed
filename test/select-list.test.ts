import { existsSync } from 'node:fs';
import { TrinoSqlLexer, TrinoSqlParser } from '#trino-sql';
import { describe, expect, it } from 'vitest';
import { lakeSchema } from '../src/rows/lake-schema.js';
import { formatLakeType } from '../src/rows/lake-type.js';
import { MAX_QUERY_LENGTH, outputColumns, type SelectItem } from '../src/rows/select-items.js';
import { parseSelectList } from '../src/rows/select-list.js';
import { lexQuery, tokenSelectList } from '../src/rows/select-star.js';

const ID = 'EXAMPLEf852-4e8f-8bd1-bcf6cEXAMPLE';
const ID2 = 'EXAMPLEg741-6y1x-9p3v-bnh6iEXAMPLE';
const ARN = `arn:aws:cloudtrail:us-east-1:123456789012:eventdatastore/${ID}`;
const events = lakeSchema('cloudtrail-events');

function parsed(sql: string): { items: SelectItem[]; storeRefs: string[] } {
  const list = parseSelectList(sql);
  if (!list.ok) throw new Error(`expected ok, got: ${list.reason}`);
  return list;
}

/** [key, type text or null] for each output column, typed by the CloudTrail events schema. */
function columns(sql: string): Array<[string, string | null]> | null {
  const out = outputColumns(parsed(sql).items, events);
  return out === null ? null : out.map((c) => [c.key, c.type === null ? null : formatLakeType(c.type)]);
}

function refusal(sql: string): string {
  const list = parseSelectList(sql);
  if (list.ok) throw new Error(`expected a refusal for ${sql.slice(0, 80)}`);
  return list.reason;
}

describe('parseSelectList: Lake sample queries', () => {
  it('SELECT * over a bare store id expands to the published columns in order', () => {
    const { items, storeRefs } = parsed(`SELECT * FROM ${ID} WHERE eventtime >= '2023-01-05 13:51:00' AND eventtime < '2023-01-19 13:51:00'`);
    expect(items).toEqual([{ kind: 'all', qualifier: null, store: 0 }]);
    expect(storeRefs).toEqual([ID]);
    const out = outputColumns(items, events)!;
    expect(out.map((c) => c.key)).toEqual(events.columns.map((c) => c.name));
    expect(out.every((c) => c.item === 0)).toBe(true);
    expect(out.find((c) => c.key === 'eventtime')?.type).toEqual({ kind: 'timestamp' });
  });

  it('a star needs a schema, and a star over what the SQL does not describe cannot be expanded', () => {
    expect(outputColumns(parsed(`SELECT * FROM ${ID}`).items, null)).toBeNull();
    expect(columns(`SELECT * FROM ${ID} CROSS JOIN UNNEST(resources) AS r(res)`)).toBeNull();
    expect(columns(`SELECT t.* FROM ${ID} e, UNNEST(resources) AS t(res)`)).toBeNull();
  });

  it('names fields by their last step as written, aliases as written, other expressions _colN', () => {
    expect(
      columns(
        `SELECT eventTime, useridentity.sessioncontext.sessionissuer.arn, userIdentity.arn, "eventName" AS "Name", eventSource src, count(*), ` +
          `sourceIPAddress AS ip FROM ${ID} WHERE eventName = 'ConsoleLogin' GROUP BY 1, 2, 3, 4, 5, 7 ORDER BY 6 DESC LIMIT 10`,
      ),
    ).toEqual([
      ['eventTime', 'timestamp'],
      ['arn', 'string'],
      ['arn', 'string'],
      ['Name', 'string'],
      ['src', 'string'],
      ['_col5', 'bigint'],
      ['ip', 'string'],
    ]);
  });

  it('reads the top-users sample: GROUP BY an expression, ORDER BY an alias', () => {
    expect(
      columns(
        `SELECT userIdentity.arn AS user, COUNT(*) AS total FROM ${ID} WHERE eventTime >= '2023-06-01 00:00:00' ` +
          `AND eventTime <= '2023-06-30 00:00:00' GROUP BY userIdentity.arn ORDER BY total DESC LIMIT 10`,
      ),
    ).toEqual([
      ['user', 'string'],
      ['total', 'bigint'],
    ]);
  });

  it('reads SELECT DISTINCT and lower-case keywords', () => {
    expect(columns(`select distinct eventSource, awsRegion from ${ID} where readOnly = false`)).toEqual([
      ['eventSource', 'string'],
      ['awsRegion', 'string'],
    ]);
    expect(columns(`SeLeCt EventName FrOm ${ID}`)).toEqual([['EventName', 'string']]);
  });

  it('types subscripts and element_at from the schema: map values and array elements', () => {
    expect(
      columns(
        `SELECT requestparameters['bucketName'], element_at(requestparameters, 'key') AS k, resources[1].arn, element_at(resources, 1).arn, ` +
          `element_at(resources, 1) AS r, resources[1].accountid AS acct FROM ${ID} WHERE eventsource = 's3.amazonaws.com'`,
      ),
    ).toEqual([
      ['_col0', 'string'],
      ['k', 'string'],
      ['arn', 'string'],
      ['arn', 'string'],
      ['r', 'struct<accountid:string,type:string,arn:string,arnprefix:string>'],
      ['acct', 'string'],
    ]);
  });

  it('types CAST and TRY_CAST by the target type, aggregates where obvious, literals by their kind', () => {
    expect(
      columns(
        `SELECT CAST(eventtime AS varchar), TRY_CAST(json_extract_scalar(additionaleventdata['x'], '$.n') AS bigint) AS n, ` +
          `CAST(resources AS array(row(arn varchar))) AS arns, CAST(x AS map(varchar, double)) m, CAST(x AS decimal(10, 2)) d, ` +
          `count(eventid), count_if(readonly), approx_distinct(sourceipaddress), min(eventtime), max(eventtime) AS last, avg(1), sum(1), ` +
          `'text', 42, 1.5, true, NULL, TIMESTAMP '2023-01-01 00:00:00' FROM ${ID}`,
      ),
    ).toEqual([
      ['_col0', 'string'],
      ['n', 'bigint'],
      ['arns', 'array<struct<arn:string>>'],
      ['m', 'map<string,double>'],
      ['d', null],
      ['_col5', 'bigint'],
      ['_col6', 'bigint'],
      ['_col7', 'bigint'],
      ['_col8', 'timestamp'],
      ['last', 'timestamp'],
      ['_col10', 'double'],
      ['_col11', 'bigint'],
      ['_col12', 'string'],
      ['_col13', 'int'],
      ['_col14', 'double'],
      ['_col15', 'boolean'],
      ['_col16', null],
      ['_col17', 'timestamp'],
    ]);
  });

  it('keeps a timestamp-literal WHERE, date functions and string functions', () => {
    expect(
      columns(
        `SELECT date_trunc('day', eventtime) AS day, lower(eventname) AS name, from_iso8601_timestamp('2023-01-01T00:00:00Z') t ` +
          `FROM ${ID} WHERE eventtime > TIMESTAMP '2023-01-01 00:00:00' AND eventtime < from_iso8601_timestamp('2023-02-01T00:00:00Z')`,
      ),
    ).toEqual([
      ['day', 'timestamp'],
      ['name', 'string'],
      ['t', 'timestamp'],
    ]);
  });

  it('keeps quoted identifiers exactly, without quotes, doubled quotes read once', () => {
    expect(columns(`SELECT "EventName", "odd""name" FROM ${ID}`)).toEqual([
      ['EventName', 'string'],
      ['odd"name', null],
    ]);
  });

  it('takes names from data as data: __proto__ and constructor are ordinary', () => {
    expect(columns(`SELECT "__proto__", eventname AS "constructor", eventid AS toString FROM ${ID}`)).toEqual([
      ['__proto__', null],
      ['constructor', 'string'],
      ['toString', 'string'],
    ]);
  });

  it('reads an ARN as FROM target, and a double-quoted id', () => {
    expect(parsed(`SELECT eventid FROM ${ARN} WHERE eventname = 'x'`).storeRefs).toEqual([ARN]);
    expect(parsed(`SELECT eventid FROM "${ID}"`).storeRefs).toEqual([ID]);
    const gov = `arn:aws-us-gov:cloudtrail:us-gov-west-1:123456789012:eventdatastore/${ID2}`;
    expect(parsed(`SELECT eventid FROM ${gov}`).storeRefs).toEqual([gov]);
    expect(parsed('SELECT eventid FROM eds-ID').storeRefs).toEqual(['eds-ID']);
  });

  it('leaves comments and string literals alone, FROM and ids inside them included', () => {
    const sql = `-- FROM ${ID2}\nSELECT eventname, 'FROM ${ID2}' AS s /* FROM ${ID2} */ FROM /* the store */ ${ID} -- trailing\n WHERE eventname <> 'x FROM y-z'`;
    const { storeRefs } = parsed(sql);
    expect(storeRefs).toEqual([ID]);
    expect(columns(sql)).toEqual([
      ['eventname', 'string'],
      ['s', 'string'],
    ]);
  });

  it('does not take FROM in EXTRACT, SUBSTRING, TRIM or IS DISTINCT FROM for a relation', () => {
    const sql = `SELECT extract(year FROM eventtime) AS y, substring(eventname FROM 2) AS s FROM ${ID} WHERE eventname IS DISTINCT FROM errorcode`;
    expect(parsed(sql).storeRefs).toEqual([ID]);
    expect(columns(sql)).toEqual([
      ['y', 'bigint'],
      ['s', 'string'],
    ]);
  });

  it('JOINs across two stores: the fields drop their table alias; both stores are listed', () => {
    const sql = `SELECT e.eventname, c.eventid AS other, e.useridentity.arn FROM ${ID} e INNER JOIN ${ARN.replace(ID, ID2)} AS c ON e.eventid = c.eventid`;
    const { items, storeRefs } = parsed(sql);
    expect(storeRefs).toEqual([ID, ARN.replace(ID, ID2)]);
    expect(items[0]).toEqual({ kind: 'field', path: ['eventname'], alias: null });
    expect(columns(sql)).toEqual([
      ['eventname', 'string'],
      ['other', 'string'],
      ['arn', 'string'],
    ]);
  });

  it('expands a.* and an unqualified star over a join store by store', () => {
    expect(parsed(`SELECT a.*, b.eventid FROM ${ID} a LEFT JOIN ${ID2} b ON a.eventid = b.eventid`).items[0]).toEqual({ kind: 'all', qualifier: 'a', store: 0 });
    const both = parsed(`SELECT * FROM ${ID} a JOIN ${ID2} b ON a.eventid = b.eventid`).items;
    expect(both).toEqual([
      { kind: 'all', qualifier: null, store: 0 },
      { kind: 'all', qualifier: null, store: 1 },
    ]);
    expect(outputColumns(both, events)).toHaveLength(2 * events.columns.length);
  });

  it('names a UNION by its leftmost SELECT, and lists every store', () => {
    const third = 'EXAMPLEb529-4e8f9l3d-6m2z-lkp5sEXAMPLE';
    const sql = `Select eventId, eventName from ${ID} UNION Select eventId, eventName from ${ID2} UNION ALL Select eventId AS x, eventName from ${third} ORDER BY eventId`;
    expect(parsed(sql).storeRefs).toEqual([ID, ID2, third]);
    expect(columns(sql)).toEqual([
      ['eventId', 'string'],
      ['eventName', 'string'],
    ]);
  });

  it('resolves WITH and subqueries in FROM: stars, renamed columns and fields read through them', () => {
    expect(columns(`WITH t AS (SELECT eventname, count(*) AS n FROM ${ID} GROUP BY 1) SELECT * FROM t ORDER BY n DESC`)).toEqual([
      ['eventname', 'string'],
      ['n', 'bigint'],
    ]);
    expect(columns(`WITH t (name, total) AS (SELECT eventname, count(*) FROM ${ID} GROUP BY 1) SELECT * FROM t`)).toEqual([
      ['name', 'string'],
      ['total', 'bigint'],
    ]);
    expect(columns(`SELECT * FROM (SELECT * FROM ${ID} WHERE eventname = 'x')`)).toHaveLength(events.columns.length);
    expect(columns(`SELECT arn, who FROM (SELECT useridentity.arn, useridentity.username AS who FROM ${ID}) AS s`)).toEqual([
      ['arn', 'string'],
      ['who', 'string'],
    ]);
    expect(columns(`SELECT s.n, s.t FROM (SELECT count(*) AS n, max(eventtime) AS t FROM ${ID}) s`)).toEqual([
      ['n', 'bigint'],
      ['t', 'timestamp'],
    ]);
    expect(columns(`WITH a AS (SELECT * FROM ${ID}), b AS (SELECT eventname FROM a) SELECT b.* FROM b`)).toEqual([['eventname', 'string']]);
    expect(columns(`SELECT eventname FROM (SELECT * FROM ${ID})`)).toEqual([['eventname', 'string']]);
  });

  it('lists the stores of WHERE subqueries', () => {
    expect(parsed(`SELECT eventid FROM ${ID} WHERE eventid IN (SELECT eventid FROM ${ID2} WHERE readonly)`).storeRefs).toEqual([ID, ID2]);
  });

  it('lists each store once, without regard to case', () => {
    expect(parsed(`SELECT a.eventid FROM ${ID} a JOIN ${ID.toLowerCase()} b ON a.eventid = b.eventid`).storeRefs).toEqual([ID]);
  });

  it('keeps the path of a field and the item index in the output columns', () => {
    const out = outputColumns(parsed(`SELECT eventname, *, useridentity.arn AS who FROM ${ID}`).items, events)!;
    expect(out[0]).toEqual({ key: 'eventname', type: { kind: 'string' }, path: ['eventname'], item: 0 });
    expect(out[out.length - 1]).toEqual({ key: 'who', type: { kind: 'string' }, path: ['useridentity', 'arn'], item: 2 });
    expect(out[1]!.item).toBe(1);
  });

  it('reads unknown columns and other store types as untyped', () => {
    expect(columns(`SELECT eventData.configuration.configurationItemStatus AS s, nothing FROM ${ID}`)).toEqual([
      ['s', null],
      ['nothing', null],
    ]);
  });

  it('reads a comma-separated FROM list of stores', () => {
    const sql = `SELECT a.eventid, b.eventname FROM ${ID} a, ${ID2} AS b WHERE a.eventid = b.eventid`;
    expect(parsed(sql).storeRefs).toEqual([ID, ID2]);
    expect(columns(sql)).toEqual([
      ['eventid', 'string'],
      ['eventname', 'string'],
    ]);
  });

  it('reads a SELECT without FROM and TABLE over a store', () => {
    expect(parsed('SELECT 1, \'a\' AS s')).toEqual({
      items: [
        { kind: 'expression', alias: null, type: { kind: 'int' }, name: null, typeRef: null },
        { kind: 'expression', alias: 's', type: { kind: 'string' }, name: null, typeRef: null },
      ],
      storeRefs: [],
      ok: true,
    });
    expect(parsed(`TABLE ${ID}`).items).toEqual([{ kind: 'all', qualifier: null, store: 0 }]);
  });

  it('accepts one statement with its semicolon', () => {
    expect(columns(`SELECT eventname FROM ${ID};`)).toEqual([['eventname', 'string']]);
  });
});

describe('parseSelectList: refusals', () => {
  it('refuses bad SQL with a short reason', () => {
    expect(refusal('SELEC * FROM x')).toMatch(/syntax error at line 1:1/);
    expect(refusal(`SELECT * FROM ${ID} WHERE`)).toMatch(/syntax error/);
    expect(refusal('SELECT eventname FROM')).toMatch(/syntax error/);
    expect(refusal("SELECT 'unterminated FROM x")).toMatch(/syntax error/);
    expect(refusal('')).toBe('no statement');
    expect(refusal('-- only a comment')).toBe('no statement');
  });

  it('refuses several statements and anything but SELECT', () => {
    expect(refusal(`SELECT 1 FROM ${ID}; SELECT 2 FROM ${ID}`)).toMatch(/several statements/);
    expect(refusal('INSERT INTO x SELECT * FROM y')).toBe('not a SELECT statement');
    expect(refusal('DROP TABLE x')).toBe('not a SELECT statement');
    expect(refusal(`DELETE FROM ${ID}`)).toBe('not a SELECT statement');
    expect(refusal('EXPLAIN SELECT 1')).toBe('not a SELECT statement');
    expect(refusal('VALUES (1, 2)')).toMatch(/no select list/);
  });

  it('refuses Trino errors the grammar lets through: backquotes, names starting with a digit, the reserved placeholder', () => {
    expect(refusal('SELECT `a` FROM x')).toMatch(/backquoted/);
    expect(refusal('SELECT 1a FROM x')).toMatch(/digit|syntax/);
    expect(refusal('SELECT * FROM __ctlake_store_0')).toMatch(/reserves/);
  });

  it("refuses a query longer than Lake's limit without parsing it", () => {
    const sql = `SELECT eventname FROM ${ID} WHERE eventname = '${'x'.repeat(MAX_QUERY_LENGTH)}'`;
    expect(refusal(sql)).toMatch(/longer than Lake's 10000/);
  });

  it('cuts every reason to 200 characters', () => {
    const reason = refusal(`SELECT * FROM ${ID} WHERE ${'a '.repeat(2000)}`);
    expect(reason.length).toBeLessThanOrEqual(200);
  });

  it('refuses nesting deeper than the parser copes with, quickly and without a crash', () => {
    const started = Date.now();
    expect(refusal(`SELECT ${'('.repeat(4990)}1${')'.repeat(4990)} FROM x`)).toMatch(/nests deeper/);
    expect(refusal('('.repeat(MAX_QUERY_LENGTH))).toMatch(/nests deeper/);
    expect(refusal(`${')'.repeat(5000)}${'('.repeat(4999)}`)).toMatch(/nests deeper/);
    expect(refusal(`SELECT ${'CASE WHEN a THEN '.repeat(300)}1${' END'.repeat(300)} FROM x`)).toMatch(/nests deeper/);
    expect(refusal(`SELECT ${'- '.repeat(4990)}1 FROM x`)).toMatch(/nests too deeply|syntax error/);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('parses hostile queries up to the limit in bounded time', () => {
    const fill = (head: string, unit: string, tail: string) => head + unit.repeat(Math.floor((MAX_QUERY_LENGTH - head.length - tail.length) / unit.length)) + tail;
    for (const sql of [
      `SELECT ${'(SELECT '.repeat(60)}1${')'.repeat(60)} FROM x`,
      fill('SELECT a', ',a', ' FROM x'),
      fill('SELECT a', '.b', ' FROM x'),
      fill("SELECT * FROM x WHERE a IN ('1'", ",'1'", ')'),
      fill('SELECT * FROM x WHERE a = 1', ' AND a = 1', ''),
      fill('SELECT ', '#@! ', ''),
      ';'.repeat(MAX_QUERY_LENGTH),
    ]) {
      const started = Date.now();
      const list = parseSelectList(sql);
      expect(Date.now() - started).toBeLessThan(4_500);
      if (!list.ok) expect(list.reason.length).toBeLessThanOrEqual(200);
    }
  }, 60_000);
});

describe('the vendored Trino parser (#trino-sql)', () => {
  it('loads by its package.json "imports" name, with dt-sql-parser\'s licence beside it', () => {
    expect(typeof TrinoSqlLexer).toBe('function');
    expect(typeof TrinoSqlParser).toBe('function');
    expect(existsSync(new URL('../dist/vendor/trino-sql/LICENSE', import.meta.url))).toBe(true);
  });
});

describe('parseSelectList: SELECT * FROM one store, answered from the tokens', () => {
  const STAR = [
    `SELECT * FROM ${ID}`,
    `SELECT * FROM ${ARN} ORDER BY eventTime`,
    `select * from "${ID}" where eventTime >= '2024-01-01 00:00:00' AND eventTime < '2024-01-02 00:00:00'`,
    `SELECT * FROM ${ID} WHERE eventName IN ('a', 'b') ORDER BY eventTime DESC LIMIT 5`,
    `SELECT * FROM ${ID} -- a comment\n WHERE /* another */ eventTime > timestamp '2024-01-01 00:00:00'`,
    `SELECT * FROM ${ID} WHERE eventName = 'SELECT * FROM x; __ctlake_store_1'`,
    `SELECT * FROM ${ID} WHERE 10 < "eventVersion" ORDER BY eventTime ASC, eventName DESC LIMIT 1000`,
  ];
  // Each has SELECT, FROM, JOIN, WITH, a set operation, a second store, an alias or `;` where the shortcut must not answer.
  const OTHERS = [
    `SELECT * FROM ${ID} WHERE eventID IN (SELECT eventID FROM ${ID2})`,
    `SELECT * FROM ${ID} a JOIN ${ID2} b ON a.eventID = b.eventID`,
    `SELECT * FROM ${ID} UNION ALL SELECT * FROM ${ID2}`,
    `SELECT * FROM ${ID}, ${ID2}`,
    `SELECT * FROM ${ID};`,
    `SELECT * FROM ${ID} AS x WHERE x.eventName = 'a'`,
    `SELECT *, eventName FROM ${ID}`,
    `SELECT * FROM ${ID} CROSS JOIN UNNEST(resources) AS t(r)`,
    `WITH c AS (SELECT * FROM ${ID}) SELECT * FROM c`,
    `SELECT * FROM (SELECT eventName FROM ${ID})`,
    `SELECT * FROM ${ID} WHERE EXISTS (VALUES 1)`,
    `SELECT * FROM ${ID} WHERE eventName = 'a' OR eventName = 'b'`,
    `SELECT * FROM ${ID} WHERE`,
    `SELECT * FROM ${ID} ORDER BY`,
    `SELECT * FROM ${ID} WHERE eventTime > '2024-01-01' AND`,
    `SELECT * FROM ${ID} LIMIT`,
    `SELECT * FROM ${ID} ORDER BY eventTime NULLS FIRST`,
  ];

  it("gives the parser's answer, store and all, for the shapes it takes and the ones it leaves to the parser", () => {
    for (const sql of [...STAR, ...OTHERS]) expect(parseSelectList(sql), sql).toEqual(parseSelectList(sql, { parser: 'always' }));
    for (const sql of STAR) expect(parsed(sql).items, sql).toEqual([{ kind: 'all', qualifier: null, store: 0 }]);
  });

  it('answers those shapes from the lexer alone (rows/select-star.ts), and leaves every near miss to the parser', () => {
    // All but `IN (...)`, which is the store's star too, but not a comparison with a literal.
    for (const sql of STAR) expect(tokenSelectList(lexQuery(sql)), sql).toEqual(sql.includes(' IN (') ? undefined : parseSelectList(sql, { parser: 'always' }));
    for (const sql of OTHERS) expect(tokenSelectList(lexQuery(sql)), sql).toBeUndefined();
    // The bounds before any parse are the tokens' too.
    expect(tokenSelectList(lexQuery('x'.repeat(MAX_QUERY_LENGTH + 1)))).toEqual({ ok: false, reason: "the query is longer than Lake's 10000 characters" });
    expect(tokenSelectList(lexQuery(42))).toEqual({ ok: false, reason: 'the query is not a string' });
    expect(tokenSelectList(lexQuery(`SELECT * FROM ${ID} WHERE ${'('.repeat(65)}1${')'.repeat(65)} = 1`))).toMatchObject({ ok: false, reason: expect.stringContaining('nests deeper') });
  });

  it('is the reason a migrate slice and an export of SELECT * skip the parse: the columns are the published ones', () => {
    expect(columns(`SELECT * FROM ${ID} WHERE eventTime >= '2024-01-01 00:00:00' AND eventTime < '2024-01-01 01:00:00'`)).toEqual(columns(`SELECT * FROM ${ID}`));
    expect(parsed(`SELECT * FROM "${ARN}" ORDER BY eventTime`).storeRefs).toEqual([ARN]);
  });
});

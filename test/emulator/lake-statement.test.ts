import { describe, expect, it } from 'vitest';
import {
  lakeErrorMessage,
  outputColumnNames,
  resolveEventDataStore,
  serializeSqlQuery,
  statementProblem,
} from '../../src/emulator/lake-statement.js';

const id = '00000000-0000-4000-8000-0000000ed500';
const arn = `arn:aws:cloudtrail:us-east-1:123456789012:eventdatastore/${id}`;
const store = { id, arn };
const resolve = (sql: string) => resolveEventDataStore(sql, store, 'eds');

describe('resolveEventDataStore', () => {
  it('rewrites a bare or quoted id, in any case, keeping an alias', () => {
    expect(resolve(`SELECT * FROM ${id}`)).toEqual({ sql: 'SELECT * FROM "eds"' });
    expect(resolve(`SELECT * FROM ${id.toUpperCase()} e WHERE e.x = 1`)).toEqual({ sql: 'SELECT * FROM "eds" e WHERE e.x = 1' });
    expect(resolve(`SELECT * FROM "${id}" AS e`)).toEqual({ sql: 'SELECT * FROM "eds" AS e' });
  });

  it('rewrites the ARN, bare or quoted', () => {
    expect(resolve(`SELECT 1 FROM ${arn}\nLIMIT 1`)).toEqual({ sql: 'SELECT 1 FROM "eds"\nLIMIT 1' });
    expect(resolve(`SELECT 1 FROM "${arn}"`)).toEqual({ sql: 'SELECT 1 FROM "eds"' });
  });

  it('leaves string literals, other quoted identifiers and comments alone', () => {
    const sql = `SELECT '${id}', 'it''s ${arn}' AS "${id}x" -- ${id}\nFROM ${id} /* ${arn} */`;
    expect(resolve(sql)).toEqual({ sql: `SELECT '${id}', 'it''s ${arn}' AS "${id}x" -- ${id}\nFROM "eds" /* ${arn} */` });
  });

  it('refuses another event data store', () => {
    const other = '11111111-2222-4333-8444-555555555555';
    expect(resolve(`SELECT * FROM ${other}`).error).toBe(
      `Event data store ${other} does not exist or is not accessible from this account and region.`,
    );
    expect(resolve(`SELECT * FROM ${arn.replace('us-east-1', 'eu-west-1')}`).error).toMatch(/^Event data store arn:aws:cloudtrail:eu-west-1:/);
  });
});

describe('statementProblem', () => {
  it('passes one SELECT and words the rest', () => {
    expect(statementProblem({ error: false, statements: [{ node: { type: 'SELECT_NODE' } }] })).toBeUndefined();
    expect(statementProblem({ error: true, error_type: 'parser', error_message: 'syntax error at end of input' })).toBe(
      'Parser Error: syntax error at end of input',
    );
    expect(statementProblem({ error: true, error_type: 'not implemented', error_message: 'Only SELECT statements can be serialized to json!' })).toMatch(
      /^Only SELECT statements are supported/,
    );
    const select = { node: { type: 'SELECT_NODE' } };
    expect(statementProblem({ error: false, statements: [select, select] })).toMatch(/found 2 statements/);
  });

  it('quotes the statement as a SQL literal', () => {
    expect(serializeSqlQuery("SELECT 'a'")).toBe("SELECT json_serialize_sql('SELECT ''a''')");
  });
});

describe('outputColumnNames', () => {
  const parsed = (select_list: object[]) => ({ statements: [{ node: { type: 'SELECT_NODE', select_list } }] }) as never;

  it('falls back to DuckDB names when the select list does not line up', () => {
    const twoStars = parsed([{ class: 'STAR' }, { class: 'STAR' }]);
    expect(outputColumnNames(twoStars, ['a', 'b', 'c'])).toEqual(['a', 'b', 'c']);
    expect(outputColumnNames({}, ['x'])).toEqual(['x']);
  });

  it('expands a star in place among other items', () => {
    const list = parsed([{ class: 'FUNCTION' }, { class: 'STAR' }, { class: 'COLUMN_REF', alias: '', column_names: ['t', 'c'] }]);
    expect(outputColumnNames(list, ['count_star()', 'a', 'b', 'c'])).toEqual(['_col0', 'a', 'b', 'c']);
  });
});

describe('lakeErrorMessage', () => {
  it('drops the statement echo, joins lines and names the store again', () => {
    const error = new Error('Binder Error: Table "eds" has no column "x"!\nCandidate bindings: "y"\n\nLINE 1: SELECT x FROM "eds"\n               ^');
    expect(lakeErrorMessage(error, 'eds', id)).toBe(`Binder Error: Table "${id}" has no column "x"! Candidate bindings: "y"`);
  });
});

/**
 * The text-level part of running a CloudTrail Lake query on DuckDB: pointing
 * the event data store reference at the local table, reading DuckDB's parse
 * tree (json_serialize_sql) for Lake's rules and column names, and wording
 * DuckDB's errors for a Lake caller. Pure functions, no DuckDB needed.
 */

export interface EventDataStoreRef {
  /** The store's id, a UUID. */
  id: string;
  /** `arn:aws:cloudtrail:<region>:<account>:eventdatastore/<id>`. */
  arn: string;
}

export type Resolved = { sql: string; error?: undefined } | { sql?: undefined; error: string };

// A reference may be a bare or double-quoted id or ARN. Bare, neither is a
// valid DuckDB token sequence, so any match outside a string literal or a
// comment can only be a store reference.
const UUID = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}';
const STORE_ARN = `arn:aws[a-z-]*:cloudtrail:[a-z0-9-]*:[0-9]*:eventdatastore/[A-Za-z0-9-]+`;
const BARE_REFERENCE = new RegExp(`(?:${STORE_ARN}|${UUID})(?![\\w-])`, 'y');
const WHOLE_REFERENCE = new RegExp(`^(?:${STORE_ARN}|${UUID})$`);
const IDENTIFIER_CHAR = /[\w$]/;

/**
 * Rewrites every reference to the event data store (its id or ARN, bare or
 * double-quoted, in any letter case) into `"<table>"`. String literals and
 * comments are copied untouched. A reference to any other store is an error,
 * worded like the service's.
 */
export function resolveEventDataStore(sql: string, store: EventDataStoreRef, table: string): Resolved {
  const ours = new Set([store.id.toLowerCase(), store.arn.toLowerCase()]);
  let out = '';
  let i = 0;
  const replace = (reference: string): string | undefined => (ours.has(reference.toLowerCase()) ? `"${table}"` : undefined);
  while (i < sql.length) {
    const char = sql[i]!;
    const end = skipLiteral(sql, i);
    if (end > i) {
      const token = sql.slice(i, end);
      const inner = token.slice(1, -1);
      if (char === '"' && WHOLE_REFERENCE.test(inner)) {
        const replaced = replace(inner);
        if (replaced === undefined) return { error: notFound(inner) };
        out += replaced;
      } else {
        out += token;
      }
      i = end;
      continue;
    }
    BARE_REFERENCE.lastIndex = i;
    const match = IDENTIFIER_CHAR.test(sql[i - 1] ?? ' ') ? null : BARE_REFERENCE.exec(sql);
    if (match) {
      const replaced = replace(match[0]);
      if (replaced === undefined) return { error: notFound(match[0]) };
      out += replaced;
      i += match[0].length;
      continue;
    }
    out += char;
    i += 1;
  }
  return { sql: out };
}

function notFound(reference: string): string {
  return `Event data store ${reference} does not exist or is not accessible from this account and region.`;
}

/**
 * Where the string literal, quoted identifier or comment starting at `start`
 * ends (exclusive), or `start` if none starts there. An unterminated one runs
 * to the end; the parser reports it.
 */
function skipLiteral(sql: string, start: number): number {
  const char = sql[start];
  if (char === "'" || char === '"') {
    let i = start + 1;
    while (i < sql.length) {
      if (sql[i] === char) {
        if (sql[i + 1] === char) i += 2; // '' and "" escape the quote
        else return i + 1;
      } else i += 1;
    }
    return sql.length;
  }
  if (char === '-' && sql[start + 1] === '-') {
    const newline = sql.indexOf('\n', start);
    return newline === -1 ? sql.length : newline;
  }
  if (char === '/' && sql[start + 1] === '*') {
    const close = sql.indexOf('*/', start + 2);
    return close === -1 ? sql.length : close + 2;
  }
  return start;
}

/** The part of json_serialize_sql's output that naming and checking need. */
export interface SerializedSql {
  error?: boolean;
  error_type?: string;
  error_message?: string;
  statements?: Array<{ node: SerializedNode }>;
}

interface SerializedNode {
  type: string;
  select_list?: SerializedExpression[];
  left?: SerializedNode;
}

interface SerializedExpression {
  class: string;
  type?: string;
  alias?: string;
  column_names?: string[];
  children?: SerializedExpression[];
  value?: { value?: unknown };
}

/** `SELECT json_serialize_sql('<sql>')`: the literal form, which the function requires. */
export function serializeSqlQuery(sql: string): string {
  return `SELECT json_serialize_sql('${sql.replaceAll("'", "''")}')`;
}

/**
 * Lake's verdict on a parsed statement: undefined if it is one SELECT, else
 * the message StartQuery answers with (DuckDB's own for a parse error).
 */
export function statementProblem(parsed: SerializedSql): string | undefined {
  if (parsed.error) {
    if (parsed.error_type === 'parser') return `Parser Error: ${parsed.error_message ?? 'syntax error'}`;
    // json_serialize_sql serializes SELECT statements only, so this is the
    // answer for INSERT, COPY, PRAGMA, SET and the rest.
    return 'Only SELECT statements are supported: the query statement must be a single SELECT.';
  }
  const count = parsed.statements?.length ?? 0;
  if (count === 0) return 'The query statement is empty.';
  if (count > 1) return `The query statement must be a single SELECT; found ${count} statements.`;
  return undefined;
}

/**
 * Result column names as Presto gives them, one per DuckDB result column:
 *
 * - an alias, or a column written by name, keeps the name as written;
 * - a field reference such as `userIdentity.arn` or `resources[1].arn` keeps
 *   its last part (`arn`), so one row may carry two `arn` cells;
 * - anything else is `_col<N>`, N its 0-based position in the output;
 * - `*` takes DuckDB's names, which are the table's column names.
 *
 * Set operations take the names of their leftmost SELECT. If the select list
 * cannot be lined up with the result (several stars, an unknown node type),
 * DuckDB's names are used as they are.
 */
export function outputColumnNames(parsed: SerializedSql, duckdbNames: readonly string[]): string[] {
  let node = parsed.statements?.[0]?.node;
  while (node?.type === 'SET_OPERATION_NODE') node = node.left;
  const items = node?.select_list;
  if (!items) return [...duckdbNames];
  const stars = items.filter((item) => item.class === 'STAR').length;
  const starWidth = duckdbNames.length - (items.length - stars);
  if (stars > 1 || (stars === 0 && starWidth !== 0) || starWidth < 0) return [...duckdbNames];

  const names: string[] = [];
  for (const item of items) {
    if (item.class === 'STAR') {
      names.push(...duckdbNames.slice(names.length, names.length + starWidth));
    } else if (item.alias) {
      names.push(item.alias);
    } else {
      names.push(referencedName(item) ?? `_col${names.length}`);
    }
  }
  return names;
}

/** The name Presto gives a column or field reference; undefined for other expressions. */
function referencedName(item: SerializedExpression): string | undefined {
  if (item.class === 'COLUMN_REF') return item.column_names?.at(-1);
  // `(expr).field` after a subscript or a parenthesis parses as this operator.
  if (item.class === 'OPERATOR' && item.type === 'STRUCT_EXTRACT') {
    const field = item.children?.[1]?.value?.value;
    return typeof field === 'string' ? field : undefined;
  }
  return undefined;
}

/**
 * DuckDB's error message for a Lake caller: on one line, without the echo of
 * the (rewritten) statement and its caret, and with the local table named by
 * the event data store's id again.
 */
export function lakeErrorMessage(error: unknown, table: string, storeId: string): string {
  const message = error instanceof Error ? error.message : String(error);
  const withoutEcho = message.split(/\n\s*LINE \d+:/)[0]!;
  return withoutEcho.replaceAll(table, storeId).replace(/\s*\n\s*/g, ' ').trim();
}

/**
 * What a Lake query scans, read from DuckDB's parse tree (json_serialize_sql).
 * Pure functions, no DuckDB needed.
 *
 * Lake partitions an event data store by eventTime, so a query reads every
 * event in the eventTime range its WHERE clause bounds, whatever else the
 * WHERE says: `eventName = 'X'` narrows the rows it returns, not the events
 * it scans. The emulator counts those events with a COUNT(*) over the same
 * table and only the eventTime conditions of the WHERE (scanCountStatement),
 * and reports them as EventsScanned.
 */
import type { SerializedSql } from './lake-statement.js';

/** A node of json_serialize_sql's tree, loosely: the few members read here. */
type TreeNode = Record<string, unknown>;

/**
 * Aggregate functions as DuckDB names them in its parse tree (`count(*)` is
 * `count_star`); the PRESTO_MACROS that stand for one (approx_distinct) are
 * named as written.
 */
const AGGREGATES: ReadonlySet<string> = new Set([
  'count', 'count_star', 'sum', 'min', 'max', 'avg', 'mean', 'approx_distinct', 'approx_count_distinct', 'arbitrary', 'any_value',
  'bool_and', 'bool_or', 'every', 'stddev', 'stddev_samp', 'stddev_pop', 'variance', 'var_samp', 'var_pop', 'array_agg', 'list',
  'string_agg', 'max_by', 'min_by', 'first', 'last', 'approx_percentile', 'approx_quantile', 'median', 'count_if', 'histogram',
  'map_agg', 'checksum', 'geometric_mean', 'bitwise_and_agg', 'bitwise_or_agg',
]);

function node(parsed: SerializedSql): TreeNode | undefined {
  const first = parsed.statements?.[0]?.node as TreeNode | undefined;
  return first?.type === 'SELECT_NODE' ? first : undefined;
}

/**
 * Whether a query aggregates: it has a GROUP BY, or its select list is made
 * of aggregate calls (and constants) only. On Lake such a query reads a
 * sliver of each event (the columns it aggregates), not whole events.
 */
export function isAggregateQuery(parsed: SerializedSql): boolean {
  const select = node(parsed);
  if (!select) return false;
  if (Array.isArray(select.group_expressions) && select.group_expressions.length > 0) return true;
  const items = Array.isArray(select.select_list) ? (select.select_list as TreeNode[]) : [];
  return items.length > 0 && items.some(isAggregateCall) && items.every((item) => isAggregateCall(item) || item.class === 'CONSTANT');
}

function isAggregateCall(item: TreeNode): boolean {
  return item.class === 'FUNCTION' && typeof item.function_name === 'string' && AGGREGATES.has(item.function_name.toLowerCase());
}

/** A column reference to eventTime: `eventTime`, `eventtime`, or `alias.eventTime`. */
function isEventTime(expression: TreeNode): boolean {
  const names = expression.column_names;
  return Array.isArray(names) && names.length <= 2 && String(names.at(-1)).toLowerCase() === 'eventtime';
}

/**
 * Whether an expression reads nothing but eventTime and constants (with
 * operators, casts and functions over them), and eventTime at least once:
 * a condition that bounds the eventTime range and nothing else.
 */
function timeOnly(expression: TreeNode): boolean {
  let sawTime = false;
  const walk = (value: unknown): boolean => {
    if (Array.isArray(value)) return value.every(walk);
    if (typeof value !== 'object' || value === null) return true;
    const n = value as TreeNode;
    if (n.class === 'SUBQUERY' || n.class === 'WINDOW' || n.class === 'STAR') return false;
    if (n.class === 'COLUMN_REF') {
      if (!isEventTime(n)) return false;
      sawTime = true;
      return true;
    }
    return Object.values(n).every(walk);
  };
  return walk(expression) && sawTime;
}

/**
 * The parts of a WHERE clause that bound eventTime alone: the whole clause if
 * it is one, else those of its AND-ed terms that are (recursively), else
 * nothing. What is kept is implied by the WHERE, so the events it covers are
 * at least the events the query matches and at most the whole store.
 */
export function timeConditions(where: TreeNode | null | undefined): TreeNode[] {
  if (!where) return [];
  if (timeOnly(where)) return [where];
  if (where.class === 'CONJUNCTION' && where.type === 'CONJUNCTION_AND' && Array.isArray(where.children)) {
    return (where.children as TreeNode[]).flatMap((child) => timeConditions(child));
  }
  return [];
}

/**
 * The tree of `SELECT count(*) FROM <the query's table> WHERE <its eventTime
 * conditions>`, built on `template` (json_serialize_sql of `SELECT count(*)
 * FROM <table>`), for json_deserialize_sql. Undefined when the query does not
 * read `table` directly (a join, a subquery in FROM, a CTE, a set operation):
 * its scan is then taken to be the whole store.
 */
export function scanCountTree(parsed: SerializedSql, template: SerializedSql, table: string): SerializedSql | undefined {
  const select = node(parsed);
  const base = node(template);
  if (!select || !base) return undefined;
  const from = select.from_table as TreeNode | undefined;
  if (from?.type !== 'BASE_TABLE' || from.table_name !== table) return undefined;
  const ctes = (select.cte_map as { map?: unknown[] } | undefined)?.map;
  if (Array.isArray(ctes) && ctes.length > 0) return undefined;
  const kept = timeConditions(select.where_clause as TreeNode | null);
  const where = kept.length === 0 ? null : kept.length === 1 ? kept[0] : { class: 'CONJUNCTION', type: 'CONJUNCTION_AND', alias: '', query_location: 0, children: kept };
  const tree = { ...template, statements: [{ node: { ...base, from_table: from, where_clause: where } }] } as unknown as SerializedSql;
  return withSafeLocations(tree);
}

/**
 * A copy of the tree with every `query_location` that JSON numbers cannot
 * hold exactly (DuckDB writes 2^64 - 1 for "none") set to 0:
 * json_deserialize_sql refuses a location that is not a whole number.
 */
function withSafeLocations<T>(tree: T): T {
  return JSON.parse(JSON.stringify(tree, (key, value: unknown) => (key === 'query_location' && !Number.isSafeInteger(value) ? 0 : value))) as T;
}

/** `SELECT json_deserialize_sql('<tree>'::JSON)`: the SQL text of a tree. */
export function deserializeSqlQuery(tree: SerializedSql): string {
  return `SELECT json_deserialize_sql('${JSON.stringify(tree).replaceAll("'", "''")}'::JSON)`;
}

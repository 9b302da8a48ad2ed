/**
 * The output columns of a CloudTrail Lake query, known from its SQL before
 * the first result page: DescribeQuery returns the QueryString, and Lake's
 * rows carry one key per output column, named as Trino names them.
 *
 * The SQL is read by Trino's own grammar (the ANTLR lexer and parser that
 * dt-sql-parser generates from Trino's SqlBase.g4, vendored by
 * scripts/vendor-trino-sql.mjs as `#trino-sql`), never by regular
 * expressions. Lake's bare store ids and ARNs after FROM are made parseable
 * at token level first (./trino-tokens.ts). What a select list is, and the
 * output columns it gives, are ./select-items.ts; the bounds before any
 * parse and the one shape the tokens answer alone are ./select-star.ts,
 * which a caller can load without this module and its parser.
 *
 * Pure, and bounded: a statement longer than Lake's 10,000-character limit is
 * refused before lexing; nesting deeper than the parser's recursion copes
 * with is a refusal, never a crash. Names from the SQL are data: they live in
 * arrays and Maps, never as object keys.
 */
import { BaseErrorListener, CommonTokenStream, PredictionMode, type ATNSimulator, type ParseTree, type RecognitionException, type Recognizer, type Token } from 'antlr4ng';
import * as T from '#trino-sql';
import { lakeTypeAtPath } from './lake-type.js';
import { refuseSelect, type SelectItem, type SelectList, type TypeStep } from './select-items.js';
import { lexQuery, tokenSelectList, type LexedQuery } from './select-star.js';
import { describe, identifier, qualifiedName, SqlRefusal } from './trino-expression.js';
import { placeholder, TokenListSource } from './trino-tokens.js';

/** What a relation in FROM offers a star or a column reference. */
interface Source {
  /** The lower-cased alias, else the table name; null for none. */
  name: string | null;
  /** A store (index into storeRefs), the items of a subquery or CTE, or null when unknown (UNNEST, an unknown table). */
  columns: { store: number } | { items: SelectItem[] } | null;
}

type Ctes = ReadonlyMap<string, SelectItem[] | null>;

/**
 * The stores a query reads, in order of appearance, each once (without regard
 * to case). A lexed reference arrives as its placeholder and is kept as
 * written; a one-part table name that names no CTE is a store too, as Lake
 * has no other tables.
 */
class Stores {
  readonly refs: string[] = [];
  readonly #byKey = new Map<string, number>();
  readonly #lexed = new Map<string, string>();
  constructor(lexed: readonly string[]) {
    for (const [i, ref] of lexed.entries()) this.#lexed.set(placeholder(i), ref);
  }
  index(name: string): number {
    const text = this.#lexed.get(name.toLowerCase()) ?? name;
    const key = text.toLowerCase();
    let index = this.#byKey.get(key);
    if (index === undefined) {
      index = this.refs.length;
      this.refs.push(text);
      this.#byKey.set(key, index);
    }
    return index;
  }
}

/**
 * Registers every one-part table name of the tree that is no CTE name, in
 * text order, so that `storeRefs` also holds the stores of WHERE subqueries
 * and of the right side of a UNION. Iterative: the tree may be deep.
 */
function collectStores(root: ParseTree, stores: Stores): void {
  const ctes = new Set<string>();
  const tables: T.TableRefContext[] = [];
  const stack: ParseTree[] = [root];
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (node instanceof T.NamedQueryContext) ctes.add(identifier(node.identifier()).toLowerCase());
    if (node instanceof T.TableNameContext || node instanceof T.TableContext) {
      const ref = node instanceof T.TableContext ? node.tableRef() : node.tableOrViewName().tableRef();
      if (ref !== null) tables.push(ref);
    }
    for (let i = node.getChildCount() - 1; i >= 0; i--) stack.push(node.getChild(i)!);
  }
  for (const ref of tables) {
    const parts = ref.identifier().map(identifier);
    if (parts.length === 1 && !ctes.has(parts[0]!.toLowerCase())) stores.index(parts[0]!);
  }
}

/**
 * Parses one Lake SELECT statement and returns its select list, resolved as
 * far as the SQL allows: `*` over a CTE or subquery becomes that query's
 * items, and a field read through one becomes the store path it reads. Any
 * other statement, several statements or a syntax error is `{ ok: false }`
 * with a reason of at most 200 characters. `parser: 'always'` skips the
 * token-level answer for `SELECT * FROM <store> ...` (tokenSelectList in
 * ./select-star.ts), which must agree with the parser's (a test checks).
 */
export function parseSelectList(sql: string, how: { parser?: 'always' } = {}): SelectList {
  const lexed = lexQuery(sql);
  if (!lexed.ok) return refuseSelect(lexed.reason);
  return (how.parser === 'always' ? undefined : tokenSelectList(lexed)) ?? parseLexedQuery(lexed);
}

/** The parser's select list of a query lexQuery (./select-star.ts) lexed: what parseSelectList returns when the tokens do not say it all. */
export function parseLexedQuery(lexed: LexedQuery): SelectList {
  if (!lexed.ok) return refuseSelect(lexed.reason);
  try {
    const program = parseProgram(lexed.tokens);
    const statements = program.statements();
    if (statements.length === 0) return refuseSelect('no statement');
    if (statements.length > 1) return refuseSelect('several statements; Lake runs one SELECT');
    const statement = statements[0]!.singleStatement().statement();
    if (!(statement instanceof T.StatementDefaultContext)) return refuseSelect('not a SELECT statement');
    const root = statement.rootQuery();
    if (root.withFunction() !== null) return refuseSelect('WITH FUNCTION is not supported');
    const stores = new Stores(lexed.storeRefs);
    collectStores(root, stores);
    const items = queryItems(root.query(), new Map(), stores);
    if (items === null) return refuseSelect('the query has no select list (VALUES or TABLE)');
    return { ok: true, items, storeRefs: stores.refs };
  } catch (error) {
    if (error instanceof SqlRefusal) return refuseSelect(error.message);
    if (error instanceof RangeError) return refuseSelect('the query nests too deeply to parse');
    throw error;
  }
}

/**
 * The parse is bounded in time as well as in length. ANTLR's adaptive
 * prediction is fast on ordinary queries, but its cost grows with nesting
 * and with Trino's `columnRef | expression` ambiguity in long select lists
 * (LL prediction reads to the end of the list at every item, so a list of
 * thousands of columns is quadratic). So nesting of brackets and CASE is
 * capped at token level first, and the parser checks a deadline as it
 * consumes lookahead: past `PARSE_MS` (3 s) the query is refused.
 */
const PARSE_MS = 3_000;

class Deadline extends Error {}

class DeadlineTokenStream extends CommonTokenStream {
  #steps = 0;
  constructor(
    source: TokenListSource,
    private readonly deadline: number,
  ) {
    super(source);
  }
  override LA(i: number): number {
    if ((++this.#steps & 255) === 0 && performance.now() > this.deadline) throw new Deadline();
    return super.LA(i);
  }
}

/** Full LL prediction: SLL, though faster on long lists, explodes on nested scalar subqueries between two lookahead steps, where no deadline can stop it. */
function parseProgram(tokens: Token[]): T.ProgramContext {
  const parser = new T.TrinoSqlParser(new DeadlineTokenStream(new TokenListSource(tokens), performance.now() + PARSE_MS));
  const errors = new FirstError();
  parser.removeErrorListeners();
  parser.addErrorListener(errors);
  parser.interpreter.predictionMode = PredictionMode.LL;
  let program: T.ProgramContext;
  try {
    program = parser.program();
  } catch (error) {
    if (error instanceof Deadline) throw new SqlRefusal('the query is too complex to parse in bounded time');
    throw error;
  }
  if (errors.message !== null) throw new SqlRefusal(errors.message);
  return program;
}

class FirstError extends BaseErrorListener {
  message: string | null = null;
  override syntaxError<S extends Token, A extends ATNSimulator>(_r: Recognizer<A>, _s: S | null, line: number, column: number, msg: string, _e: RecognitionException | null): void {
    this.message ??= `syntax error at line ${line}:${column + 1}: ${msg}`;
  }
}

// --- queries -----------------------------------------------------------------

function queryItems(query: T.QueryContext, outer: Ctes, stores: Stores): SelectItem[] | null {
  if (!(query instanceof T.QueryStatementContext)) return null;
  const ctes = new Map(outer);
  for (const named of query.with()?.namedQuery() ?? []) {
    const items = queryItems(named.query(), ctes, stores);
    ctes.set(identifier(named.identifier()).toLowerCase(), renamed(items, named.columnAliases()));
  }
  return termItems(query.queryNoWith().queryTerm(), ctes, stores);
}

/** A set operation's columns are named by its leftmost SELECT. */
function termItems(term: T.QueryTermContext, ctes: Ctes, stores: Stores): SelectItem[] | null {
  if (term instanceof T.SetOperationContext) return termItems(term.queryTerm(0)!, ctes, stores);
  if (!(term instanceof T.QueryTermDefaultContext)) return null;
  const primary = term.queryPrimary();
  if (primary instanceof T.SubqueryContext) return termItems(primary.queryNoWith().queryTerm(), ctes, stores);
  if (primary instanceof T.TableContext) return expand(tableSource(primary.tableRef(), null, ctes, stores), null);
  if (primary instanceof T.QueryPrimaryDefaultContext) return specItems(primary.querySpecification(), ctes, stores);
  return null;
}

function specItems(spec: T.QuerySpecificationContext, ctes: Ctes, stores: Stores): SelectItem[] {
  const sources = spec.relation().flatMap((r) => relationSources(r, ctes, stores));
  const items: SelectItem[] = [];
  for (const item of spec.selectList().selectItem()) {
    const alias = item.identifier() === null ? null : identifier(item.identifier()!);
    if (item.selectAllWithoutTable() !== null) {
      if (sources.length === 0) throw new SqlRefusal('SELECT * needs a FROM clause');
      for (const source of sources) items.push(...expand(source, null));
    } else if (item.tableAllColumns() !== null) {
      const base = item.tableAllColumns()!.primaryExpression();
      const qualifier = base instanceof T.ColumnReferenceContext ? qualifiedName(base.columnName().qualifiedName()) : null;
      const name = qualifier !== null && qualifier.length === 1 ? qualifier[0]! : null;
      const source = name === null ? undefined : sources.find((s) => s.name === name.toLowerCase());
      if (source === undefined || item.columnAliases() !== null) items.push({ kind: 'all', qualifier: name ?? base.getText(), store: null });
      else items.push(...expand(source, name));
    } else if (item.selectLiteralColumnName() !== null) {
      const path = qualifiedName(item.selectLiteralColumnName()!.columnRef().qualifiedName());
      items.push(path === null ? { kind: 'expression', alias, type: null, name: null, typeRef: null } : fieldItem(path, alias, sources));
    } else {
      const described = describe(item.selectExpressionColumnName()!.expression());
      if (described.kind === 'field') items.push(fieldItem(described.path, alias, sources));
      else items.push({ ...described, alias });
    }
  }
  return items;
}

function expand(source: Source, qualifier: string | null): SelectItem[] {
  if (source.columns === null) return [{ kind: 'all', qualifier, store: null }];
  if ('store' in source.columns) return [{ kind: 'all', qualifier, store: source.columns.store }];
  // Copies, so that a CTE read twice yields items that do not share objects.
  return source.columns.items.map((item) => (item.kind === 'field' ? { ...item, path: [...item.path] } : { ...item }));
}

/** A CTE's or aliased subquery's column list renames its items; a star inside makes the count unknown. */
function renamed(items: SelectItem[] | null, aliases: T.ColumnAliasesContext | null): SelectItem[] | null {
  if (items === null || aliases === null) return items;
  const names = aliases.identifier().map(identifier);
  if (names.length !== items.length || items.some((i) => i.kind === 'all')) return null;
  return items.map((item, i) => ({ ...item, alias: names[i]! }) as SelectItem);
}

// --- relations -----------------------------------------------------------------

function relationSources(relation: T.RelationContext, ctes: Ctes, stores: Stores): Source[] {
  if (relation instanceof T.JoinRelationContext) {
    const right = relation.sampledRelation();
    const rest = right !== null ? sampledSources(right, ctes, stores) : relationSources(relation.relation(1)!, ctes, stores);
    return [...relationSources(relation.relation(0)!, ctes, stores), ...rest];
  }
  if (relation instanceof T.RelationDefaultContext) return sampledSources(relation.sampledRelation(), ctes, stores);
  return [{ name: null, columns: null }];
}

function sampledSources(sampled: T.SampledRelationContext, ctes: Ctes, stores: Stores): Source[] {
  const pattern = sampled.patternRecognition();
  const aliased = pattern.aliasedRelation();
  const alias = aliased.identifier() === null ? null : identifier(aliased.identifier()!).toLowerCase();
  const relationPrimary = aliased.relationPrimary();
  const primary = relationPrimary instanceof T.ExpressionSourceTableContext ? relationPrimary.relationSourceTable() : relationPrimary;
  if (pattern.KW_MATCH_RECOGNIZE() !== null) return [{ name: alias, columns: null }];
  if (primary instanceof T.TableNameContext) {
    const ref = primary.tableOrViewName().tableRef();
    const source = ref === null ? { name: alias, columns: null } : tableSource(ref, alias, ctes, stores);
    return [withAliases(source, aliased.columnAliases())];
  }
  if (primary instanceof T.SubqueryRelationContext) {
    const items = renamed(queryItems(primary.query(), ctes, stores), aliased.columnAliases());
    return [{ name: alias, columns: items === null ? null : { items } }];
  }
  if (primary instanceof T.ParenthesizedRelationContext) return relationSources(primary.relation(), ctes, stores);
  return [{ name: alias, columns: null }];
}

function tableSource(ref: T.TableRefContext, alias: string | null, ctes: Ctes, stores: Stores): Source {
  const parts = ref.identifier().map(identifier);
  if (parts.length !== 1) return { name: alias ?? parts[parts.length - 1]!.toLowerCase(), columns: null };
  const table = parts[0]!.toLowerCase();
  const cte = ctes.get(table);
  if (cte === undefined) return { name: alias ?? table, columns: { store: stores.index(parts[0]!) } };
  return { name: alias ?? table, columns: cte === null ? null : { items: cte } };
}

function withAliases(source: Source, aliases: T.ColumnAliasesContext | null): Source {
  if (aliases === null || source.columns === null) return source;
  if ('store' in source.columns) return { name: source.name, columns: null };
  const items = renamed(source.columns.items, aliases);
  return { name: source.name, columns: items === null ? null : { items } };
}

/**
 * A column reference: a leading table alias is dropped, and a column of a
 * subquery or CTE becomes what that query selected, keeping the key Lake
 * gives it (its last step as written, or the alias).
 */
function fieldItem(path: string[], alias: string | null, sources: Source[]): SelectItem {
  let source: Source | undefined;
  let rest = path;
  const head = path[0]!.toLowerCase();
  if (path.length > 1) source = sources.find((s) => s.name === head);
  if (source !== undefined) rest = path.slice(1);
  else if (sources.length === 1) source = sources[0];
  const columns = source?.columns;
  if (columns === undefined || columns === null || 'store' in columns) return { kind: 'field', path: rest, alias };
  const first = rest[0]!;
  const inner = columns.items.find((i) => i.kind !== 'all' && outputName(i)?.toLowerCase() === first.toLowerCase());
  const key = rest[rest.length - 1]!;
  if (inner === undefined || inner.kind === 'all') return { kind: 'field', path: rest, alias };
  if (inner.kind === 'field') {
    const full = [...inner.path, ...rest.slice(1)];
    return { kind: 'field', path: full, alias: alias ?? (full[full.length - 1] === key ? null : key) };
  }
  const steps = rest.slice(1).map((field): TypeStep => ({ field }));
  const typeRef = inner.typeRef === null ? null : { steps: [...inner.typeRef.steps, ...steps], sum: inner.typeRef.sum && steps.length === 0 };
  const type = inner.type === null ? null : lakeTypeAtPath(inner.type, rest.slice(1));
  return { kind: 'expression', alias, type, name: key, typeRef };
}

function outputName(item: SelectItem): string | null {
  if (item.kind === 'all') return null;
  if (item.kind === 'field') return item.alias ?? item.path[item.path.length - 1]!;
  return item.alias ?? item.name;
}

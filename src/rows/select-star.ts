/**
 * A Lake query read from its tokens alone, without the parser: the bounds
 * every reading of a query applies first, and the answer for the one shape
 * that needs no parse, `SELECT * FROM <store> ...`.
 *
 * Why: that shape is every `ctlake migrate` slice, every window job's and
 * most exports, and the parser costs every process on its critical path
 * 0.06 s and about 16 MB to load (`#trino-sql`, 1.3 MB of generated code)
 * and 0.1 to 0.2 s on its first parse of a shape (ANTLR builds its
 * prediction DFA as it goes). This module loads only the lexer
 * (`#trino-sql/lexer`); ./select-list.ts reads everything else, and gives
 * the same answer for this shape (a test holds them equal).
 */
import { Token } from 'antlr4ng';
import { TrinoSqlLexer as L } from '#trino-sql/lexer';
import { MAX_QUERY_LENGTH, refuseSelect, type SelectList } from './select-items.js';
import { lexWithStoreRefs, placeholder } from './trino-tokens.js';

/** The deepest nesting of brackets and CASE a query may have; see parseProgram in ./select-list.ts. */
export const MAX_NESTING = 64;

/** A query as tokens, its store references made parseable (./trino-tokens.ts); or why it is refused before any parse. */
export type LexedQuery = { ok: true; tokens: Token[]; storeRefs: string[] } | { ok: false; reason: string };

/**
 * Lexes `sql` within the bounds that come before any parse: a string, at
 * most Lake's 10,000 characters (refused before lexing), no identifier in
 * ctlake's reserved `__ctlake_store_` prefix, nesting at most MAX_NESTING.
 */
export function lexQuery(sql: unknown): LexedQuery {
  if (typeof sql !== 'string') return { ok: false, reason: 'the query is not a string' };
  if (sql.length > MAX_QUERY_LENGTH) return { ok: false, reason: `the query is longer than Lake's ${MAX_QUERY_LENGTH} characters` };
  let lexed: ReturnType<typeof lexWithStoreRefs>;
  try {
    lexed = lexWithStoreRefs(sql);
  } catch (error) {
    if (error instanceof RangeError) return { ok: false, reason: 'the query nests too deeply to parse' };
    throw error;
  }
  const { tokens, storeRefs, reserved, depth } = lexed;
  if (reserved) return { ok: false, reason: 'the query names an identifier starting with __ctlake_store_, which ctlake reserves' };
  if (depth > MAX_NESTING) return { ok: false, reason: `the query nests deeper than ${MAX_NESTING} levels` };
  return { ok: true, tokens, storeRefs };
}

/**
 * The select list of a lexed query when its tokens say it all: its refusal,
 * or the store's `*` for `SELECT * FROM <one store> ...` (see
 * isStarOfOneStore). Undefined when only the parser can tell
 * (parseLexedQuery in ./select-list.ts).
 */
export function tokenSelectList(lexed: LexedQuery): SelectList | undefined {
  if (!lexed.ok) return refuseSelect(lexed.reason);
  if (lexed.storeRefs.length === 1 && isStarOfOneStore(lexed.tokens)) return { ok: true, items: [{ kind: 'all', qualifier: null, store: 0 }], storeRefs: lexed.storeRefs };
  return undefined;
}

/**
 * `SELECT * FROM <store>`, then at most `WHERE c (AND c)*` with each c a
 * column compared with a literal (`eventTime >= '2024-01-01 00:00:00'`,
 * `TIMESTAMP '...'`, a number), `ORDER BY` columns with ASC or DESC, and
 * `LIMIT n`. Its select list is the store's `*` whatever the clauses say.
 * The grammar is this strict so that the answer is the parser's: anything
 * else, a malformed clause included, goes to the parser.
 */
function isStarOfOneStore(tokens: readonly Token[]): boolean {
  const code = tokens.filter((t) => t.channel === Token.DEFAULT_CHANNEL);
  let at = 0;
  const is = (type: number): boolean => code[at]?.type === type && (at++, true);
  const isColumn = (): boolean => (code[at]?.type === L.IDENTIFIER || code[at]?.type === L.QUOTED_IDENTIFIER) && !code[at]!.text!.startsWith(PLACEHOLDER_PREFIX) && (at++, true);
  const isLiteral = (): boolean => is(L.STRING) || is(L.INTEGER_VALUE) || (is(L.KW_TIMESTAMP) && is(L.STRING));
  const isComparison = (): boolean => COMPARISONS.has(code[at]?.type ?? -1) && (at++, true);
  if (!(is(L.KW_SELECT) && is(L.ASTERISK) && is(L.KW_FROM))) return false;
  if (!(code[at]?.type === L.IDENTIFIER && code[at]!.text === placeholder(0))) return false;
  at++;
  if (is(L.KW_WHERE)) {
    do {
      if (!((isColumn() && isComparison() && isLiteral()) || (isLiteral() && isComparison() && isColumn()))) return false;
    } while (is(L.KW_AND));
  }
  if (is(L.KW_ORDER)) {
    if (!is(L.KW_BY)) return false;
    do {
      if (!isColumn()) return false;
      if (!is(L.KW_ASC)) is(L.KW_DESC);
    } while (is(COMMA));
  }
  if (is(L.KW_LIMIT) && !is(L.INTEGER_VALUE)) return false;
  return is(Token.EOF);
}

/** ',' is one of the grammar's unnamed literal tokens. */
const COMMA = L.literalNames.indexOf("','");

const COMPARISONS: ReadonlySet<number> = new Set([L.EQ, L.NEQ, L.LT, L.LTE, L.GT, L.GTE]);

const PLACEHOLDER_PREFIX = placeholder(0).slice(0, -1);

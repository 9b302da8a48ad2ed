/**
 * CloudTrail Lake's SQL as Trino tokens, with the event data store
 * references made parseable.
 *
 * Lake names its table by the store's id or ARN written bare after FROM or
 * JOIN (`FROM EXAMPLEf852-4e8f-8bd1-bcf6cEXAMPLE`,
 * `FROM arn:aws:cloudtrail:us-east-1:123456789012:eventdatastore/<id>`),
 * which is no Trino syntax: Trino's lexer sees `EXAMPLEf852`, `-`, `4e8f`,
 * ... This module lexes the statement with the Trino lexer and finds each
 * such reference as a run of tokens with nothing between them (no space, no
 * comment), so nothing inside a string literal, quoted identifier or comment
 * is ever taken for one: each of those is a single token. The run becomes one
 * identifier token named `placeholder(n)`, and the parser reads the rewritten
 * token list; positions in its error messages stay those of the original text.
 * A double-quoted id or ARN (`FROM "<id>"`) is valid Trino and is recorded as
 * a reference too.
 */
import { CharStreams, CommonToken, CommonTokenFactory, Token, type CharStream, type TokenFactory, type TokenSource } from 'antlr4ng';
import { TrinoSqlLexer } from '#trino-sql/lexer';

const PLACEHOLDER = '__ctlake_store_';

/** The table name the `index`th store reference is replaced by. A query that itself names anything so is refused (`reserved`). */
export function placeholder(index: number): string {
  return `${PLACEHOLDER}${index}`;
}

export interface StoreTokens {
  /** Every token, hidden ones (white space, comments) included, ending with EOF. */
  readonly tokens: Token[];
  /** The references in order of first appearance, as written (quotes removed), deduplicated without regard to case. */
  readonly storeRefs: string[];
  /** The query itself has an identifier starting with the placeholder prefix. */
  readonly reserved: boolean;
  /** The deepest nesting of `(`, `[` and CASE ... END. */
  readonly depth: number;
}

/** Word tokens and the joints of an id or ARN (`-`, `:`, `/`) may form a reference run. */
function inRun(token: Token): boolean {
  if (token.channel !== Token.DEFAULT_CHANNEL) return false;
  const text = token.text ?? '';
  if (text === '-' || text === ':' || text === '/') return true;
  if (text === '') return false;
  for (const ch of text) {
    const word = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch === '_';
    if (!word) return false;
  }
  return true;
}

const isWord = (token: Token): boolean => inRun(token) && token.text !== '-' && token.text !== ':' && token.text !== '/';

/** One open parenthesis: whether it opened a FROM-taking function (EXTRACT, SUBSTRING, TRIM) and whether a FROM clause is open in it. */
interface Frame {
  fn: boolean;
  inFrom: boolean;
}

const FROM_FUNCTIONS = new Set([TrinoSqlLexer.KW_EXTRACT, TrinoSqlLexer.KW_SUBSTRING, TrinoSqlLexer.KW_TRIM]);
/** Keywords that end a FROM clause at its level. */
const FROM_ENDS = new Set([
  TrinoSqlLexer.KW_WHERE,
  TrinoSqlLexer.KW_GROUP,
  TrinoSqlLexer.KW_HAVING,
  TrinoSqlLexer.KW_WINDOW,
  TrinoSqlLexer.KW_ORDER,
  TrinoSqlLexer.KW_LIMIT,
  TrinoSqlLexer.KW_OFFSET,
  TrinoSqlLexer.KW_FETCH,
  TrinoSqlLexer.KW_UNION,
  TrinoSqlLexer.KW_EXCEPT,
  TrinoSqlLexer.KW_INTERSECT,
  TrinoSqlLexer.KW_ON,
  TrinoSqlLexer.KW_USING,
]);

/**
 * Lexes `sql` and replaces each store reference that follows FROM, JOIN,
 * TABLE or a comma of a FROM list by a placeholder identifier token. FROM inside
 * EXTRACT(...), SUBSTRING(...) and TRIM(...) and in IS [NOT] DISTINCT FROM
 * is not a relation and is left alone.
 */
export function lexWithStoreRefs(sql: string): StoreTokens {
  const lexer = new TrinoSqlLexer(CharStreams.fromString(sql));
  lexer.removeErrorListeners();
  const raw: Token[] = [];
  for (let t = lexer.nextToken(); ; t = lexer.nextToken()) {
    raw.push(t);
    if (t.type === Token.EOF) break;
  }
  const tokens: Token[] = [];
  const storeRefs: string[] = [];
  const seen = new Map<string, number>();
  const frames: Frame[] = [{ fn: false, inFrom: false }];
  let previous: Token | null = null;
  let expectRelation = false;
  let reserved = false;
  let level = 0;
  let depth = 0;
  const record = (text: string): number => {
    const key = text.toLowerCase();
    let index = seen.get(key);
    if (index === undefined) {
      index = storeRefs.length;
      seen.set(key, index);
      storeRefs.push(text);
    }
    return index;
  };
  for (let i = 0; i < raw.length; i++) {
    const token = raw[i]!;
    if (token.channel !== Token.DEFAULT_CHANNEL) {
      tokens.push(token);
      continue;
    }
    const frame = frames[frames.length - 1]!;
    if (expectRelation) {
      expectRelation = false;
      // The longest run of adjacent reference tokens from here.
      let end = i;
      while (end + 1 < raw.length && inRun(raw[end + 1]!) && raw[end + 1]!.start === raw[end]!.stop + 1) end++;
      while (end > i && !isWord(raw[end]!)) end--;
      const quoted = token.type === TrinoSqlLexer.QUOTED_IDENTIFIER ? unquote(token.text ?? '') : null;
      const single = quoted !== null && (quoted.includes('-') || quoted.includes(':') || quoted.includes('/'));
      if ((end > i && isWord(token)) || single) {
        const text = single ? quoted : raw.slice(i, end + 1).map((t) => t.text ?? '').join('');
        tokens.push(identifierToken(token, raw[end]!, placeholder(record(text))));
        previous = raw[end]!;
        i = end;
        continue;
      }
    }
    const type = token.type;
    const lower = (token.text ?? '').toLowerCase();
    if (lower.startsWith(PLACEHOLDER) || lower.startsWith(`"${PLACEHOLDER}`)) reserved = true;
    if (token.text === '(' || token.text === '[' || type === TrinoSqlLexer.KW_CASE) depth = Math.max(depth, ++level);
    else if (token.text === ')' || token.text === ']' || type === TrinoSqlLexer.KW_END) level = Math.max(0, level - 1);
    if (token.text === '(') {
      frames.push({ fn: previous !== null && FROM_FUNCTIONS.has(previous.type), inFrom: false });
    } else if (token.text === ')') {
      if (frames.length > 1) frames.pop();
    } else if (type === TrinoSqlLexer.KW_FROM) {
      const distinct = previous !== null && previous.type === TrinoSqlLexer.KW_DISTINCT;
      if (!frame.fn && !distinct) {
        frame.inFrom = true;
        expectRelation = true;
      }
    } else if (type === TrinoSqlLexer.KW_JOIN || type === TrinoSqlLexer.KW_TABLE) {
      expectRelation = true;
    } else if (token.text === ',' && frame.inFrom) {
      expectRelation = true;
    } else if (FROM_ENDS.has(type)) {
      frame.inFrom = false;
    } else if (type === TrinoSqlLexer.KW_SELECT) {
      frame.inFrom = false;
    }
    tokens.push(token);
    previous = token;
  }
  return { tokens, storeRefs, reserved, depth };
}

/** The text of a `"quoted"` identifier, `""` read as `"`. */
export function unquote(text: string): string {
  return text.slice(1, -1).split('""').join('"');
}

function identifierToken(first: Token, last: Token, text: string): Token {
  const token = new CommonToken(CommonToken.EMPTY_SOURCE, TrinoSqlLexer.IDENTIFIER, Token.DEFAULT_CHANNEL, first.start, last.stop);
  token.text = text;
  token.line = first.line;
  token.column = first.column;
  return token;
}

/** Feeds a token list to a parser's CommonTokenStream. */
export class TokenListSource implements TokenSource {
  #next = 0;
  line = 1;
  _tokenStartColumn = 0;
  inputStream: CharStream | null = null;
  sourceName = 'query';
  #factory: TokenFactory<Token> = CommonTokenFactory.DEFAULT;
  constructor(private readonly list: readonly Token[]) {}
  nextToken(): Token {
    const token = this.list[Math.min(this.#next, this.list.length - 1)]!;
    this.#next++;
    return token;
  }
  get column(): number {
    return 0;
  }
  set tokenFactory(factory: TokenFactory<Token>) {
    this.#factory = factory;
  }
  get tokenFactory(): TokenFactory<Token> {
    return this.#factory;
  }
}

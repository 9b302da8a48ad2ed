/**
 * One Trino expression of a select list, read from dt-sql-parser's Trino
 * parse tree: a column or dereference chain, or an expression with the type
 * the SQL itself gives it (CAST, literals, count, string and date functions)
 * or the column its type comes from once the store's schema is known
 * (subscripts, element_at, min/max/sum of a field). Pure; no schema here.
 *
 * Identifiers keep their text as Lake keys columns: unquoted as written,
 * quoted without the quotes. Trino rejects backquoted identifiers and
 * unquoted ones starting with a digit, and so does this module.
 */
import type { ParseTree } from 'antlr4ng';
import * as T from '#trino-sql';
import { formatLakeType, isPrimitive, lakeTypeAtPath, parseLakeType, type LakePrimitiveKind, type LakeType } from './lake-type.js';
import { elementOf, sumOf, type TypeRef, type TypeStep } from './select-items.js';
import { unquote } from './trino-tokens.js';

/** Why a query is refused, for a reason in `{ ok: false }`. */
export class SqlRefusal extends Error {}

/** One expression as far as the SQL alone says: a field path, or an expression with what can be known of its type and name. */
export type Described =
  | { kind: 'field'; path: string[] }
  | { kind: 'expression'; type: LakeType | null; name: string | null; typeRef: TypeRef | null };

const typed = (type: LakeType | null, typeRef: TypeRef | null = null, name: string | null = null): Described => ({ kind: 'expression', type, name, typeRef });
const primitive = (kind: LakePrimitiveKind): LakeType => ({ kind });

const STRING_FUNCTIONS = new Set(['lower', 'upper', 'concat', 'substr', 'substring', 'replace', 'trim', 'ltrim', 'rtrim', 'split_part', 'json_extract', 'json_extract_scalar', 'json_format', 'regexp_extract', 'regexp_replace', 'to_iso8601', 'format_datetime', 'date_format', 'url_extract_host', 'url_extract_path', 'typeof', 'lpad', 'rpad', 'reverse', 'to_hex', 'format']);
const BIGINT_FUNCTIONS = new Set(['count', 'count_if', 'approx_distinct', 'cardinality', 'length', 'strpos', 'date_diff', 'row_number', 'rank', 'dense_rank']);
const TIMESTAMP_FUNCTIONS = new Set(['from_iso8601_timestamp', 'from_unixtime', 'now', 'date_parse', 'parse_datetime']);
const SAME_AS_FIRST = new Set(['min', 'max', 'arbitrary', 'any_value', 'coalesce', 'element_at', 'max_by', 'min_by']);

/** What one expression is, without the schema: a field path, or an expression with what can be known of its type. */
export function describe(node: ParseTree): Described {
  if (node instanceof T.ExpressionContext) return describe(node.booleanExpression());
  if (node instanceof T.PredicatedContext) return node.predicate() === null ? describe(node.valueExpression()) : typed(primitive('boolean'));
  if (node instanceof T.LogicalNotContext || node instanceof T.AndContext || node instanceof T.OrContext) return typed(primitive('boolean'));
  if (node instanceof T.ValueExpressionDefaultContext) return describe(node.primaryExpression());
  if (node instanceof T.ConcatenationContext) return typed(primitive('string'));
  if (node instanceof T.AtTimeZoneContext) return typed(primitive('timestamp'));
  if (node instanceof T.ParenthesizedExpressionContext) return describe(node.expression());
  if (node instanceof T.ColumnReferenceContext) {
    const path = qualifiedName(node.columnName().qualifiedName());
    return path === null ? typed(null) : { kind: 'field', path };
  }
  if (node instanceof T.DereferenceContext) {
    const base = describe(node.primaryExpression());
    const field = identifier(node.identifier());
    if (base.kind === 'field') return { kind: 'field', path: [...base.path, field] };
    return typed(base.type === null ? null : lakeTypeAtPath(base.type, [field]), step(base.typeRef, { field }), field);
  }
  if (node instanceof T.SubscriptContext) {
    const base = describe(node.primaryExpression());
    if (base.kind === 'field') return typed(null, { steps: [...base.path.map((field) => ({ field })), { element: true }], sum: false });
    return typed(base.type === null ? null : elementOf(base.type), step(base.typeRef, { element: true }));
  }
  if (node instanceof T.CastContext) return typed(lakeTypeOf(node.type()));
  if (node instanceof T.FunctionCallContext) return describeCall(node);
  if (node instanceof T.NumericLiteralContext) {
    const n = node.number();
    if (n instanceof T.IntegerLiteralContext) {
      const value = Number(n.getText());
      return typed(primitive(value >= -(2 ** 31) && value < 2 ** 31 ? 'int' : 'bigint'));
    }
    return typed(primitive('double'));
  }
  if (node instanceof T.StringLiteralContext) return typed(primitive('string'));
  if (node instanceof T.BooleanLiteralContext) return typed(primitive('boolean'));
  if (node instanceof T.TypeConstructorContext) {
    const name = node.identifier() === null ? 'double' : identifier(node.identifier()!).toLowerCase();
    return typed(name === 'timestamp' ? primitive('timestamp') : name === 'date' ? primitive('date') : name === 'double' ? primitive('double') : null);
  }
  if (node instanceof T.CurrentTimestampContext || node instanceof T.LocalTimestampContext) return typed(primitive('timestamp'));
  if (node instanceof T.CurrentDateContext) return typed(primitive('date'));
  if (node instanceof T.SubstringContext || node instanceof T.TrimContext) return typed(primitive('string'));
  if (node instanceof T.ExtractContext) return typed(primitive('bigint'));
  return typed(null);
}

function describeCall(node: T.FunctionCallContext): Described {
  const nameParts = qualifiedName(node.functionName().qualifiedName()) ?? [];
  const name = nameParts.length === 1 ? nameParts[0]!.toLowerCase() : '';
  if (BIGINT_FUNCTIONS.has(name)) return typed(primitive('bigint'));
  if (name === 'avg') return typed(primitive('double'));
  if (STRING_FUNCTIONS.has(name)) return typed(primitive('string'));
  if (TIMESTAMP_FUNCTIONS.has(name)) return typed(primitive('timestamp'));
  const args = node.expression();
  const argIndex = name === 'date_trunc' ? 1 : 0;
  const sum = name === 'sum';
  if (!sum && !SAME_AS_FIRST.has(name) && name !== 'date_trunc') return typed(null);
  const arg = args[argIndex];
  if (arg === undefined) return typed(null);
  const inner = describe(arg);
  const element = name === 'element_at';
  if (inner.kind === 'field') {
    const steps: TypeStep[] = inner.path.map((field) => ({ field }));
    return typed(null, { steps: element ? [...steps, { element: true }] : steps, sum });
  }
  if (element) return typed(inner.type === null ? null : elementOf(inner.type), step(inner.typeRef, { element: true }));
  if (sum) return typed(inner.type === null ? null : sumOf(inner.type), inner.typeRef === null ? null : { ...inner.typeRef, sum: true });
  return typed(inner.type, inner.typeRef);
}

function step(ref: TypeRef | null, next: TypeStep): TypeRef | null {
  return ref === null || ref.sum ? null : { steps: [...ref.steps, next], sum: false };
}

const SCALARS = new Map<string, LakePrimitiveKind>([
  ['varchar', 'string'],
  ['char', 'string'],
  ['json', 'string'],
  ['uuid', 'string'],
  ['ipaddress', 'string'],
  ['boolean', 'boolean'],
  ['tinyint', 'tinyint'],
  ['smallint', 'smallint'],
  ['integer', 'int'],
  ['int', 'int'],
  ['bigint', 'bigint'],
  ['real', 'float'],
  ['double', 'double'],
  ['date', 'date'],
  ['varbinary', 'binary'],
]);

/** A Trino type as a LakeType; null for one Lake has no type for (decimal, time, interval, an unnamed row field). */
function lakeTypeOf(type: T.TypeContext): LakeType | null {
  if (type instanceof T.DateTimeTypeContext) return primitive('timestamp');
  if (type instanceof T.DoublePrecisionTypeContext) return primitive('double');
  if (type instanceof T.LegacyArrayTypeContext || type instanceof T.ArrayTypeContext) return compose('array', [type.type()]);
  if (type instanceof T.LegacyMapTypeContext) return compose('map', type.type_());
  if (type instanceof T.RowTypeContext) {
    const fields = type.rowField().map((f) => {
      const inner = lakeTypeOf(f.type());
      return f.identifier() === null || inner === null ? null : `${identifier(f.identifier()!)}:${formatLakeType(inner)}`;
    });
    return fields.includes(null) ? null : parsed(`struct<${fields.join(',')}>`);
  }
  if (type instanceof T.GenericTypeContext) {
    const name = identifier(type.identifier()).toLowerCase();
    const params = type.typeParameter().map((p) => p.type());
    if (name === 'array' || name === 'map') return params.includes(null) ? null : compose(name, params as T.TypeContext[]);
    const kind = SCALARS.get(name);
    return kind === undefined ? null : primitive(kind);
  }
  return null;
}

function compose(kind: 'array' | 'map', params: T.TypeContext[]): LakeType | null {
  const inner = params.map(lakeTypeOf);
  if (inner.includes(null) || inner.length !== (kind === 'array' ? 1 : 2)) return null;
  return parsed(`${kind}<${(inner as LakeType[]).map(formatLakeType).join(',')}>`);
}

function parsed(text: string): LakeType | null {
  try {
    return parseLakeType(text);
  } catch {
    return null;
  }
}

/** An identifier as Lake keys it: unquoted as written, quoted without its quotes. */
export function identifier(node: T.IdentifierContext): string {
  if (node instanceof T.QuotedIdentifierContext) return unquote(node.getText());
  if (node instanceof T.BackQuotedIdentifierContext) throw new SqlRefusal('backquoted identifiers are not supported');
  if (node instanceof T.DigitIdentifierContext) throw new SqlRefusal(`identifiers must not start with a digit: ${node.getText().slice(0, 40)}`);
  return node.getText();
}

export function qualifiedName(node: T.QualifiedNameContext | null): string[] | null {
  const parts = node?.identifier().map(identifier) ?? [];
  return parts.length === 0 ? null : parts;
}


/**
 * What a query's select list is, once read, and the output columns it gives:
 * the shapes that the token-level reading (./select-star.ts) and the parser
 * (./select-list.ts) both return, and the step from them to the keys Lake's
 * rows carry, typed by a store's published schema.
 *
 * Kept apart from both readers so that an export whose query the tokens
 * answer never loads the parser (see ./select-star.ts). Names from the SQL
 * are data: they live in arrays, never as object keys.
 */
import { lakeTypeAt, type LakeSchema } from './lake-schema.js';
import { isPrimitive, lakeStructField, type LakeType } from './lake-type.js';

/** QueryStatement's `max` in CloudTrail's API model (cloudtrail-2013-11-01). */
export const MAX_QUERY_LENGTH = 10_000;
const MAX_REASON = 200;

/** One step from a column to a value inside it: a struct field, or an array element / map value (`[i]`, `element_at`). */
export type TypeStep = { readonly field: string } | { readonly element: true };

/**
 * Where an expression's type comes from when it can only be known with the
 * store's schema: the column at `steps`, and for `sum` the sum's type of it
 * (`min`, `max`, `element_at`, subscripts and dereferences keep the type).
 */
export interface TypeRef {
  readonly steps: readonly TypeStep[];
  readonly sum: boolean;
}

export type SelectItem =
  /** `*` or `t.*`; `store` indexes `storeRefs` when the star reads one store, null when it cannot be expanded from the SQL. */
  | { kind: 'all'; qualifier: string | null; store: number | null }
  /** A column or dereference chain, relative to its store (a table alias or subquery in front is resolved away). */
  | { kind: 'field'; path: string[]; alias: string | null }
  /**
   * Anything else. `type` when the SQL alone says it; `typeRef` when the
   * schema does; `name` the key Trino gives it without an alias (the field
   * of `element_at(resources, 1).arn` is `arn`), null for `_colN`.
   */
  | { kind: 'expression'; alias: string | null; type: LakeType | null; name: string | null; typeRef: TypeRef | null };

export type SelectList = { ok: true; items: SelectItem[]; storeRefs: string[] } | { ok: false; reason: string };

export interface OutputColumn {
  /** The key Lake's rows carry. */
  key: string;
  /** Null means unknown: the value is read as a string. */
  type: LakeType | null;
  /** The column path in the store, for a field or an expanded `*`. */
  path: string[] | null;
  /** The index of the select item it comes from. */
  item: number;
}

/** A refusal, its reason cut to 200 characters. */
export function refuseSelect(reason: string): SelectList {
  return { ok: false, reason: reason.length > MAX_REASON ? `${reason.slice(0, MAX_REASON - 1)}…` : reason };
}

/** The type of an array's element or a map's value; null for any other type. */
export function elementOf(type: LakeType): LakeType | null {
  return type.kind === 'array' ? type.element : type.kind === 'map' ? type.value : null;
}

/** The type of `sum()` over a column of `type` (Trino: bigint for the integers, the same for float and double); null for the rest. */
export function sumOf(type: LakeType): LakeType | null {
  if (!isPrimitive(type)) return null;
  if (type.kind === 'tinyint' || type.kind === 'smallint' || type.kind === 'int' || type.kind === 'bigint') return { kind: 'bigint' };
  return type.kind === 'double' || type.kind === 'float' ? type : null;
}

/**
 * The keys of Lake's rows in order, each with its type from `schema`: an
 * alias as written; a field's last step as written; a star the published
 * columns of the store; anything else `_colN`, N its 0-based position. Null
 * when the list holds a star that cannot be expanded (no schema, or a star
 * over something the SQL does not describe). One schema types every store
 * the query reads.
 */
export function outputColumns(list: readonly SelectItem[], schema: LakeSchema | null): OutputColumn[] | null {
  const out: OutputColumn[] = [];
  for (const [item, entry] of list.entries()) {
    if (entry.kind === 'all') {
      if (entry.store === null || schema === null) return null;
      for (const column of schema.columns) out.push({ key: column.name, type: column.type, path: [column.name], item });
    } else if (entry.kind === 'field') {
      const key = entry.alias ?? entry.path[entry.path.length - 1]!;
      out.push({ key, type: schema === null ? null : lakeTypeAt(schema, entry.path), path: [...entry.path], item });
    } else {
      const key = entry.alias ?? entry.name ?? `_col${out.length}`;
      const type = entry.type ?? (entry.typeRef === null || schema === null ? null : typeAtRef(schema, entry.typeRef));
      out.push({ key, type, path: null, item });
    }
  }
  return out;
}

function typeAtRef(schema: LakeSchema, ref: TypeRef): LakeType | null {
  const [first, ...rest] = ref.steps;
  if (first === undefined || !('field' in first)) return null;
  let type = lakeTypeAt(schema, [first.field]);
  for (const s of rest) {
    if (type === null) return null;
    if ('element' in s) type = elementOf(type);
    else type = type.kind === 'struct' ? (lakeStructField(type, s.field)?.type ?? null) : null;
  }
  return type === null ? null : ref.sum ? sumOf(type) : type;
}

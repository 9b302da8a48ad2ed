import type { QueryResultRow } from '../lake-model.js';

export type { QueryResultRow };

/**
 * One flattened row: column name to the service's string, or null when absent.
 * An ordinary object, for speed (V8 keeps a null-prototype object in its slow
 * dictionary mode: measured at half the JSON.stringify speed), so a name such
 * as `constructor` that a record lacks would read Object.prototype's member:
 * read a cell with cellOf, never `record[name] ?? null`.
 */
export type FlatRecord = Record<string, string | null>;

/**
 * The cell of column `name`, or null when the record has none. Safe for any
 * name: every own value is a string or null, and nothing Object.prototype
 * holds is a string, so an inherited `constructor` or `__proto__` reads as
 * null, with no second lookup.
 */
export function cellOf(record: FlatRecord, name: string): string | null {
  const value = record[name];
  return typeof value === 'string' ? value : null;
}

/**
 * The naming rule. Occurrence k of key K in a row is called
 *
 * - K itself, for the first occurrence (k = 1) of an ordinary key;
 * - `K_1`, for the first occurrence of a key that looks generated: one that
 *   ends in `_N` with N ≥ 2 (no leading zero), followed by any number of
 *   `_1` (`arn_2`, `count_10`, `arn_2_1`). So a literal `arn_2` is `arn_2_1`;
 * - `K_k`, for a repeat (k ≥ 2): `arn`, `arn_2`, `arn_3`.
 *
 * Why: no name can stand for two (key, occurrence) pairs. Read a name's last
 * `_digits`: none, and it is an ordinary key itself; `_1`, and it is the first
 * of the generated-looking key before it; `_k` (k ≥ 2), and it is repeat k of
 * the key before it. So a given key and occurrence always get the same
 * column, whatever else the row holds and in whatever order (with `key_2`
 * for the first free name, a literal `arn_2` ahead of two `arn` pushed the
 * second `arn` to `arn_3`, and a row in another order named them otherwise),
 * and rows of ordinary keys are named as before. Keys ending in `_1`, `_01`
 * or a letter are ordinary.
 */
export function firstName(key: string): string {
  return looksGenerated(key) ? `${key}_1` : key;
}

/** `_N` (N ≥ 2, no leading zero) then any number of `_1`: the shape of a repeat's name. */
export function looksGenerated(key: string): boolean {
  let end = key.length;
  const last = key.charCodeAt(end - 1);
  if (!(last >= 0x30 && last <= 0x39)) return false; // the common case: one comparison
  while (end >= 2 && key.charCodeAt(end - 1) === 0x31 && key.charCodeAt(end - 2) === 0x5f) end -= 2;
  let start = end;
  while (start > 0 && isDigit(key.charCodeAt(start - 1))) start--;
  if (start === end || start === 0 || key.charCodeAt(start - 1) !== 0x5f) return false;
  const lead = key.charCodeAt(start);
  return end - start === 1 ? lead >= 0x32 : lead !== 0x30;
}

function isDigit(code: number): boolean {
  return code >= 0x30 && code <= 0x39;
}

/**
 * Names the cells of one row in order, by the rule of firstName: so that no
 * value is ever overwritten, and a key's k-th occurrence always has the same
 * name. Pure: no state survives the call.
 */
export function flattenRow(row: QueryResultRow): Array<[name: string, value: string]> {
  const cells: Array<[string, string]> = [];
  const taken = new Set<string>();
  for (const cell of row) {
    for (const key in cell) {
      // Repeat k of `key` is the only cell that can be called `key_k`.
      let name = firstName(key);
      for (let n = 2; taken.has(name); n++) name = `${key}_${n}`;
      taken.add(name);
      cells.push([name, cell[key] as string]);
    }
  }
  return cells;
}

/**
 * The columns of a result in first-seen order across rows, and the rows as
 * records over them. A record has every column seen so far, in that order,
 * with null where its row had no such key. Holds only the column names.
 */
export class ColumnSet {
  readonly names: string[] = [];
  /** Every column seen so far, null, in order: each record starts as a copy of it. */
  #template: FlatRecord = {};

  /**
   * Flattens a row and records any new columns, naming cells exactly as
   * flattenRow does. Built for speed, as it runs for every cell of an export:
   * records are copies of one template, so they share one shape (which keeps
   * property access and JSON.stringify on V8's fast paths), and no per-row
   * Set or list of cells is made. A name is taken in this row when its value
   * is already a string (values are always strings, absent ones null).
   */
  toRecord(row: QueryResultRow): FlatRecord {
    const record: FlatRecord = { ...this.#template };
    for (const cell of row) {
      for (const key in cell) {
        // Own values are strings or null, and Object.prototype holds no strings: a string means taken in this row.
        let name = firstName(key);
        for (let n = 2; typeof record[name] === 'string'; n++) name = `${key}_${n}`;
        if (Object.hasOwn(record, name)) {
          record[name] = cell[key] as string;
        } else if (this.#alias(record, name, cell[key] as string)) {
          // An expected column, spelled in another case.
        } else {
          // A new column. Defined, not assigned: assigning `__proto__` would set the prototype.
          this.#add(name);
          Object.defineProperty(record, name, { value: cell[key] as string, writable: true, enumerable: true, configurable: true });
        }
      }
    }
    return record;
  }

  /**
   * Expects these columns (the export's settled schema, in order): every
   * record has them from now on, null where its row lacks them, and a cell
   * whose name differs from one of them only in case (`eventTime` for the
   * published `eventtime`) goes to it, when no other expected column has
   * that spelling. Call it before the first row.
   */
  expect(sources: readonly string[]): void {
    const lower = new Map<string, string | null>();
    for (const source of sources) {
      if (!Object.hasOwn(this.#template, source)) this.#add(source);
      const key = source.toLowerCase();
      lower.set(key, lower.has(key) ? null : source);
    }
    this.#lower = lower;
  }

  #lower: Map<string, string | null> | undefined;

  /** Puts `value` in the expected column that `name` spells in another case, if there is one and the row has not filled it. */
  #alias(record: FlatRecord, name: string, value: string): boolean {
    const target = this.#lower?.get(name.toLowerCase());
    if (target === undefined || target === null || typeof record[target] === 'string') return false;
    record[target] = value;
    return true;
  }

  #add(name: string): void {
    this.names.push(name);
    this.#template = { ...this.#template, [name]: null };
  }
}

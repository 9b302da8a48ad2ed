import type { QueryResultRow } from '../lake-model.js';

export type { QueryResultRow };

/** One flattened row: column name to the service's string, or null when absent. */
export type FlatRecord = Record<string, string | null>;

/**
 * Names the cells of one row in order. The first occurrence of a key keeps its
 * name; a repeat gets the first free name of `key_2`, `key_3`, ... so that no
 * value is ever overwritten and the same row shape always gives the same names.
 * Pure: no state survives the call.
 */
export function flattenRow(row: QueryResultRow): Array<[name: string, value: string]> {
  const cells: Array<[string, string]> = [];
  const taken = new Set<string>();
  for (const cell of row) {
    for (const key in cell) {
      let name = key;
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
        let name = key;
        for (let n = 2; typeof record[name] === 'string'; n++) name = `${key}_${n}`;
        if (Object.hasOwn(record, name)) {
          record[name] = cell[key] as string;
        } else {
          // A new column. Defined, not assigned: assigning `__proto__` would set the prototype.
          this.#add(name);
          Object.defineProperty(record, name, { value: cell[key] as string, writable: true, enumerable: true, configurable: true });
        }
      }
    }
    return record;
  }

  #add(name: string): void {
    this.names.push(name);
    this.#template = { ...this.#template, [name]: null };
  }
}

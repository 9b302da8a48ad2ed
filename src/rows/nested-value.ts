/**
 * Lake's Presto text of a struct, map or array cell, read with its published
 * type as the guide, into a typed value: the contract between the reader
 * (readNested), the Arrow builder (formats/arrow-nested.ts) and typed NDJSON.
 *
 * The shape of a value follows its LakeType, which the caller always has:
 * - struct: an array with one entry per field, in the type's field order;
 * - map: an array of [key, value] pairs, in the text's order;
 * - array: an array of element values;
 * - primitive: string (string, binary), bigint (tinyint, smallint, int,
 *   bigint), number (float, double; timestamp and date as epoch
 *   milliseconds, UTC), boolean;
 * - null at any depth for Presto's `null`.
 */
import type { LakeType } from './lake-type.js';

export type NestedValue = null | string | bigint | number | boolean | NestedValue[] | Array<[string, NestedValue]>;

/** The reading of one cell: its value, or the reason it cannot be read one way only for its type. */
export type NestedReading = { ok: true; value: NestedValue } | { ok: false; reason: string };

/**
 * Reads one cell's Presto text as `type`. Never guesses: a text that has
 * two readings for the type (a map value holding `, key=`), does not balance,
 * names a struct field the type lacks, or holds a scalar that does not fit
 * its field's type is `{ ok: false }`, and the caller keeps the original text.
 */
export declare function readNested(text: string, type: LakeType): NestedReading;

/**
 * A stand-in for readNested, for tests of the Parquet side only: it reads a
 * cell written as JSON (not Lake's Presto text) into the NestedValue its
 * type asks for, so that a test states the exact value it expects back. A
 * struct is a JSON object (fields by name without regard to case, missing
 * ones null, unknown ones refused), a map an array of [key, value] pairs
 * (so that order, repeats and `__proto__` keys are kept), an array an array;
 * ints are JSON numbers or digit strings, timestamps and dates ISO text.
 * Any other text is `{ ok: false }`, as an unreadable Presto text would be.
 */
import type { LakeType } from '../../src/rows/lake-type.js';
import type { NestedReading, NestedValue } from '../../src/rows/nested-value.js';

class Unreadable extends Error {}

const BITS = { tinyint: 8, smallint: 16, int: 32, bigint: 64 } as const;

export function readNested(text: string, type: LakeType): NestedReading {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'not JSON (the stand-in reads JSON only)' };
  }
  try {
    return { ok: true, value: valueOf(json, type) };
  } catch (error) {
    if (error instanceof Unreadable) return { ok: false, reason: error.message };
    throw error;
  }
}

function valueOf(json: unknown, type: LakeType): NestedValue {
  if (json === null) return null;
  switch (type.kind) {
    case 'struct': {
      if (typeof json !== 'object' || Array.isArray(json)) throw new Unreadable('not an object');
      const given = new Map(Object.entries(json as object).map(([k, v]) => [k.toLowerCase(), v as unknown]));
      for (const key of given.keys()) if (!type.byName.has(key)) throw new Unreadable(`no field ${key}`);
      return type.fields.map((f) => (given.has(f.name.toLowerCase()) ? valueOf(given.get(f.name.toLowerCase()), f.type) : null));
    }
    case 'map':
      if (!Array.isArray(json)) throw new Unreadable('not an array of pairs');
      return json.map((pair: unknown): [string, NestedValue] => {
        if (!Array.isArray(pair) || typeof pair[0] !== 'string') throw new Unreadable('not a [key, value] pair');
        return [pair[0], valueOf(pair[1], type.value)];
      });
    case 'array':
      if (!Array.isArray(json)) throw new Unreadable('not an array');
      return json.map((e: unknown) => valueOf(e, type.element));
    case 'string':
    case 'binary':
      if (typeof json !== 'string') throw new Unreadable('not a string');
      return json;
    case 'boolean':
      if (typeof json !== 'boolean') throw new Unreadable('not a boolean');
      return json;
    case 'tinyint':
    case 'smallint':
    case 'int':
    case 'bigint': {
      if (typeof json !== 'number' && typeof json !== 'string') throw new Unreadable('not an int');
      const value = BigInt(json);
      const bits = BigInt(BITS[type.kind]);
      if (value < -(2n ** (bits - 1n)) || value >= 2n ** (bits - 1n)) throw new Unreadable(`outside the ${type.kind} range`);
      return value;
    }
    case 'float':
    case 'double':
      if (typeof json !== 'number') throw new Unreadable('not a number');
      return json;
    case 'timestamp':
    case 'date': {
      const ms = typeof json === 'string' ? Date.parse(json.length === 10 ? `${json}T00:00:00Z` : json) : NaN;
      if (Number.isNaN(ms)) throw new Unreadable('not an ISO time');
      return ms;
    }
  }
}

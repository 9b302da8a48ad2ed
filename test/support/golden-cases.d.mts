import type { QueryResultRow } from '../../src/lake-model.js';

export declare const GOLDEN_QUERY_ID: string;
export declare function goldenRows(nested: QueryResultRow[]): QueryResultRow[];
export declare const GOLDEN_CASES: ReadonlyArray<{ file: string; args: string[] }>;

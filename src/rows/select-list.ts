// Placeholder for the select-list parser being built on branch wt-sql; replaced at merge.
import type { LakeSchema } from './lake-schema.js';
import type { LakeType } from './lake-type.js';

export type SelectItem =
  | { kind: 'all'; qualifier: string | null }
  | { kind: 'field'; path: string[]; alias: string | null }
  | { kind: 'expression'; alias: string | null; type: LakeType | null };
export type SelectList = { ok: true; items: SelectItem[]; storeRefs: string[] } | { ok: false; reason: string };
export declare function parseSelectList(sql: string): SelectList;
export interface OutputColumn {
  key: string;
  type: LakeType | null;
  path: string[] | null;
  item: number;
}
export declare function outputColumns(list: SelectItem[], schema: LakeSchema | null): OutputColumn[] | null;

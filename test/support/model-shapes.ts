import { readFileSync } from 'node:fs';

/**
 * The shapes of the Lake query operations, copied from the AWS service model
 * into test/fixtures/cloudtrail-lake-model.json, and a checker that holds a
 * wire response against them.
 */
interface Shape {
  type: string;
  members?: Record<string, { shape: string }>;
  required?: string[];
  member?: { shape: string };
  key?: { shape: string };
  value?: { shape: string };
  enum?: string[];
  min?: number;
  max?: number;
}

interface Model {
  operations: Record<string, { input: string; output: string; errors: string[] }>;
  shapes: Record<string, Shape>;
  errorShapes: string[];
}

export const MODEL = JSON.parse(readFileSync(new URL('../fixtures/cloudtrail-lake-model.json', import.meta.url), 'utf8')) as Model;

/** Every way `value` breaks shape `name`, as `path: problem` lines; empty when it fits. */
export function shapeProblems(name: string, value: unknown, path = '$'): string[] {
  const shape = MODEL.shapes[name];
  if (!shape) return [`${path}: unknown shape ${name}`];
  const problems: string[] = [];
  const bad = (what: string) => problems.push(`${path}: ${what} (shape ${name})`);
  switch (shape.type) {
    case 'structure': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return [`${path}: not an object (shape ${name})`];
      const record = value as Record<string, unknown>;
      for (const key of shape.required ?? []) if (record[key] === undefined) bad(`missing required ${key}`);
      for (const [key, member] of Object.entries(record)) {
        const spec = shape.members?.[key];
        if (!spec) bad(`unknown member ${key}`);
        else if (member !== null) problems.push(...shapeProblems(spec.shape, member, `${path}.${key}`));
      }
      break;
    }
    case 'list':
      if (!Array.isArray(value)) return [`${path}: not a list (shape ${name})`];
      if (shape.min !== undefined && value.length < shape.min) bad(`fewer than ${shape.min} items`);
      if (shape.max !== undefined && value.length > shape.max) bad(`more than ${shape.max} items`);
      value.forEach((item, i) => problems.push(...shapeProblems(shape.member!.shape, item, `${path}[${i}]`)));
      break;
    case 'map':
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return [`${path}: not a map (shape ${name})`];
      for (const [key, item] of Object.entries(value)) {
        problems.push(...shapeProblems(shape.key!.shape, key, `${path}{key}`));
        problems.push(...shapeProblems(shape.value!.shape, item, `${path}.${key}`));
      }
      break;
    case 'string':
      if (typeof value !== 'string') bad('not a string');
      else {
        if (shape.enum && !shape.enum.includes(value)) bad(`'${value}' not one of ${shape.enum.join(', ')}`);
        if (shape.min !== undefined && value.length < shape.min) bad(`shorter than ${shape.min}`);
        if (shape.max !== undefined && value.length > shape.max) bad(`longer than ${shape.max}`);
      }
      break;
    case 'integer':
    case 'long':
      if (typeof value !== 'number' || !Number.isInteger(value)) bad('not a whole number');
      break;
    case 'boolean':
      if (typeof value !== 'boolean') bad('not a boolean');
      break;
    case 'timestamp':
      if (typeof value !== 'number') bad('not epoch seconds');
      break;
    default:
      bad(`unchecked type ${shape.type}`);
  }
  return problems;
}

import { describe, expect, it } from 'vitest';
import { sampleKey, TextMemo } from '../src/rows/text-memo.js';

/** A memo of `f` that counts the calls it makes. */
function counting<T>(f: (text: string) => T) {
  let calls = 0;
  const memo = new TextMemo((text: string) => {
    calls++;
    return f(text);
  });
  return { memo, calls: () => calls };
}

describe('TextMemo', () => {
  it('computes each distinct text once and gives a repeat the same result object', () => {
    const { memo, calls } = counting((text) => ({ text }));
    const a = memo.get('{type=Role, arn=x}');
    const b = memo.get('{type=Root, arn=y}');
    // An equal text that is another string object (as each page's JSON.parse makes) is a repeat.
    expect(memo.get(['{type=Role', ' arn=x}'].join(','))).toBe(a);
    expect(memo.get('{type=Root, arn=y}')).toBe(b);
    expect(calls()).toBe(2);
  });

  it('never gives a text the result of another that shares its key', () => {
    // Same length and the same sampled characters: only the characters between the samples differ.
    const base = 'x'.repeat(6400);
    const texts = Array.from({ length: 40 }, (_, i) => `${base.slice(0, 3001)}${String(i).padStart(2, '0')}${base.slice(3003)}`);
    expect(new Set(texts.map(sampleKey)).size).toBe(1);
    const { memo, calls } = counting((text) => text.slice(3001, 3003));
    for (let round = 0; round < 3; round++) for (const [i, text] of texts.entries()) expect(memo.get(text)).toBe(String(i).padStart(2, '0'));
    // The first eight texts are kept under the key; the others are computed every time, and answered right.
    expect(calls()).toBe(8 + 3 * 32);
  });

  it('takes empty, short, non-ASCII and long texts', () => {
    const { memo, calls } = counting((text) => [...text].length);
    const texts = ['', 'a', 'é', '🚀', '\ud800', 'a'.repeat(1 << 20), `${'a'.repeat((1 << 20) - 1)}b`];
    for (let round = 0; round < 2; round++) expect(texts.map((text) => memo.get(text))).toEqual([0, 1, 1, 1, 1, 1 << 20, 1 << 20]);
    expect(calls()).toBe(texts.length);
    expect(sampleKey('a'.repeat(1 << 20))).not.toBe(sampleKey(`${'a'.repeat((1 << 20) - 1)}b`));
  });

  it('keeps texts such as __proto__ as data', () => {
    const { memo } = counting((text) => text.length);
    expect(['__proto__', 'constructor', 'toString'].map((text) => memo.get(text))).toEqual([9, 11, 8]);
  });
});

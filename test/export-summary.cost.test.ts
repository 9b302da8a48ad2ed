import { describe, expect, it } from 'vitest';
import { queryCost } from '../src/export/export-summary.js';

describe('queryCost: the estimate in integer arithmetic', () => {
  it.each([
    // bytes scanned, $/GB, exact dollars, what a line says
    [6_407_107, 0.005, '0.000032035535', '$0.000032'],
    [0, 0.005, '0', '$0.00'],
    [1_000_000_000, 0.005, '0.005', '$0.005'],
    [2_000_000_000, 0.005, '0.01', '$0.01'],
    [2_500_000_000, 0.005, '0.0125', '$0.01'],
    [3_000_000_000, 0.005, '0.015', '$0.02'],
    [1_999_999_999, 0.005, '0.009999999995', '$0.01'],
    [1_999_999, 0.005, '0.000009999995', '$0.00001'],
    [1_234_000_000_000, 0.005, '6.17', '$6.17'],
    [5_000_000_000, 2, '10', '$10.00'],
    [3e15, 0.005, '15000', '$15000.00'],
    [123_456_789, 1e-7, '0.0000000123456789', '<$0.000001'],
    [1, 0.005, '0.000000000005', '<$0.000001'],
    [200, 0.005, '0.000000001', '<$0.000001'],
    [200_000, 0.005, '0.000001', '$0.000001'],
    [1000, 0, '0', '$0.00'],
    [7, 1e21, '7000000000000', '$7000000000000.00'],
  ])('%d bytes at $%d/GB: %s dollars, %s', (bytes, price, exact, text) => {
    expect(queryCost(bytes, price)).toEqual({ exact, usd: Number(exact), text });
  });

  it('gives numbers without float noise, where float arithmetic has it', () => {
    expect((6_407_107 / 1e9) * 0.005).not.toBe(0.000032035535);
    expect(queryCost(6_407_107, 0.005)?.usd).toBe(0.000032035535);
    expect(JSON.stringify(queryCost(6_407_107, 0.005)?.usd)).toBe('0.000032035535');
  });

  it('never reads $0.00 or $0.0000 for a query that scanned bytes', () => {
    for (const bytes of [1, 10, 999, 12_345, 1_000_000, 1_999_999_999]) {
      expect(queryCost(bytes, 0.005)?.text).not.toMatch(/^\$0\.0*$/);
    }
  });

  it('is undefined without BytesScanned, and refuses a price that is not a number of 0 or more', () => {
    expect(queryCost(undefined, 0.005)).toBeUndefined();
    expect(() => queryCost(1, -1)).toThrow(TypeError);
    expect(() => queryCost(1, Number.NaN)).toThrow(TypeError);
    expect(() => queryCost(1, Number.POSITIVE_INFINITY)).toThrow(TypeError);
  });
});

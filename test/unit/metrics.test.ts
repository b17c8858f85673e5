import { describe, it, expect } from 'vitest';
import { regressionMetrics } from '../../src/domain/metrics';

describe('regressionMetrics', () => {
  it('matches hand-computed values', () => {
    // actual 3, -0.5, 2, 7 (mean 2.875); errors 0.5, -0.5, 0, -1
    // SSres = 0.25+0.25+0+1 = 1.5; SStot = 0.015625+11.390625+0.765625+17.015625 = 29.1875
    const m = regressionMetrics([3, -0.5, 2, 7], [2.5, 0.0, 2, 8]);
    expect(m.n).toBe(4);
    expect(m.mae).toBeCloseTo(0.5, 12); // (0.5+0.5+0+1)/4
    expect(m.rmse).toBeCloseTo(Math.sqrt(1.5 / 4), 12); // 0.6123724356957945
    expect(m.rmse).toBeCloseTo(0.6123724356957945, 12);
    expect(m.r2).toBeCloseTo(1 - 1.5 / 29.1875, 12); // 0.9486081370449679 (same as sklearn r2_score)
    expect(m.r2).toBeCloseTo(0.9486081370449679, 12);
  });

  it('gives a perfect score for exact predictions and r2 = 0 for predicting the mean', () => {
    expect(regressionMetrics([1, 2, 3], [1, 2, 3])).toEqual({ rmse: 0, mae: 0, r2: 1, n: 3 });
    const m = regressionMetrics([1, 2, 3], [2, 2, 2]);
    expect(m.r2).toBe(0);
    expect(m.mae).toBeCloseTo(2 / 3, 12);
    expect(m.rmse).toBeCloseTo(Math.sqrt(2 / 3), 12);
  });

  it('can be negative when worse than the mean', () => {
    // SSres = 4+0+4 = 8, SStot = 2 -> r2 = -3
    expect(regressionMetrics([1, 2, 3], [3, 2, 1]).r2).toBeCloseTo(-3, 12);
  });

  it('returns r2 = 0 for a constant target, even for exact predictions', () => {
    expect(regressionMetrics([5, 5, 5], [5, 5, 5]).r2).toBe(0);
    expect(regressionMetrics([5, 5], [4, 6]).r2).toBe(0);
  });

  it('accepts typed arrays', () => {
    const m = regressionMetrics(new Float64Array([0, 10]), new Float32Array([1, 7]));
    expect(m.mae).toBe(2);
    expect(m.rmse).toBeCloseTo(Math.sqrt(5), 12);
  });

  it('throws on empty input, length mismatch and non-finite values', () => {
    expect(() => regressionMetrics([], [])).toThrow(/empty/);
    expect(() => regressionMetrics([1, 2], [1])).toThrow(/length mismatch/);
    expect(() => regressionMetrics([1, NaN], [1, 2])).toThrow(/actual\[1\]/);
    expect(() => regressionMetrics([1, 2], [Infinity, 2])).toThrow(/predicted\[0\]/);
  });
});

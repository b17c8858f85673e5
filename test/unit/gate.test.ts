import { describe, it, expect } from 'vitest';
import { decideGate, relativeImprovement, type GatePolicy } from '../../src/domain/gate';
import type { RegressionMetrics } from '../../src/domain/metrics';

const m = (rmse: number, mae = rmse, r2 = 0.5): RegressionMetrics => ({ rmse, mae, r2, n: 100 });

describe('relativeImprovement', () => {
  it('rmse and mae are lower-is-better', () => {
    // (10 - 8) / 10 = 0.2
    expect(relativeImprovement('rmse', 8, 10)).toBeCloseTo(0.2, 12);
    // (10 - 12) / 10 = -0.2
    expect(relativeImprovement('rmse', 12, 10)).toBeCloseTo(-0.2, 12);
    // (4 - 3) / 4 = 0.25
    expect(relativeImprovement('mae', 3, 4)).toBe(0.25);
    expect(relativeImprovement('mae', 5, 4)).toBe(-0.25);
  });

  it('r2 is higher-is-better', () => {
    // (0.75 - 0.5) / 0.5 = 0.5
    expect(relativeImprovement('r2', 0.75, 0.5)).toBe(0.5);
    expect(relativeImprovement('r2', 0.25, 0.5)).toBe(-0.5);
  });

  it('divides by the absolute reference (negative r2 reference)', () => {
    // gain = -0.5 - (-1) = 0.5, |reference| = 1
    expect(relativeImprovement('r2', -0.5, -1)).toBe(0.5);
    // gain = -2 - (-1) = -1 → -1
    expect(relativeImprovement('r2', -2, -1)).toBe(-1);
  });

  it('equal values give 0', () => {
    expect(relativeImprovement('rmse', 7, 7)).toBe(0);
    expect(relativeImprovement('r2', 0.3, 0.3)).toBe(0);
  });

  it('reference 0: 0 when equal, ±Infinity otherwise', () => {
    expect(relativeImprovement('rmse', 0, 0)).toBe(0);
    expect(relativeImprovement('rmse', 1, 0)).toBe(-Infinity);
    expect(relativeImprovement('mae', 0.5, 0)).toBe(-Infinity);
    expect(relativeImprovement('r2', 0.1, 0)).toBe(Infinity);
    expect(relativeImprovement('r2', -0.1, 0)).toBe(-Infinity);
  });
});

describe('decideGate', () => {
  const policy = (over: Partial<GatePolicy> = {}): GatePolicy => ({
    primaryMetric: 'rmse',
    mustBeatBaseline: true,
    minImprovementOverChampion: 0,
    ...over,
  });

  it('blesses a candidate that beats the baseline when there is no champion', () => {
    const d = decideGate(policy(), { candidate: m(8), baseline: m(10), champion: null });
    expect(d.blessed).toBe(true);
    expect(d.reasons).toHaveLength(2);
    expect(d.reasons[0]).toContain('beats the naive baseline on rmse');
    expect(d.reasons[0]).toContain('8 vs 10');
    expect(d.reasons[0]).toContain('20.00%');
    expect(d.reasons[1]).toContain('no champion');
  });

  it('refuses a candidate worse than the baseline when mustBeatBaseline is on', () => {
    const d = decideGate(policy(), { candidate: m(12), baseline: m(10), champion: null });
    expect(d.blessed).toBe(false);
    expect(d.reasons[0]).toContain('does not beat the naive baseline');
    expect(d.reasons[0]).toContain('12 vs 10');
    expect(d.reasons[0]).toContain('-20.00%');
  });

  it('a tie with the baseline does not beat it', () => {
    const d = decideGate(policy(), { candidate: m(10), baseline: m(10), champion: null });
    expect(d.blessed).toBe(false);
    expect(d.reasons[0]).toContain('does not beat');
  });

  it('ignores the baseline when mustBeatBaseline is off (and says nothing about it)', () => {
    const d = decideGate(policy({ mustBeatBaseline: false }), { candidate: m(12), baseline: m(10), champion: null });
    expect(d.blessed).toBe(true);
    expect(d.reasons.some((r) => r.includes('baseline'))).toBe(false);
  });

  it('uses the primary metric direction: r2 higher is better', () => {
    const good = decideGate(policy({ primaryMetric: 'r2' }), { candidate: m(99, 99, 0.8), baseline: m(1, 1, 0), champion: null });
    expect(good.blessed).toBe(true);
    expect(good.reasons[0]).toContain('on r2');
    expect(good.reasons[0]).toContain('0.8 vs 0');
    const bad = decideGate(policy({ primaryMetric: 'r2' }), { candidate: m(1, 1, -0.2), baseline: m(99, 99, 0), champion: null });
    expect(bad.blessed).toBe(false);
  });

  it('uses mae when it is the primary metric, regardless of rmse', () => {
    const d = decideGate(policy({ primaryMetric: 'mae' }), { candidate: m(100, 3), baseline: m(1, 4), champion: null });
    expect(d.blessed).toBe(true);
    expect(d.reasons[0]).toContain('3 vs 4');
    expect(d.reasons[0]).toContain('25.00%');
  });

  it('champion boundary: exactly equal passes with required 0', () => {
    const d = decideGate(policy(), { candidate: m(8), baseline: m(10), champion: { version: 3, metrics: m(8) } });
    expect(d.blessed).toBe(true);
    expect(d.reasons[1]).toContain('meets the required improvement over champion v3 on rmse');
    expect(d.reasons[1]).toContain('8 vs 8');
    expect(d.reasons[1]).toContain('0.00%, required 0.00%');
  });

  it('champion boundary: exactly equal fails with required 0.01', () => {
    const d = decideGate(policy({ minImprovementOverChampion: 0.01 }), {
      candidate: m(8),
      baseline: m(10),
      champion: { version: 3, metrics: m(8) },
    });
    expect(d.blessed).toBe(false);
    expect(d.reasons[1]).toContain('misses the required improvement over champion v3');
    expect(d.reasons[1]).toContain('required 1.00%');
  });

  it('a clear improvement over the champion meets a 1% requirement', () => {
    // (8 - 7) / 8 = 12.5%
    const d = decideGate(policy({ minImprovementOverChampion: 0.01 }), {
      candidate: m(7),
      baseline: m(10),
      champion: { version: 12, metrics: m(8) },
    });
    expect(d.blessed).toBe(true);
    expect(d.reasons[1]).toContain('v12');
    expect(d.reasons[1]).toContain('7 vs 8');
    expect(d.reasons[1]).toContain('12.50%');
  });

  it('worse than the champion fails even when it beats the baseline', () => {
    const d = decideGate(policy(), { candidate: m(9), baseline: m(10), champion: { version: 1, metrics: m(8) } });
    expect(d.blessed).toBe(false);
    expect(d.reasons[0]).toContain('beats the naive baseline');
    expect(d.reasons[1]).toContain('misses');
    // (8 - 9) / 8 = -12.5%
    expect(d.reasons[1]).toContain('-12.50%');
  });

  it('beating the champion does not make up for losing to the baseline', () => {
    const d = decideGate(policy(), { candidate: m(11), baseline: m(10), champion: { version: 2, metrics: m(20) } });
    expect(d.blessed).toBe(false);
  });

  it('formats numbers to 6 significant digits', () => {
    const d = decideGate(policy(), { candidate: m(1.23456789), baseline: m(2), champion: null });
    expect(d.reasons[0]).toContain('1.23457 vs 2');
  });

  it.each([Number.NaN, Infinity])('never blesses a non-finite candidate metric (%s)', (bad) => {
    for (const mustBeatBaseline of [true, false]) {
      const d = decideGate(policy({ mustBeatBaseline }), { candidate: m(bad), baseline: m(10), champion: null });
      expect(d.blessed).toBe(false);
      expect(d.reasons[0]).toContain(`candidate rmse is ${bad}`);
    }
  });

  it('a non-finite candidate is not blessed even against a perfect champion reference', () => {
    const d = decideGate(policy({ primaryMetric: 'r2', mustBeatBaseline: false }), {
      candidate: m(1, 1, Number.NaN),
      baseline: m(1, 1, 0),
      champion: { version: 1, metrics: m(1, 1, 0) },
    });
    expect(d.blessed).toBe(false);
  });
});

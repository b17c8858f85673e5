import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_SKEW_THRESHOLDS,
  OTHER_LABEL,
  categoricalBins,
  chiSquareSf,
  chiSquareTest,
  currentOnReferenceEdges,
  featureSkew,
  jensenShannonDistance,
  kolmogorovSmirnovSf,
  ksTwoSample,
  logGamma,
  normedWassersteinDistance,
  numericBins,
  psi,
  regularizedGammaQ,
  skewLevel,
} from '../../src/domain/drift';

// Reference values from SciPy (scripts/fixtures/drift_reference.py); "Infinity" stands for ∞ in the JSON.
type Num = number | 'Infinity';
interface Fixture {
  scipyVersion: string;
  distributions: { name: string; reference: number[]; current: number[]; psi: number; jensenShannon: number }[];
  samples: {
    name: string;
    reference?: number[];
    current?: number[];
    lattice?: [number, number, number, number, number][];
    ks: { statistic: number; pValue: number; method: 'exact' | 'asymptotic' };
    normedWasserstein: number;
  }[];
  kstwoSf: { n: number; d: number; sf: number }[];
  gammaincc: { a: number; x: number; q: number }[];
  categorical: { name: string; reference: number[]; current: number[]; chiSquare: { statistic: Num; pValue: number } }[];
}
const fixture: Fixture = JSON.parse(readFileSync(new URL('../fixtures/drift-reference.json', import.meta.url), 'utf8'));
const num = (x: Num) => (x === 'Infinity' ? Infinity : x);

/** |actual − expected| ≤ rel·|expected|, with an absolute floor for values that are 0 (or underflow to it). */
function close(actual: number, expected: number, rel: number, what: string, abs = 1e-300) {
  if (expected === Infinity) return expect(actual, what).toBe(Infinity);
  expect(Math.abs(actual - expected), `${what}: ${actual} vs SciPy ${expected}`).toBeLessThanOrEqual(rel * Math.abs(expected) + abs);
}

/** The large samples, rebuilt exactly as the script builds them (same integer and IEEE double operations). */
const lattice = ([n, a, p, scale, shift]: number[]) => Array.from({ length: n }, (_, i) => (((a * i + 1) % p) / p) * scale + shift);

describe('PSI and Jensen–Shannon distance', () => {
  it.each(fixture.distributions.map((d) => [d.name, d] as const))('%s: as Evidently and SciPy to 1e-12', (_, d) => {
    close(psi(d.reference, d.current), d.psi, 1e-12, 'psi', 1e-15);
    close(jensenShannonDistance(d.reference, d.current), d.jensenShannon, 1e-12, 'js', 1e-15);
  });

  it('are 0 for the same shares and refuse empty or mismatched distributions', () => {
    expect(psi([1, 2, 3], [2, 4, 6])).toBe(0);
    expect(jensenShannonDistance([1, 2, 3], [2, 4, 6])).toBe(0);
    expect(() => psi([1, 2], [1, 2, 3])).toThrow(/same/);
    expect(() => psi([0, 0], [1, 2])).toThrow(/no values/);
    expect(() => jensenShannonDistance([1, -1], [1, 2])).toThrow(/non-negative/);
    expect(jensenShannonDistance([1, 0], [0, 1])).toBeCloseTo(Math.sqrt(Math.LN2), 15);
  });
});

describe('skew levels', () => {
  it('take the worse of PSI and JS, with the rule-of-thumb defaults', () => {
    expect(DEFAULT_SKEW_THRESHOLDS).toEqual({ psiWarning: 0.1, psiError: 0.25, jsWarning: 0.1, jsError: 0.2 });
    expect(skewLevel(0.05, 0.05)).toBe('ok');
    expect(skewLevel(0.1, 0.05)).toBe('warning');
    expect(skewLevel(0.25, 0.05)).toBe('error');
    expect(skewLevel(0.05, 0.1)).toBe('warning');
    expect(skewLevel(0.05, 0.2)).toBe('error');
    expect(skewLevel(0.3, 0.3, { psiWarning: 0.5, psiError: Infinity, jsWarning: 0.25, jsError: Infinity })).toBe('warning');
  });

  it('featureSkew reports shares that sum to 1 and the level of its statistics', () => {
    const s = featureSkew('x', 'numeric', numericBins({ edges: [0, 1, 2, 3], counts: [10, 20, 70] }, [30, 30, 40]));
    expect(s.bins.labels).toEqual(['0 – 1', '1 – 2', '2 – 3']);
    expect(s.bins.reference).toEqual([0.1, 0.2, 0.7]);
    expect(s.bins.current).toEqual([0.3, 0.3, 0.4]);
    const d = fixture.distributions.find((x) => x.name.startsWith('shares that do not sum'))!;
    close(s.psi, d.psi, 1e-12, 'psi');
    close(s.jensenShannon, d.jensenShannon, 1e-12, 'js');
    expect(s.level).toBe('error');
  });
});

describe('aligning distributions', () => {
  it('labels numeric bins with short edges', () => {
    const aligned = numericBins({ edges: [0.000123456, 1500.25, 3e6], counts: [1, 2] }, [2, 1]);
    expect(aligned.labels).toEqual(['0.0001235 – 1500', '1500 – 3e+6']);
    expect(() => numericBins({ edges: [0, 1, 2], counts: [1, 2] }, [1, 2, 3])).toThrow(/bins/);
  });

  it('re-bins a current histogram onto the reference edges, outside values into the outer bins', () => {
    const reference = { edges: [0, 10, 20, 30], counts: [5, 5, 5] };
    expect(currentOnReferenceEdges(reference, { edges: [5, 15, 25], counts: [10, 20] })).toEqual([5, 15, 10]);
    expect(currentOnReferenceEdges(reference, { edges: [-50, 50], counts: [100] })).toEqual([60, 10, 30]);
  });

  it('puts categories outside the reference top in one "other" bucket, left out when both sides have none', () => {
    const reference = { distinct: 3, top: [{ value: 'a', count: 6 }, { value: 'b', count: 3 }], otherCount: 1 };
    expect(categoricalBins(reference, [{ value: 'b', count: 4 }, { value: 'zzz', count: 5 }], 10)).toEqual({
      labels: ['a', 'b', OTHER_LABEL],
      reference: [6, 3, 1],
      current: [0, 4, 6],
    });
    const closed = { distinct: 2, top: reference.top, otherCount: 0 };
    expect(categoricalBins(closed, [{ value: 'a', count: 1 }, { value: 'b', count: 1 }], 2).labels).toEqual(['a', 'b']);
    expect(() => categoricalBins(closed, [{ value: 'a', count: 5 }], 2)).toThrow(/more than/);
  });
});

describe('two-sample Kolmogorov–Smirnov', () => {
  it.each(fixture.samples.map((s) => [s.name, s] as const))('%s: statistic and p-value as SciPy ks_2samp', (_, s) => {
    const [reference, current] = s.lattice ? s.lattice.map(lattice) : [s.reference!, s.current!];
    const result = ksTwoSample(reference, current);
    expect(result.method).toBe(s.ks.method);
    close(result.statistic, s.ks.statistic, 1e-12, 'statistic', 1e-15);
    close(result.pValue, s.ks.pValue, 1e-9, 'p-value');
    close(normedWassersteinDistance(reference, current), s.normedWasserstein, 1e-9, 'normed Wasserstein', 1e-15);
  });

  it('the exact p-value of the largest exact samples takes well under a second', () => {
    const [a, b] = [lattice([10000, 7919, 10007, 1, 0]), lattice([10000, 104729, 15013, 1.1, 0])];
    const started = performance.now();
    const result = ksTwoSample(a, b);
    expect(result.method).toBe('exact');
    expect(result.pValue).toBeLessThan(1e-10);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('refuses empty samples and values that are not finite', () => {
    expect(() => ksTwoSample([], [1])).toThrow(/no values/);
    expect(() => ksTwoSample([1, Number.NaN], [1])).toThrow(/finite/);
    expect(() => normedWassersteinDistance([1], [Infinity])).toThrow(/finite/);
  });

  // Every branch of the Kolmogorov distribution (closed forms, Smirnov tails, Durbin's matrix, Pelz–Good).
  it(`the Kolmogorov distribution matches SciPy's kstwo.sf on ${fixture.kstwoSf.length} points to 1e-9`, () => {
    for (const { n, d, sf } of fixture.kstwoSf) close(kolmogorovSmirnovSf(n, d), sf, 1e-9, `kstwo.sf(${d}, ${n})`, 1e-300);
  });
});

describe('chi-square', () => {
  it(`the regularized upper incomplete gamma function matches SciPy's gammaincc on ${fixture.gammaincc.length} points to 1e-10`, () => {
    for (const { a, x, q } of fixture.gammaincc) close(regularizedGammaQ(a, x), q, 1e-10, `gammaincc(${a}, ${x})`, 1e-300);
  });

  it('log-gamma is exact on integers and half-integers to 1e-14', () => {
    let logFactorial = 0;
    for (let n = 1; n <= 170; n++) {
      close(logGamma(n), logFactorial, 1e-14, `lgamma(${n})`, 1e-15);
      logFactorial += Math.log(n);
    }
    close(logGamma(0.5), Math.log(Math.sqrt(Math.PI)), 1e-15, 'lgamma(0.5)');
    close(chiSquareSf(3.841458820694124, 1), 0.05, 1e-12, 'chi2.sf(3.84, 1)');
  });

  it.each(fixture.categorical.map((c) => [c.name, c] as const))('%s: as Evidently’s chisquare stat test', (_, c) => {
    const result = chiSquareTest(c.reference, c.current);
    close(result.statistic, num(c.chiSquare.statistic), 1e-12, 'statistic', 1e-15);
    close(result.pValue, c.chiSquare.pValue, 1e-9, 'p-value');
    expect(result.degreesOfFreedom).toBe(c.reference.length - 1);
  });

  it('leaves out categories empty on both sides', () => {
    expect(chiSquareTest([5, 0, 5], [4, 0, 6])).toEqual(chiSquareTest([5, 5], [4, 6]));
  });
});

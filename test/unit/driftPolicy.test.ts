// The drift verdicts against Evidently 0.7 itself: test/fixtures/evidently-drift.json holds small seeded
// datasets with DataDriftPreset's per-column test, score and verdict (scripts/fixtures/evidently_drift.py).
// Here the same values go through the domain's choice of test, statistics and verdicts. Also the
// statistics from summaries (ECDF steps, binned Wasserstein) against the same statistics from the values.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  binnedNormedWasserstein,
  chiSquareHomogeneity,
  chiSquareTest,
  jensenShannonDistance,
  ksFromEcdf,
  ksTwoSample,
  normedWassersteinDistance,
  proportionsZTest,
} from '../../src/domain/drift';
import { chooseTest, judgeDataset, judgeFeature, type DriftTest, type FeatureKind, type FeatureStatistics } from '../../src/domain/driftPolicy';
import { mulberry32 } from '../../src/domain/split';
import { DriftPolicy } from '../../src/schemas/monitoring';
import { evidentlyFixture, type FixtureValue } from '../support/evidentlyFixture';

type Value = FixtureValue;
const fixture = evidentlyFixture;
const policy = DriftPolicy.parse({ minCurrentRows: 1, chiSquare: 'evidently' }) // Evidently's own test, to compare verdicts with it;

/** Value counts of both sides over the values of either (Evidently's keys). */
function unionCounts(reference: Value[], current: Value[]) {
  const count = (xs: Value[]) => xs.reduce((m, x) => m.set(String(x), (m.get(String(x)) ?? 0) + 1), new Map<string, number>());
  const [r, c] = [count(reference), count(current)];
  return [...new Set([...r.keys(), ...c.keys()])].map((v) => ({ reference: r.get(v) ?? 0, current: c.get(v) ?? 0 }));
}

/** A feature's statistics computed from its values, with the domain's functions (no data engine). */
function statisticsOf(feature: string, kind: FeatureKind, referenceAll: Value[], currentAll: Value[]): FeatureStatistics {
  const [reference, current] = [referenceAll.filter((v) => v !== null), currentAll.filter((v) => v !== null)];
  const counts = unionCounts(reference, current);
  const test = chooseTest(kind, reference.length, counts.length, policy);
  const [r, c] = [counts.map((x) => x.reference), counts.map((x) => x.current)];
  let statistic: number;
  if (test === 'ks') statistic = ksTwoSample(reference as number[], current as number[]).pValue;
  else if (test === 'wasserstein') statistic = normedWassersteinDistance(reference as number[], current as number[]);
  else if (test === 'chi-square') statistic = chiSquareTest(r, c).pValue;
  else if (test === 'z') statistic = proportionsZTest(counts).pValue;
  else statistic = jensenShannonDistance(r, c);
  return {
    feature,
    kind,
    test,
    statistic,
    pValue: null,
    psi: 0,
    approximationError: 0,
    quality: { missingShare: { reference: 0, current: 0 }, outOfDomainShare: null, unseenCategoryShare: null, unseenCategories: [] },
    histogram: { bins: [], reference: [], current: [] },
  };
}

describe('verdicts against Evidently ' + fixture.evidentlyVersion, () => {
  it('covers every test Evidently chooses by default', () => {
    const tests = new Set(fixture.datasets.flatMap((d) => Object.values(d.evidently.columns).map((c) => c.test)));
    expect([...tests].sort()).toEqual(['chi-square', 'jensen-shannon', 'ks', 'wasserstein', 'z']);
  });

  for (const d of fixture.datasets) {
    it(d.name, () => {
      const features = [...d.numerical.map((f) => [f, 'numeric'] as const), ...d.categorical.map((f) => [f, 'categorical'] as const)];
      const statistics = features.map(([f, kind]) => statisticsOf(f, kind, d.reference[f], d.current[f]));
      for (const s of statistics) {
        const theirs = d.evidently.columns[s.feature];
        expect(s.test, s.feature).toBe(theirs.test);
        // SciPy's p-values and distances, to the precision they can share (p-values near 0 absolutely).
        expect(Math.abs(s.statistic - theirs.score), `${s.feature}: ${s.statistic} vs ${theirs.score}`).toBeLessThanOrEqual(1e-9 * Math.max(1, theirs.score) + 1e-12);
      }
      const result = judgeDataset({ reference: d.reference.amount.length, current: d.current.amount.length }, statistics, policy);
      expect(result.driftedFeatures.sort()).toEqual(d.evidently.drifted);
      expect(result.share).toBeCloseTo(d.evidently.share, 12);
      expect(result.datasetDrift).toBe(d.evidently.datasetDrift);
    });
  }
});

describe('chooseTest (Evidently 0.7 registry._get_default_stattest)', () => {
  it.each([
    ['numeric', 1000, 100, 'ks'],
    ['numeric', 1000, 6, 'ks'],
    ['numeric', 1000, 5, 'chi-square'],
    ['numeric', 1000, 3, 'chi-square'],
    ['numeric', 1000, 2, 'z'],
    ['categorical', 1000, 40, 'chi-square'],
    ['categorical', 1000, 2, 'z'],
    ['categorical', 10, 1, 'z'],
    ['numeric', 1001, 100, 'wasserstein'],
    ['numeric', 1001, 6, 'wasserstein'],
    ['numeric', 1001, 5, 'jensen-shannon'],
    ['numeric', 1001, 2, 'jensen-shannon'],
    ['categorical', 1001, 2, 'jensen-shannon'],
    ['categorical', 5_000_000, 80, 'jensen-shannon'],
  ] as const)('%s, %i reference values, %i distinct → %s', (kind, rows, distinct, test) => {
    expect(chooseTest(kind, rows, distinct, DriftPolicy.parse({}))).toBe(test);
  });

  it('takes the size limit from the policy', () => {
    expect(chooseTest('numeric', 5000, 100, DriftPolicy.parse({ smallReferenceRows: 10_000 }))).toBe('ks');
  });
});

const stats = (test: DriftTest, statistic: number, psi = 0): FeatureStatistics => ({ ...statisticsOf('x', 'numeric', [1], [1]), test, statistic, psi, pValue: null });

describe('judgeFeature: each test compares with its threshold as Evidently does', () => {
  const p = DriftPolicy.parse({});
  it('KS drifts at p ≤ α, chi-square and z only below α', () => {
    expect(judgeFeature(stats('ks', 0.05), p).drifted).toBe(true);
    expect(judgeFeature(stats('chi-square', 0.05), p).drifted).toBe(false);
    expect(judgeFeature(stats('z', 0.05), p).drifted).toBe(false);
    expect(judgeFeature(stats('chi-square', 0.0499), p).drifted).toBe(true);
    expect(judgeFeature(stats('ks', 0.0501), p).drifted).toBe(false);
  });
  it('distances drift at or above their thresholds, each its own', () => {
    const q = DriftPolicy.parse({ wassersteinThreshold: 0.2, jensenShannonThreshold: 0.05 });
    expect(judgeFeature(stats('wasserstein', 0.2), q)).toMatchObject({ drifted: true, threshold: 0.2 });
    expect(judgeFeature(stats('wasserstein', 0.19), q).drifted).toBe(false);
    expect(judgeFeature(stats('jensen-shannon', 0.05), q)).toMatchObject({ drifted: true, threshold: 0.05 });
    expect(judgeFeature(stats('jensen-shannon', 0.049), q).drifted).toBe(false);
  });
  it('PSI calls drift alone only when the policy sets a PSI threshold', () => {
    expect(judgeFeature(stats('wasserstein', 0.01, 0.5), p).drifted).toBe(false);
    expect(judgeFeature(stats('wasserstein', 0.01, 0.5), DriftPolicy.parse({ psiThreshold: 0.25 })).drifted).toBe(true);
  });
});

describe('judgeDataset', () => {
  const features = (drifted: number, of: number) => Array.from({ length: of }, (_, i) => ({ ...stats('wasserstein', i < drifted ? 0.3 : 0.01), feature: `f${i}` }));
  it('calls dataset drift when the drifted share reaches driftShare', () => {
    const p = DriftPolicy.parse({});
    expect(judgeDataset({ reference: 5000, current: 5000 }, features(2, 4), p)).toMatchObject({ share: 0.5, datasetDrift: true, driftedFeatures: ['f0', 'f1'] });
    expect(judgeDataset({ reference: 5000, current: 5000 }, features(1, 4), p)).toMatchObject({ share: 0.25, datasetDrift: false });
    expect(judgeDataset({ reference: 5000, current: 5000 }, features(1, 4), DriftPolicy.parse({ driftShare: 0.25 })).datasetDrift).toBe(true);
  });
  it('judges nothing on too few current rows, and says so', () => {
    const result = judgeDataset({ reference: 5000, current: 99 }, features(4, 4), DriftPolicy.parse({}));
    expect(result).toMatchObject({ enoughData: false, datasetDrift: false, driftedFeatures: [] });
    expect(result.findings[0]).toMatch(/not enough data: 99 current rows/);
  });
  it('reports data-quality problems beyond the policy', () => {
    const f = stats('wasserstein', 0.01);
    const bad = [
      { ...f, feature: 'a', quality: { ...f.quality, missingShare: { reference: 0.02, current: 0.2 } } },
      { ...f, feature: 'b', quality: { ...f.quality, outOfDomainShare: 0.07 } },
      { ...f, feature: 'c', kind: 'categorical' as const, quality: { ...f.quality, unseenCategoryShare: 0.3, unseenCategories: ['Tesla'] } },
      { ...f, feature: 'd', quality: { ...f.quality, missingShare: { reference: 0.02, current: 0.1 }, outOfDomainShare: 0.04 } },
    ];
    const findings = judgeDataset({ reference: 5000, current: 5000 }, bad, DriftPolicy.parse({})).findings.join('\n');
    expect(findings).toMatch(/a: missing values rose from 2\.0% to 20\.0%/);
    expect(findings).toMatch(/b: 7\.0% of current values lie outside/);
    expect(findings).toMatch(/c: 30\.0% of current values are categories the reference never had \("Tesla"\)/);
    expect(findings).not.toMatch(/^d:/m);
  });
  it('flags a binned estimate whose error bound reaches the threshold', () => {
    const close = { ...stats('wasserstein', 0.0999), approximationError: 0.0002 };
    expect(judgeDataset({ reference: 5000, current: 5000 }, [close], DriftPolicy.parse({})).findings.join('\n')).toMatch(/within its approximation error/);
  });
});

/** Seeded samples with ties (values rounded) of different sizes and shifts. */
function samples(seed: number) {
  const next = mulberry32(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
  const digits = [0, 1, 3][seed % 3];
  const round = (x: number) => Math.round(x * 10 ** digits) / 10 ** digits;
  const [n1, n2] = [20 + Math.floor(next() * 900), 20 + Math.floor(next() * 3000)];
  const shift = (seed % 4) * 0.1;
  return {
    reference: Array.from({ length: n1 }, () => round(5 + 2 * normal())),
    current: Array.from({ length: n2 }, () => round(5 + shift + 2 * (1 + shift) * normal())),
  };
}

describe('statistics from summaries equal the statistics from the values', () => {
  it('ksFromEcdf: the KS test from the CDFs at the reference values', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const { reference, current } = samples(seed);
      const distinct = [...new Set(reference)].sort((a, b) => a - b);
      const steps = distinct.map((r) => ({
        referenceAtOrBelow: reference.filter((x) => x <= r).length,
        currentBelow: current.filter((x) => x < r).length,
        currentAtOrBelow: current.filter((x) => x <= r).length,
      }));
      expect(ksFromEcdf(steps, reference.length, current.length), `seed ${seed}`).toEqual(ksTwoSample(reference, current));
    }
  });

  it('binnedNormedWasserstein: within its error bound of the exact distance, and far closer in practice', () => {
    let worstRelative = 0;
    for (let seed = 1; seed <= 40; seed++) {
      const { reference, current } = samples(seed);
      const all = [...reference, ...current];
      const [min, max] = [Math.min(...all), Math.max(...all)];
      const bins = 4096;
      const counts = (xs: number[]) => xs.reduce((h, x) => (h[Math.min(bins - 1, Math.floor((x - min) / ((max - min) / bins)))]++, h), new Array<number>(bins).fill(0));
      const [r, c] = [counts(reference), counts(current)];
      // Only the non-empty bins, as the engine lists them, shuffled: the order must not matter.
      const grid = r.map((n, index) => ({ index, reference: n, current: c[index] })).filter((b) => b.reference + b.current > 0);
      grid.sort((a, b) => ((a.index * 7919) % 101) - ((b.index * 7919) % 101));
      const mean = reference.reduce((s, x) => s + x, 0) / reference.length;
      const std = Math.sqrt(reference.reduce((s, x) => s + (x - mean) ** 2, 0) / reference.length);
      const exact = normedWassersteinDistance(reference, current);
      const binned = binnedNormedWasserstein((max - min) / bins, grid, std);
      expect(Math.abs(binned.distance - exact), `seed ${seed}`).toBeLessThanOrEqual(binned.errorBound);
      // The bound is about (max − min) / bins / std; the error itself is far smaller on such data.
      expect(binned.errorBound).toBeLessThan(((max - min) / bins / std) * 2 + 1e-12);
      worstRelative = Math.max(worstRelative, Math.abs(binned.distance - exact) / binned.errorBound);
    }
    expect(worstRelative).toBeLessThan(0.5);
  });

  it('proportionsZTest: one value on both sides is no evidence; the sign follows the second value', () => {
    expect(proportionsZTest([{ reference: 10, current: 4 }])).toEqual({ statistic: 0, pValue: 1 });
    const z = proportionsZTest([
      { reference: 70, current: 50 },
      { reference: 30, current: 50 },
    ]);
    expect(z.statistic).toBeLessThan(0);
    // Two-sided: P(|Z| ≥ 2.887) for p1 = 0.3, p2 = 0.5, n = 100 each (pooled 0.4).
    expect(z.statistic).toBeCloseTo(-0.2 / Math.sqrt(0.4 * 0.6 * 0.02), 12);
    expect(z.pValue).toBeCloseTo(0.003892, 5);
  });
});

describe('chiSquareHomogeneity against SciPy (chi2_contingency without correction, test/fixtures/drift-reference.json)', () => {
  const scipy: { categorical: { name: string; reference: number[]; current: number[]; homogeneity: { statistic: number; pValue: number; degreesOfFreedom: number } }[] } = JSON.parse(
    readFileSync(new URL('../fixtures/drift-reference.json', import.meta.url), 'utf8'),
  );
  it.each(scipy.categorical.map((c) => [c.name, c] as const))('%s', (_, c) => {
    const result = chiSquareHomogeneity(c.reference, c.current);
    expect(result.degreesOfFreedom).toBe(c.homogeneity.degreesOfFreedom);
    expect(result.statistic).toBeCloseTo(c.homogeneity.statistic, 9);
    expect(Math.abs(result.pValue - c.homogeneity.pValue)).toBeLessThanOrEqual(1e-9 * c.homogeneity.pValue + 1e-15);
  });
});

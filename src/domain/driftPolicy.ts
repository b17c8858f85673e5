// When a feature, and the dataset, drifted: the choice of test and the verdicts of the drift monitor,
// following Evidently 0.7's DataDriftPreset at its defaults (evidently/legacy/calculations/stattests:
// registry._get_default_stattest and each test's comparison with its threshold; data_drift.get_dataset_drift),
// with every threshold taken from the DriftPolicy. Pure: the statistics come from the data engine.
import type { DriftPolicy } from '../schemas/monitoring';

export type FeatureKind = 'numeric' | 'categorical';
/** 'z' is Evidently's two-proportion z-test, its choice for a small reference with at most two values. */
export type DriftTest = 'ks' | 'chi-square' | 'z' | 'wasserstein' | 'jensen-shannon';

/** Numeric features with at most this many distinct values (both sides together) are tested as categories. */
export const FEW_VALUES = 5;
/** A feature with at most this many distinct values is tested with the z-test (small reference). */
const BINARY = 2;

/**
 * Evidently's default test. With at most `policy.smallReferenceRows` reference values (present, finite):
 * numeric → KS, or chi-square on the values when there are at most 5 distinct values (z-test at most 2);
 * categorical → chi-square (z-test with at most 2 categories). With more: numeric → normed Wasserstein,
 * or Jensen–Shannon on the values' counts when at most 5 distinct values; categorical → Jensen–Shannon.
 * `distinct` counts the present values of both samples together.
 */
export function chooseTest(kind: FeatureKind, referenceValues: number, distinct: number, policy: DriftPolicy): DriftTest {
  const fewValues = kind === 'categorical' || distinct <= FEW_VALUES;
  if (referenceValues <= policy.smallReferenceRows) return !fewValues ? 'ks' : distinct > BINARY ? 'chi-square' : 'z';
  return fewValues ? 'jensen-shannon' : 'wasserstein';
}

/** Tests whose statistic is a p-value compared with policy.pValue; the others compare a distance. */
export const isPValueTest = (test: DriftTest) => test === 'ks' || test === 'chi-square' || test === 'z';

export function thresholdOf(test: DriftTest, policy: DriftPolicy): number {
  if (isPValueTest(test)) return policy.pValue;
  return test === 'wasserstein' ? policy.wassersteinThreshold : policy.jensenShannonThreshold;
}

/**
 * Evidently's comparisons, kept exactly because a score can sit on the threshold: KS drifts at p ≤ α,
 * chi-square and the z-test at p < α, the distances at d ≥ threshold.
 */
function beyond(test: DriftTest, score: number, threshold: number): boolean {
  if (test === 'ks') return score <= threshold;
  if (test === 'chi-square' || test === 'z') return score < threshold;
  return score >= threshold;
}

export interface FeatureQuality {
  /** Share of rows without a usable value (missing, not a number for a numeric feature, infinite), per side. */
  missingShare: { reference: number; current: number };
  /** Numeric: share of current values outside the reference's [min, max]; null for categorical features. */
  outOfDomainShare: number | null;
  /** Categorical: share of current values in categories the reference never had; null for numeric features. */
  unseenCategoryShare: number | null;
  /** A few of those categories, most frequent first. */
  unseenCategories: string[];
}

export interface FeatureHistogram {
  /** Numeric: bin edges (one more than the counts); categorical: the categories (the last may be "(other)"). */
  bins: number[] | string[];
  /** Counts of present values in each bin. */
  reference: number[];
  current: number[];
}

export interface FeatureDrift {
  feature: string;
  kind: FeatureKind;
  test: DriftTest;
  /** The test's score as Evidently reports it: the p-value for KS, chi-square and z, else the distance. */
  statistic: number;
  /** The p-value of a p-value test (equal to statistic), null for distances. */
  pValue: number | null;
  /** The value `statistic` is compared with. */
  threshold: number;
  drifted: boolean;
  /** Population stability index on the reference profile's bins (numeric) or on the categories: reported always. */
  psi: number;
  /** Wasserstein from binned counts: a bound on the error of `statistic`; 0 when computed exactly. */
  approximationError: number;
  quality: FeatureQuality;
  histogram: FeatureHistogram;
}

/** A feature's statistics before the verdict: everything but threshold and drifted. */
export type FeatureStatistics = Omit<FeatureDrift, 'threshold' | 'drifted'>;

export interface DriftResult {
  rows: { reference: number; current: number };
  /** False when the current data has fewer than policy.minCurrentRows rows: then nothing is called drifted. */
  enoughData: boolean;
  features: FeatureDrift[];
  driftedFeatures: string[];
  /** Share of the features that drifted. */
  share: number;
  datasetDrift: boolean;
  /** What a person should read: the dataset verdict, drifted features, data-quality problems. */
  findings: string[];
}

/** The verdict on one feature: its test's score against the threshold, or its PSI against policy.psiThreshold when set. */
export function judgeFeature(s: FeatureStatistics, policy: DriftPolicy): FeatureDrift {
  const threshold = thresholdOf(s.test, policy);
  const drifted = beyond(s.test, s.statistic, threshold) || (policy.psiThreshold !== null && s.psi >= policy.psiThreshold);
  return { ...s, threshold, drifted };
}

const percent = (x: number) => `${(x * 100).toFixed(1)}%`;
const TEST_NAMES: Record<DriftTest, string> = {
  ks: 'Kolmogorov–Smirnov p',
  'chi-square': 'chi-square p',
  z: 'z-test p',
  wasserstein: 'normed Wasserstein',
  'jensen-shannon': 'Jensen–Shannon',
};

/**
 * The dataset's verdict, as Evidently's get_dataset_drift: drift when the share of drifted features is at
 * least policy.driftShare. With fewer current rows than policy.minCurrentRows nothing is judged (every
 * feature keeps its statistics but drifted is false), so that a quiet hour does not read as "no drift".
 */
export function judgeDataset(rows: DriftResult['rows'], statistics: FeatureStatistics[], policy: DriftPolicy): DriftResult {
  const enoughData = rows.current >= policy.minCurrentRows;
  const features = statistics.map((s) => {
    const judged = judgeFeature(s, policy);
    return enoughData ? judged : { ...judged, drifted: false };
  });
  const driftedFeatures = features.filter((f) => f.drifted).map((f) => f.feature);
  const share = features.length === 0 ? 0 : driftedFeatures.length / features.length;
  const datasetDrift = enoughData && features.length > 0 && share >= policy.driftShare;
  const findings: string[] = [];
  if (!enoughData) findings.push(`not enough data: ${rows.current} current rows, fewer than the ${policy.minCurrentRows} the policy needs to judge drift`);
  else {
    findings.push(
      `${datasetDrift ? 'dataset drift' : 'no dataset drift'}: ${driftedFeatures.length} of ${features.length} features drifted (${percent(share)}; the policy calls dataset drift at ${percent(policy.driftShare)})`,
    );
  }
  for (const f of features) {
    const score = `${TEST_NAMES[f.test]} ${f.statistic.toPrecision(3)} (threshold ${f.threshold})`;
    if (f.drifted) findings.push(`${f.feature}: drifted, ${score}, PSI ${f.psi.toFixed(3)}`);
    // A binned Wasserstein estimate this close to its threshold could be on the other side of it.
    if (f.approximationError > 0 && Math.abs(f.statistic - f.threshold) <= f.approximationError) {
      findings.push(`${f.feature}: ${score} is within its approximation error (±${f.approximationError.toPrecision(2)}) of the threshold`);
    }
    findings.push(...qualityFindings(f, policy));
  }
  return { rows, enoughData, features, driftedFeatures, share, datasetDrift, findings };
}

function qualityFindings(f: FeatureDrift, policy: DriftPolicy): string[] {
  const out: string[] = [];
  const { missingShare, outOfDomainShare, unseenCategoryShare, unseenCategories } = f.quality;
  if (missingShare.current - missingShare.reference > policy.missingShareIncrease) {
    out.push(`${f.feature}: missing values rose from ${percent(missingShare.reference)} to ${percent(missingShare.current)}`);
  }
  if (outOfDomainShare !== null && outOfDomainShare > policy.outOfDomainShare) {
    out.push(`${f.feature}: ${percent(outOfDomainShare)} of current values lie outside the reference's range`);
  }
  if (unseenCategoryShare !== null && unseenCategoryShare > policy.unseenCategoryShare) {
    out.push(`${f.feature}: ${percent(unseenCategoryShare)} of current values are categories the reference never had (${unseenCategories.map((c) => JSON.stringify(c)).join(', ')})`);
  }
  return out;
}

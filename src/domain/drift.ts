// Skew and drift statistics: how far the distribution of a feature has moved from a reference (the
// production model's dataset). Validation compares a new dataset with it (skew); scheduled monitoring
// compares recent serving data with it (drift). Pure functions; the reference values in the tests come
// from SciPy (test/fixtures/drift-reference.json, made by scripts/fixtures/drift_reference.py).
import { rebinHistogram, type CategoricalSummary, type Histogram } from './profile';
import type { FeatureSkew, SkewLevel } from './report';

export interface SkewThresholds {
  psiWarning: number;
  psiError: number;
  jsWarning: number;
  jsError: number;
}

/** PSI: the usual rule of thumb (below 0.1 stable, 0.1–0.25 moderate shift, above 0.25 major). JS distance has levels of its own. */
export const DEFAULT_SKEW_THRESHOLDS: SkewThresholds = { psiWarning: 0.1, psiError: 0.25, jsWarning: 0.1, jsError: 0.2 };

/** The worse of the PSI's and the Jensen–Shannon distance's levels. */
export function skewLevel(psiValue: number, js: number, thresholds: SkewThresholds = DEFAULT_SKEW_THRESHOLDS): SkewLevel {
  if (psiValue >= thresholds.psiError || js >= thresholds.jsError) return 'error';
  if (psiValue >= thresholds.psiWarning || js >= thresholds.jsWarning) return 'warning';
  return 'ok';
}

function totalOf(counts: number[], what: string): number {
  if (counts.some((c) => !(c >= 0 && c < Infinity))) throw new RangeError(`${what}: counts must be finite non-negative numbers`);
  const total = counts.reduce((s, c) => s + c, 0);
  if (!(total > 0)) throw new RangeError(`${what}: no values`);
  return total;
}

function shares(counts: number[], what: string): number[] {
  const total = totalOf(counts, what);
  return counts.map((c) => c / total);
}

function sameLength(reference: number[], current: number[]) {
  if (reference.length !== current.length || reference.length === 0) throw new RangeError('the two distributions must have the same, non-zero number of bins');
}

/**
 * Population stability index, Σ (r − c) · ln(r / c), over the shares of the same bins (counts are
 * normalized first). As Evidently does, a zero share is replaced by 0.0001, or by a millionth of the
 * smallest non-zero share of the same distribution when that is at most 0.0001, so that an empty bin
 * counts as a large but finite difference.
 */
export function psi(reference: number[], current: number[]): number {
  sameLength(reference, current);
  const [r, c] = [withoutZeros(shares(reference, 'reference')), withoutZeros(shares(current, 'current'))];
  return r.reduce((sum, ri, i) => sum + (ri - c[i]) * Math.log(ri / c[i]), 0);
}

function withoutZeros(p: number[]): number[] {
  const smallest = Math.min(...p.filter((x) => x > 0));
  const fill = smallest <= 0.0001 ? smallest / 1e6 : 0.0001;
  return p.map((x) => (x === 0 ? fill : x));
}

/**
 * Jensen–Shannon distance with natural logarithms, as SciPy's `jensenshannon(p, q)`: the square root of
 * the mean Kullback–Leibler divergence of each normalized distribution from their average. In [0, √ln 2].
 */
export function jensenShannonDistance(reference: number[], current: number[]): number {
  sameLength(reference, current);
  const [p, q] = [shares(reference, 'reference'), shares(current, 'current')];
  let divergence = 0;
  for (let i = 0; i < p.length; i++) {
    const m = (p[i] + q[i]) / 2;
    if (p[i] > 0) divergence += p[i] * Math.log(p[i] / m);
    if (q[i] > 0) divergence += q[i] * Math.log(q[i] / m);
  }
  return Math.sqrt(Math.max(0, divergence) / 2);
}

/** Two distributions over the same bins, as counts of present values (missing values are not counted). */
export interface AlignedCounts {
  labels: string[];
  reference: number[];
  current: number[];
}

/** Four significant digits, without trailing zeros after the decimal point. */
function formatEdge(x: number): string {
  if (Number.isInteger(x) && Math.abs(x) < 1e6) return String(x);
  const s = x.toPrecision(4);
  return s.includes('.') ? s.replace(/\.?0+(?=e|$)/, '') : s;
}

/**
 * A numeric feature on the reference histogram's bins: `currentCounts` are the current values counted on
 * `reference.edges` with the profiler's rule (binIndex: values below the first edge count in the first bin,
 * values above the last edge in the last bin, so a shift beyond the reference's range shows as growth of
 * its outer bins). A reference whose values were all equal has one bin, where nothing can move.
 */
export function numericBins(reference: Histogram, currentCounts: number[]): AlignedCounts {
  if (currentCounts.length !== reference.counts.length) throw new RangeError('current counts must be on the reference histogram’s bins');
  const labels = reference.counts.map((_, i) => `${formatEdge(reference.edges[i])} – ${formatEdge(reference.edges[i + 1])}`);
  return { labels, reference: [...reference.counts], current: [...currentCounts] };
}

/**
 * The current histogram's counts moved onto the reference histogram's edges, assuming the values of each
 * current bin are spread uniformly over it (rebinHistogram): for comparing two stored profiles, when the
 * current values themselves are not at hand. Outside values go to the outer bins as in numericBins.
 */
export function currentOnReferenceEdges(reference: Histogram, current: Histogram): number[] {
  return rebinHistogram(current, reference.edges);
}

/** The label of the bucket of values outside the reference's top categories. */
export const OTHER_LABEL = '(other)';

/**
 * A categorical feature on the reference's top categories plus one bucket for every other value.
 * `current` lists current counts by value (values that are not reference top categories are ignored) and
 * `currentPresent` is the number of current present values: what is not in the reference's top is "other".
 * From a current profile's `top`, a reference category that the current profile counted in its own
 * otherCount is counted as "other" here. The "other" bucket is left out when both sides have none.
 */
export function categoricalBins(reference: CategoricalSummary, current: { value: string; count: number }[], currentPresent: number): AlignedCounts {
  const byValue = new Map(current.map((c) => [c.value, c.count]));
  const aligned = reference.top.map((t) => byValue.get(t.value) ?? 0);
  const currentOther = currentPresent - aligned.reduce((s, c) => s + c, 0);
  if (currentOther < 0) throw new RangeError('current counts add up to more than currentPresent');
  const labels = reference.top.map((t) => t.value);
  const referenceCounts = reference.top.map((t) => t.count);
  if (reference.otherCount > 0 || currentOther > 0) {
    labels.push(OTHER_LABEL);
    referenceCounts.push(reference.otherCount);
    aligned.push(currentOther);
  }
  return { labels, reference: referenceCounts, current: aligned };
}

/** The skew of one feature over aligned counts: PSI, Jensen–Shannon distance, level, and the shares to chart. */
export function featureSkew(column: string, kind: FeatureSkew['kind'], counts: AlignedCounts, thresholds: SkewThresholds = DEFAULT_SKEW_THRESHOLDS): FeatureSkew {
  const p = psi(counts.reference, counts.current);
  const js = jensenShannonDistance(counts.reference, counts.current);
  return {
    column,
    kind,
    psi: p,
    jensenShannon: js,
    level: skewLevel(p, js, thresholds),
    bins: { labels: counts.labels, reference: shares(counts.reference, 'reference'), current: shares(counts.current, 'current') },
  };
}

// ---------------------------------------------------------------------------------------------------
// Tests for drift monitoring (issue 17): Kolmogorov–Smirnov, chi-square, normed Wasserstein distance.

const finiteSorted = (values: number[], what: string) => {
  if (values.length === 0) throw new RangeError(`${what}: no values`);
  if (values.some((v) => !Number.isFinite(v))) throw new RangeError(`${what}: values must be finite numbers`);
  return Float64Array.from(values).sort();
};

export interface KsResult {
  statistic: number;
  pValue: number;
  /** As SciPy's ks_2samp with method 'auto': exact when neither sample has more than 10,000 values. */
  method: 'exact' | 'asymptotic';
}

/** Above this many values in either sample, the p-value is asymptotic (SciPy's MAX_AUTO_N). */
const KS_EXACT_MAX_N = 10_000;

/**
 * Two-sided two-sample Kolmogorov–Smirnov test, as SciPy's `ks_2samp(reference, current)` (method 'auto').
 * The statistic is the largest distance between the two empirical CDFs. The p-value is exact (the
 * proportion of lattice paths leaving the band, by Viehmann's stable recursion for it) when both samples
 * have at most 10,000 values; the statistic is then rounded to a multiple of 1/lcm(n, m) as SciPy does.
 * Otherwise it is the one-sample Kolmogorov distribution's survival function at n = round(n·m/(n+m)),
 * as SciPy's `kstwo.sf` (kolmogorovSmirnovSf).
 */
export function ksTwoSample(reference: number[], current: number[]): KsResult {
  const [a, b] = [finiteSorted(reference, 'reference'), finiteSorted(current, 'current')];
  const [n1, n2] = [a.length, b.length];
  let d = 0;
  for (let i = 0, j = 0; i < n1 && j < n2; ) {
    // Step past one value in both samples at once, so that ties do not open a false gap.
    const x = Math.min(a[i], b[j]);
    while (i < n1 && a[i] === x) i++;
    while (j < n2 && b[j] === x) j++;
    d = Math.max(d, Math.abs(i / n1 - j / n2));
  }
  return ksFromStatistic(d, n1, n2);
}

/**
 * The KS test for a statistic d between samples of n1 and n2 values, by ksTwoSample's choice of method:
 * for when the statistic comes from counts (ksFromEcdf) rather than from the values themselves.
 */
export function ksFromStatistic(d: number, n1: number, n2: number): KsResult {
  if (!(Number.isInteger(n1) && n1 > 0 && Number.isInteger(n2) && n2 > 0)) throw new RangeError(`sample sizes must be positive integers, got ${n1} and ${n2}`);
  if (Math.max(n1, n2) <= KS_EXACT_MAX_N) {
    const g = gcd(n1, n2);
    const lcm = (n1 / g) * n2;
    const h = Math.round(d * lcm);
    return { statistic: h / lcm, pValue: h === 0 ? 1 : clamp01(pathsLeavingBand(n1, n2, g, h)), method: 'exact' };
  }
  return { statistic: d, pValue: kolmogorovSmirnovSf(roundHalfEven((n1 * n2) / (n1 + n2)), d), method: 'asymptotic' };
}

const clamp01 = (p: number) => Math.min(1, Math.max(0, p));
const gcd = (x: number, y: number): number => (y === 0 ? x : gcd(y, x % y));
/** NumPy's rounding (half to even), which SciPy applies to n·m/(n+m). */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * The probability that a random monotone lattice path from (0, 0) to (m, n) touches |x·n/g − y·m/g| ≥ h,
 * i.e. that the two empirical CDFs differ by at least h/lcm(m, n) somewhere under the null hypothesis.
 * For a point inside the band, P(x, y) = (x·P(x−1, y) + y·P(x, y−1)) / (x + y) (the path arrives from the
 * left with probability x/(x+y)); points outside have P = 1. A convex combination at every step, so the
 * result keeps its relative precision even for tiny p-values (Viehmann 2021, arXiv:2102.08037).
 */
function pathsLeavingBand(m0: number, n0: number, g: number, h: number): number {
  const [m, n] = m0 >= n0 ? [m0, n0] : [n0, m0];
  const [mg, ng] = [m / g, n / g];
  // Inside the band for column x: (x·ng − h)/mg < y < (x·ng + h)/mg.
  const low = (x: number) => Math.max(0, Math.floor((x * ng - h) / mg) + 1);
  const high = (x: number) => Math.min(n, Math.ceil((x * ng + h) / mg) - 1);
  // Only each column's band is computed and read; (0, y) inside the band has not left it.
  let column = new Float64Array(n + 1);
  let next = new Float64Array(n + 1);
  let [prevLow, prevHigh] = [0, high(0)];
  for (let x = 1; x <= m; x++) {
    const [lo, hi] = [low(x), high(x)];
    if (lo > hi) return 1;
    const fromLeft = (y: number) => (y >= prevLow && y <= prevHigh ? column[y] : 1);
    next[lo] = lo === 0 ? fromLeft(0) : (x * fromLeft(lo) + lo) / (x + lo);
    for (let y = lo + 1; y <= hi; y++) next[y] = (x * fromLeft(y) + y * next[y - 1]) / (x + y);
    [column, next] = [next, column];
    [prevLow, prevHigh] = [lo, hi];
  }
  return column[n];
}

/**
 * P(D_n ≥ d) for the two-sided one-sample Kolmogorov–Smirnov statistic D_n, as SciPy's `kstwo.sf(d, n)`,
 * following the same choice of method (Simard & L'Ecuyer 2011): closed forms at the ends of the range
 * (Ruben & Gambino), twice the one-sided Smirnov tail where the two tails cannot overlap or the overlap is
 * negligible, Durbin's matrix (Marsaglia, Tsang & Wang 2003) for small n·d and the Pelz–Good asymptotic
 * series for large n. SciPy uses Pomeranz's recursion where n ≤ 140 and 0.754693 < n·d² ≤ 4; this uses
 * Durbin's matrix there too: both are exact, and the matrix is at most 47 × 47 in that range.
 */
export function kolmogorovSmirnovSf(n: number, d: number): number {
  if (!(Number.isInteger(n) && n > 0)) throw new RangeError(`n must be a positive integer, got ${n}`);
  if (d >= 1) return 0;
  if (d <= 0) return 1;
  const t = n * d;
  if (t <= 1) {
    if (t <= 0.5) return 1;
    // P(D_n ≤ d) = n!/nⁿ · (2t − 1)ⁿ
    return clamp01(1 - Math.exp(logFactorialOverPower(n) + n * Math.log(2 * t - 1)));
  }
  if (t >= n - 1) return clamp01(2 * Math.pow(1 - d, n));
  if (d >= 0.5) return clamp01(2 * smirnovSf(n, d));
  const nd2 = t * d;
  if (n <= 140) return clamp01(nd2 <= 4 ? 1 - durbinCdf(n, d) : 2 * smirnovSf(n, d));
  if (nd2 >= 370) return 0;
  if (nd2 >= 2.2) return clamp01(2 * smirnovSf(n, d));
  return clamp01(1 - (n <= 100_000 && n * Math.pow(d, 1.5) <= 1.4 ? durbinCdf(n, d) : pelzGoodCdf(n, d)));
}

/** ln(n! / nⁿ). */
function logFactorialOverPower(n: number): number {
  return logGamma(n + 1) - n * Math.log(n);
}

/**
 * One-sided Smirnov tail P(D⁺_n ≥ d), by the Birnbaum–Tingey sum
 * d · Σ_{j=0}^{⌊n(1−d)⌋} C(n, j) (d + j/n)^(j−1) (1 − d − j/n)^(n−j), whose terms are all positive;
 * each term is computed through logarithms so that large n neither overflows nor underflows.
 */
function smirnovSf(n: number, d: number): number {
  const last = Math.floor(n * (1 - d));
  let logBinomial = 0;
  let sum = 0;
  for (let j = 0; j <= last; j++) {
    const p = d + j / n;
    if (p < 1) sum += Math.exp(logBinomial + (j - 1) * Math.log(p) + (n - j) * Math.log1p(-p));
    logBinomial += Math.log(n - j) - Math.log(j + 1);
  }
  return d * sum;
}

/**
 * P(D_n < d) by Durbin's matrix: with d = (k − h)/n, the (k, k) entry of Hⁿ times n!/nⁿ, H being the
 * (2k−1)² matrix of Marsaglia, Tsang & Wang (2003). Powers are rescaled by powers of 2 as they grow, the
 * exponent kept apart.
 */
function durbinCdf(n: number, d: number): number {
  const k = Math.ceil(n * d);
  const h = k - n * d;
  const m = 2 * k - 1;
  const factorial = [1];
  for (let i = 1; i <= m; i++) factorial.push(factorial[i - 1] * i);
  let H: Float64Array = new Float64Array(m * m);
  for (let i = 0; i < m; i++) for (let j = 0; j <= Math.min(i + 1, m - 1); j++) H[i * m + j] = 1 / factorial[i - j + 1];
  for (let i = 0; i < m; i++) {
    H[i * m] = (1 - Math.pow(h, i + 1)) / factorial[i + 1];
    H[(m - 1) * m + i] = (1 - Math.pow(h, m - i)) / factorial[m - i];
  }
  H[(m - 1) * m] = (1 - 2 * Math.pow(h, m) + Math.pow(Math.max(0, 2 * h - 1), m)) / factorial[m];

  let power: Float64Array | null = null;
  let [powerExponent, hExponent] = [0, 0];
  for (let e = n; e > 0; e = Math.floor(e / 2)) {
    if (e % 2 === 1) {
      power = power ? multiply(power, H, m) : H.slice();
      powerExponent += hExponent;
      [power, powerExponent] = rescale(power, powerExponent);
    }
    if (e > 1) {
      H = multiply(H, H, m);
      hExponent *= 2;
      [H, hExponent] = rescale(H, hExponent);
    }
  }
  let p = power![(k - 1) * m + (k - 1)];
  let exponent = powerExponent;
  for (let i = 1; i <= n; i++) {
    p = (p * i) / n;
    if (p !== 0 && Math.abs(p) < 2 ** -128) [p, exponent] = [p * 2 ** 128, exponent - 128];
  }
  return clamp01(ldexp(p, exponent));
}

/** x · 2^e in steps that cannot overflow on the way to a result in [0, 1]. */
function ldexp(x: number, e: number): number {
  for (; e > 512; e -= 512) x *= 2 ** 512;
  for (; e < -512; e += 512) x *= 2 ** -512;
  return x * 2 ** e;
}

function multiply(x: Float64Array, y: Float64Array, m: number): Float64Array {
  const out = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    for (let l = 0; l < m; l++) {
      const xil = x[i * m + l];
      if (xil === 0) continue;
      for (let j = 0; j < m; j++) out[i * m + j] += xil * y[l * m + j];
    }
  }
  return out;
}

function rescale(x: Float64Array, exponent: number): [Float64Array, number] {
  let largest = 0;
  for (const v of x) largest = Math.max(largest, Math.abs(v));
  if (largest <= 2 ** 128) return [x, exponent];
  return [x.map((v) => v * 2 ** -128), exponent + 128];
}

/**
 * Pelz & Good's (1976) approximation of P(D_n ≤ d): Li-Chien and Korolyuk's expansion
 * K₀ + K₁/√n + K₂/n + K₃/n^1.5 in z = d·√n, each term rewritten with Jacobi's theta transformation into
 * series in exp(−π²/(8z²)) that converge fast for the small z where it is used.
 */
function pelzGoodCdf(n: number, d: number): number {
  const z = Math.sqrt(n) * d;
  const [z2, z3, z4, z6] = [z * z, z ** 3, z ** 4, z ** 6];
  const logQ = -(Math.PI ** 2) / 8 / z2;
  if (logQ < -708) return 0;
  const q = Math.exp(logQ);
  const [pi2, pi4, pi6] = [Math.PI ** 2, Math.PI ** 4, Math.PI ** 6];
  // Sums over odd m = 2k − 1 of c_i(m) q^(m²), evaluated as q · Σ c_i(m) q^(m² − 1) with q^(m²−1) = q^(8·(1+…+(k−1))).
  const maxK = Math.ceil((16 * z) / Math.PI);
  const K = [0, 0, 0, 0];
  for (let k = maxK; k >= 1; k--) {
    const m = 2 * k - 1;
    const [m2, m4, m6] = [m * m, m ** 4, m ** 6];
    const step = Math.pow(q, 8 * k);
    const coefficients = [
      1,
      -z2 + (pi2 / 4) * m2,
      6 * z6 + 2 * z4 + ((2 * z4 - 5 * z2) * pi2 * m2) / 4 + (pi4 * (1 - 2 * z2) * m4) / 16,
      -30 * z6 - 90 * z ** 8 + (pi2 * (135 * z4 - 96 * z6) * m2) / 4 + (pi4 * (-60 * z2 + 212 * z4) * m4) / 16 + (pi6 * (5 - 30 * z2) * m6) / 64,
    ];
    for (let i = 0; i < 4; i++) K[i] = K[i] * step + coefficients[i];
  }
  const root2pi = Math.sqrt(2 * Math.PI);
  const divisors = [z, 6 * z4, 72 * z ** 7, 6480 * z ** 10];
  for (let i = 0; i < 4; i++) K[i] = (K[i] * q * root2pi) / divisors[i];
  // K₂ and K₃ also have sums over all integers k of terms in exp(−π²k²/(2z²)).
  const r = Math.exp(-pi2 / 2 / z2);
  let [extra2, extra3] = [0, 0];
  for (let k = maxK; k >= 1; k--) {
    const k2 = k * k;
    const rk = Math.pow(r, k2);
    extra2 += k2 * rk;
    extra3 += (3 * z2 - pi2 * k2) * k2 * rk;
  }
  K[2] += (extra2 * pi2 * root2pi) / (-36 * z3);
  K[3] += (extra3 * pi2 * root2pi) / (216 * z6);
  return K[0] + K[1] / Math.sqrt(n) + K[2] / n + K[3] / n ** 1.5;
}

// Lanczos approximation (g = 7, nine coefficients; relative error below 1e-15 for positive arguments).
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012,
  9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** ln Γ(x) for x > 0. */
export function logGamma(x: number): number {
  if (!(x > 0)) throw new RangeError(`logGamma needs a positive argument, got ${x}`);
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const y = x - 1;
  let sum = LANCZOS[0];
  for (let i = 1; i < LANCZOS.length; i++) sum += LANCZOS[i] / (y + i);
  const t = y + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (y + 0.5) * Math.log(t) - t + Math.log(sum);
}

/**
 * The regularized upper incomplete gamma function Q(a, x) = Γ(a, x)/Γ(a) (SciPy's `gammaincc`): by the
 * series of P = 1 − Q below x = a + 1, where Q is not small, and by Lentz's continued fraction for Q
 * itself above, so that small tail probabilities keep their relative precision.
 */
export function regularizedGammaQ(a: number, x: number): number {
  if (!(a > 0) || !(x >= 0)) throw new RangeError(`regularizedGammaQ needs a > 0 and x ≥ 0, got a = ${a}, x = ${x}`);
  if (x === 0) return 1;
  if (x === Infinity) return 0;
  const logPrefactor = a * Math.log(x) - x - logGamma(a);
  const MAX_ITERATIONS = 100_000;
  if (x < a + 1) {
    let [term, sum] = [1 / a, 1 / a];
    for (let i = 1; i < MAX_ITERATIONS; i++) {
      term *= x / (a + i);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * 1e-17) return 1 - sum * Math.exp(logPrefactor);
    }
  } else {
    const tiny = 1e-300;
    let b = x + 1 - a;
    let c = 1 / tiny;
    let dd = 1 / b;
    let f = dd;
    for (let i = 1; i < MAX_ITERATIONS; i++) {
      const an = -i * (i - a);
      b += 2;
      dd = an * dd + b;
      if (Math.abs(dd) < tiny) dd = tiny;
      c = b + an / c;
      if (Math.abs(c) < tiny) c = tiny;
      dd = 1 / dd;
      const delta = dd * c;
      f *= delta;
      if (Math.abs(delta - 1) < 1e-16) return Math.exp(logPrefactor) * f;
    }
  }
  throw new Error(`regularizedGammaQ(${a}, ${x}) did not converge`);
}

/** P(χ²_dof ≥ x), SciPy's `chi2.sf(x, dof)`. */
export function chiSquareSf(x: number, dof: number): number {
  return regularizedGammaQ(dof / 2, x / 2);
}

export interface ChiSquareResult {
  statistic: number;
  pValue: number;
  degreesOfFreedom: number;
}

/**
 * Chi-square test of the current counts against the reference's shares, as Evidently's "chisquare" stat
 * test: SciPy's `chisquare(current, f_exp = reference / Σreference × Σcurrent)`. A category with current
 * values and none in the reference makes the statistic infinite and the p-value 0. Categories empty on
 * both sides carry no information and are left out (SciPy would return NaN).
 */
export function chiSquareTest(referenceCounts: number[], currentCounts: number[]): ChiSquareResult {
  sameLength(referenceCounts, currentCounts);
  const [expectedShares, observedTotal] = [shares(referenceCounts, 'reference'), totalOf(currentCounts, 'current')];
  let statistic = 0;
  let categories = 0;
  for (let i = 0; i < currentCounts.length; i++) {
    const [observed, expected] = [currentCounts[i], expectedShares[i] * observedTotal];
    if (observed === 0 && expected === 0) continue;
    categories++;
    statistic += (observed - expected) ** 2 / expected;
  }
  const degreesOfFreedom = categories - 1;
  const pValue = statistic === Infinity ? 0 : degreesOfFreedom > 0 ? chiSquareSf(statistic, degreesOfFreedom) : 1;
  return { statistic, pValue, degreesOfFreedom };
}

/**
 * Evidently's normed Wasserstein distance: SciPy's `wasserstein_distance(reference, current)` (the area
 * between the two empirical CDFs) divided by the reference's population standard deviation, or by 0.001
 * when that is smaller (a constant reference).
 */
export function normedWassersteinDistance(reference: number[], current: number[]): number {
  const [a, b] = [finiteSorted(reference, 'reference'), finiteSorted(current, 'current')];
  let distance = 0;
  let [i, j] = [0, 0];
  let x = Math.min(a[0], b[0]);
  while (i < a.length || j < b.length) {
    const next = Math.min(i < a.length ? a[i] : Infinity, j < b.length ? b[j] : Infinity);
    distance += Math.abs(i / a.length - j / b.length) * (next - x);
    while (i < a.length && a[i] === next) i++;
    while (j < b.length && b[j] === next) j++;
    x = next;
  }
  const mean = a.reduce((s, v) => s + v, 0) / a.length;
  const std = Math.sqrt(a.reduce((s, v) => s + (v - mean) ** 2, 0) / a.length);
  return distance / Math.max(std, 0.001);
}

/**
 * The KS statistic from the two empirical CDFs at the reference's distinct values, which is all it needs
 * when the current sample is too large to hold: for each distinct reference value r (increasing),
 * `referenceAtOrBelow` reference values are ≤ r, and `currentBelow` / `currentAtOrBelow` current values are
 * < r / ≤ r. Between two reference values the reference CDF is flat and the current one only grows, so the
 * largest gap is at one end of each such interval.
 */
export function ksFromEcdf(steps: { referenceAtOrBelow: number; currentBelow: number; currentAtOrBelow: number }[], n1: number, n2: number): KsResult {
  if (steps.length === 0) throw new RangeError('reference: no values');
  let d = 0;
  let previous = 0;
  for (const s of steps) {
    d = Math.max(d, Math.abs(previous / n1 - s.currentBelow / n2), Math.abs(s.referenceAtOrBelow / n1 - s.currentAtOrBelow / n2));
    previous = s.referenceAtOrBelow;
  }
  return ksFromStatistic(d, n1, n2);
}

export interface ZTestResult {
  statistic: number;
  pValue: number;
}

/**
 * Evidently's "z" stat test for a feature with at most two values: the two-proportion z-test of the share
 * of values other than the first key (in sorted order) in each sample, two-sided, p = P(|Z| ≥ |z|).
 * `counts` are the occurrences of each value (one or two) in each sample. One and the same value on both
 * sides gives p = 1.
 */
export function proportionsZTest(counts: { reference: number; current: number }[]): ZTestResult {
  if (counts.length === 0 || counts.length > 2) throw new RangeError(`the z-test compares one or two values, got ${counts.length}`);
  const [n1, n2] = [totalOf(counts.map((c) => c.reference), 'reference'), totalOf(counts.map((c) => c.current), 'current')];
  if (counts.length === 1) return { statistic: 0, pValue: 1 };
  const [p1, p2] = [counts[1].reference / n1, counts[1].current / n2];
  const pooled = (p1 * n1 + p2 * n2) / (n1 + n2);
  const z = (p1 - p2) / Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
  // P(|Z| ≥ z) = Q(1/2, z²/2): the same as SciPy's 2·(1 − Φ(|z|)) without its cancellation.
  return { statistic: z, pValue: regularizedGammaQ(0.5, (z * z) / 2) };
}

export interface BinnedWasserstein {
  /** The normed Wasserstein distance estimated from the counts. */
  distance: number;
  /** A bound on |distance − exact normed distance|: the estimate assumes values spread evenly within each bin. */
  errorBound: number;
}

/**
 * Evidently's normed Wasserstein distance (normedWassersteinDistance) from counts on `bins` equal-width
 * bins over [min, max], a range holding both samples, for samples too large to sort: the distance is
 * ∫|F_ref − F_cur|, and inside a bin each CDF is taken to grow linearly. Within a bin the true CDFs differ
 * from the linear ones by at most that bin's share on either side, so the error is at most
 * width × Σ max(ref share, cur share) ≤ 2 × width, before dividing by `referenceStd` (or 0.001 when smaller).
 */
export function binnedNormedWasserstein(min: number, max: number, reference: number[], current: number[], referenceStd: number): BinnedWasserstein {
  sameLength(reference, current);
  if (!(max >= min)) throw new RangeError(`the bins' range must be increasing, got [${min}, ${max}]`);
  const [r, c] = [shares(reference, 'reference'), shares(current, 'current')];
  const width = (max - min) / r.length;
  let [distance, error, gap] = [0, 0, 0];
  for (let i = 0; i < r.length; i++) {
    const next = gap + r[i] - c[i];
    // ∫ over the bin of |linear from gap to next|: a trapezoid, or two triangles when the sign changes.
    distance += Math.sign(gap) * Math.sign(next) >= 0 ? (width * (Math.abs(gap) + Math.abs(next))) / 2 : (width * (gap * gap + next * next)) / (2 * (Math.abs(gap) + Math.abs(next)));
    error += width * Math.max(r[i], c[i]);
    gap = next;
  }
  const norm = Math.max(referenceStd, 0.001);
  return { distance: distance / norm, errorBound: error / norm };
}

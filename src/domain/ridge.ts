// Ridge linear regression on raw table features. The preprocessing (mean imputation,
// standardization, one-hot) is stored in the model so the ONNX graph can reproduce it exactly.
import type { Table, Column } from './table';

export type FeatureEncoding =
  /** Missing (NaN) is imputed with the mean, i.e. standardized value 0. A std of 0 is treated as 1. */
  | { name: string; kind: 'numeric'; mean: number; std: number }
  /** One-hot over `categories`; an unknown or missing category (null or '') encodes as all zeros. */
  | { name: string; kind: 'categorical'; categories: string[] };

export interface LinearModel {
  features: FeatureEncoding[];
  /** One weight per encoded column, in feature order (categorical: in `categories` order). */
  weights: number[];
  intercept: number;
}

export interface RidgeParams {
  /** L2 penalty on the weights (never on the intercept). */
  alpha: number;
  /** At most this many categories are one-hot encoded per categorical feature. */
  maxCategories: number;
  /** Categories seen fewer times than this in training are treated as unknown. */
  minCategoryCount: number;
}

export const DEFAULT_RIDGE_PARAMS: RidgeParams = { alpha: 1, maxCategories: 50, minCategoryCount: 1 };

/** Number of columns the features expand to after one-hot encoding. */
export function encodedWidth(model: { features: FeatureEncoding[] }): number {
  let width = 0;
  for (const f of model.features) width += f.kind === 'numeric' ? 1 : f.categories.length;
  return width;
}

/** The divisor actually used for standardization: 0 (constant column) or a non-finite std becomes 1. */
export function effectiveStd(std: number): number {
  return std > 0 && Number.isFinite(std) ? std : 1;
}

/** Categorical values treated as missing. '' is included because the ONNX feed uses '' for null. */
function isMissingCategory(v: string | null): v is null | '' {
  return v === null || v === '';
}

/** Resolves the full parameter set and rejects values that would make the fit meaningless. */
function resolveParams(params?: Partial<RidgeParams>): RidgeParams {
  const p = { ...DEFAULT_RIDGE_PARAMS, ...params };
  if (!(Number.isFinite(p.alpha) && p.alpha >= 0)) throw new Error(`ridge: alpha must be a finite number >= 0, got ${p.alpha}`);
  if (!(Number.isInteger(p.maxCategories) && p.maxCategories >= 1)) {
    throw new Error(`ridge: maxCategories must be an integer >= 1, got ${p.maxCategories}`);
  }
  if (!(Number.isInteger(p.minCategoryCount) && p.minCategoryCount >= 1)) {
    throw new Error(`ridge: minCategoryCount must be an integer >= 1, got ${p.minCategoryCount}`);
  }
  return p;
}

function requireColumn(table: Table, name: string, role: string): Column {
  const col = Object.hasOwn(table.columns, name) ? table.columns[name] : undefined;
  if (!col) throw new Error(`${role} column "${name}" is missing from the table`);
  return col;
}

/** Reads the target column, rejecting non-numeric targets and NaN/Inf values (the caller must drop those rows). */
function readTarget(table: Table, features: string[], target: string): Float64Array {
  if (features.includes(target)) throw new Error(`target "${target}" must not also be a feature`);
  const col = requireColumn(table, target, 'target');
  if (col.kind !== 'numeric') throw new Error(`target column "${target}" must be numeric, got ${col.kind}`);
  if (table.rowCount === 0) throw new Error('cannot fit a model on an empty table');
  for (let i = 0; i < table.rowCount; i++) {
    if (!Number.isFinite(col.values[i])) {
      throw new Error(`target column "${target}" has a non-finite value (${col.values[i]}) at row ${i}; drop such rows before fitting`);
    }
  }
  return col.values;
}

/**
 * Fits the preprocessing of each feature on the training table: mean / population std of the
 * non-missing numeric values, and the retained categories of categorical columns.
 */
export function fitFeatureEncodings(table: Table, features: string[], params?: Partial<RidgeParams>): FeatureEncoding[] {
  const p = resolveParams(params);
  if (new Set(features).size !== features.length) throw new Error(`duplicate feature names in [${features.join(', ')}]`);
  return features.map((name): FeatureEncoding => {
    const col = requireColumn(table, name, 'feature');
    if (col.kind === 'numeric') {
      let count = 0;
      let sum = 0;
      for (let i = 0; i < table.rowCount; i++) {
        const v = col.values[i];
        if (Number.isNaN(v)) continue;
        if (!Number.isFinite(v)) throw new Error(`feature column "${name}" has an infinite value at row ${i}`);
        count++;
        sum += v;
      }
      // An all-missing column gets mean 0, std 1: every row then standardizes to 0.
      if (count === 0) return { name, kind: 'numeric', mean: 0, std: 1 };
      const mean = sum / count;
      let ss = 0;
      for (let i = 0; i < table.rowCount; i++) {
        const v = col.values[i];
        if (!Number.isNaN(v)) ss += (v - mean) * (v - mean);
      }
      return { name, kind: 'numeric', mean, std: effectiveStd(Math.sqrt(ss / count)) };
    }
    const counts = new Map<string, number>();
    for (let i = 0; i < table.rowCount; i++) {
      const v = col.values[i];
      if (!isMissingCategory(v)) counts.set(v, (counts.get(v) ?? 0) + 1);
    }
    // Most frequent first, ties by code-unit string order; then sorted so the one-hot order is stable.
    const byString = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
    const categories = [...counts.entries()]
      .filter(([, c]) => c >= p.minCategoryCount)
      .sort((a, b) => b[1] - a[1] || byString(a[0], b[0]))
      .slice(0, p.maxCategories)
      .map(([v]) => v)
      .sort(byString);
    return { name, kind: 'categorical', categories };
  });
}

/**
 * Per-feature encoded view of a table: numeric -> its values with the standardization (see standardized),
 * categorical -> index of the one-hot column (-1 for unknown/missing). `offset` is the feature's first encoded column.
 */
type EncodedFeature =
  | { kind: 'numeric'; offset: number; values: Float64Array; mean: number; std: number }
  | { kind: 'categorical'; offset: number; index: Int32Array };

/**
 * The standardized value of row `r`, computed when needed rather than stored: a copy of every numeric
 * column would double training's memory. Same operation order as the ONNX graph: impute, subtract the
 * mean, divide by the std.
 */
function standardized(f: Extract<EncodedFeature, { kind: 'numeric' }>, r: number): number {
  const v = Number.isNaN(f.values[r]) ? f.mean : f.values[r];
  return (v - f.mean) / f.std;
}

function encodeFeatures(encodings: FeatureEncoding[], table: Table): EncodedFeature[] {
  let offset = 0;
  return encodings.map((enc): EncodedFeature => {
    const col = requireColumn(table, enc.name, 'feature');
    const kindMismatch = () => new Error(`feature column "${enc.name}" is ${col.kind} but the model expects ${enc.kind}`);
    const start = offset;
    if (enc.kind === 'numeric') {
      if (col.kind !== 'numeric') throw kindMismatch();
      offset += 1;
      return { kind: 'numeric', offset: start, values: col.values, mean: enc.mean, std: effectiveStd(enc.std) };
    }
    if (col.kind !== 'categorical') throw kindMismatch();
    offset += enc.categories.length;
    const values = col.values;
    const lookup = new Map(enc.categories.map((c, i) => [c, i] as const));
    const index = new Int32Array(table.rowCount);
    for (let i = 0; i < table.rowCount; i++) {
      const v = values[i];
      index[i] = isMissingCategory(v) ? -1 : (lookup.get(v) ?? -1);
    }
    return { kind: 'categorical', offset: start, index };
  });
}

/**
 * In-place Cholesky solve of A x = b for a symmetric positive definite D×D matrix
 * (row-major Float64Array). Throws if A is not (numerically) positive definite.
 */
export function choleskySolve(a: Float64Array, b: Float64Array, d: number): Float64Array {
  let maxDiag = 0;
  for (let i = 0; i < d; i++) maxDiag = Math.max(maxDiag, Math.abs(a[i * d + i]));
  const tol = 1e-12 * maxDiag;
  // Lower factor L overwrites the lower triangle of a.
  for (let j = 0; j < d; j++) {
    let diag = a[j * d + j];
    for (let k = 0; k < j; k++) diag -= a[j * d + k] * a[j * d + k];
    if (!(diag > tol)) {
      throw new Error('ridge: normal equations are not positive definite (collinear features); use alpha > 0');
    }
    const ljj = Math.sqrt(diag);
    a[j * d + j] = ljj;
    for (let i = j + 1; i < d; i++) {
      let s = a[i * d + j];
      for (let k = 0; k < j; k++) s -= a[i * d + k] * a[j * d + k];
      a[i * d + j] = s / ljj;
    }
  }
  // Forward substitution L y = b, then back substitution Lᵀ x = y.
  const x = Float64Array.from(b);
  for (let i = 0; i < d; i++) {
    let s = x[i];
    for (let k = 0; k < i; k++) s -= a[i * d + k] * x[k];
    x[i] = s / a[i * d + i];
  }
  for (let i = d - 1; i >= 0; i--) {
    let s = x[i];
    for (let k = i + 1; k < d; k++) s -= a[k * d + i] * x[k];
    x[i] = s / a[i * d + i];
  }
  return x;
}

/**
 * Fits ridge regression (same objective as sklearn `Ridge(alpha, fit_intercept=True)` on the
 * encoded design matrix): the design matrix X and target are centered, (XcᵀXc + αI) w = Xcᵀ(y - ȳ)
 * is solved by Cholesky, and intercept = ȳ - x̄·w, so the intercept is not penalised.
 * XᵀX is accumulated sparsely (one-hot rows have one non-zero per categorical feature).
 */
export function fitRidge(table: Table, features: string[], target: string, params?: Partial<RidgeParams>): LinearModel {
  const p = resolveParams(params);
  const y = readTarget(table, features, target);
  const encodings = fitFeatureEncodings(table, features, p);
  const d = encodedWidth({ features: encodings });
  const n = table.rowCount;
  const encoded = encodeFeatures(encodings, table);

  let ySum = 0;
  for (let i = 0; i < n; i++) ySum += y[i];
  const yMean = ySum / n;

  const gram = new Float64Array(d * d); // XᵀX, upper triangle filled during accumulation
  const colSum = new Float64Array(d);
  const xty = new Float64Array(d); // Xᵀ(y - ȳ) == Xcᵀ(y - ȳ) because Σ(y - ȳ) = 0
  const idx = new Int32Array(encoded.length);
  const val = new Float64Array(encoded.length);
  for (let r = 0; r < n; r++) {
    let k = 0;
    for (const f of encoded) {
      if (f.kind === 'numeric') {
        idx[k] = f.offset;
        val[k++] = standardized(f, r);
      } else if (f.index[r] >= 0) {
        idx[k] = f.offset + f.index[r];
        val[k++] = 1;
      }
    }
    const yc = y[r] - yMean;
    for (let a = 0; a < k; a++) {
      const ia = idx[a];
      colSum[ia] += val[a];
      xty[ia] += val[a] * yc;
      for (let b = 0; b < k; b++) {
        const ib = idx[b];
        if (ib >= ia) gram[ia * d + ib] += val[a] * val[b];
      }
    }
  }
  // Center: XcᵀXc = XᵀX - n x̄ x̄ᵀ; mirror to the lower triangle (used by choleskySolve) and add αI.
  const xMean = colSum.map((s) => s / n);
  for (let i = 0; i < d; i++) {
    for (let j = i; j < d; j++) {
      const c = gram[i * d + j] - n * xMean[i] * xMean[j] + (i === j ? p.alpha : 0);
      gram[i * d + j] = c;
      gram[j * d + i] = c;
    }
  }
  const w = d > 0 ? choleskySolve(gram, xty, d) : new Float64Array(0);
  let intercept = yMean;
  for (let j = 0; j < d; j++) intercept -= xMean[j] * w[j];
  return { features: encodings, weights: Array.from(w), intercept };
}

/**
 * Baseline that always predicts the training mean of the target. Encodings are fitted exactly like
 * fitRidge so the baseline has the same inputs (and ONNX signature); all weights are 0.
 */
export function meanBaseline(table: Table, features: string[], target: string, params?: Partial<RidgeParams>): LinearModel {
  const y = readTarget(table, features, target);
  const encodings = fitFeatureEncodings(table, features, params);
  let sum = 0;
  for (let i = 0; i < table.rowCount; i++) sum += y[i];
  return { features: encodings, weights: new Array(encodedWidth({ features: encodings })).fill(0), intercept: sum / table.rowCount };
}

/** Predicts every row of `table` (which must contain all model features with matching kinds). */
export function predictLinear(model: LinearModel, table: Table): Float64Array {
  const d = encodedWidth(model);
  if (model.weights.length !== d) throw new Error(`model has ${model.weights.length} weights but its features encode to ${d} columns`);
  const encoded = encodeFeatures(model.features, table);
  const dot = new Float64Array(table.rowCount);
  for (const f of encoded) {
    if (f.kind === 'numeric') {
      const w = model.weights[f.offset];
      for (let r = 0; r < table.rowCount; r++) dot[r] += w * standardized(f, r);
    } else {
      for (let r = 0; r < table.rowCount; r++) if (f.index[r] >= 0) dot[r] += model.weights[f.offset + f.index[r]];
    }
  }
  // Intercept is added last, matching MatMul followed by Add in the ONNX graph.
  for (let r = 0; r < table.rowCount; r++) dot[r] += model.intercept;
  return dot;
}

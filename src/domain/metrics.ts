// Regression quality metrics used to compare candidate models on holdout data.

export interface RegressionMetrics {
  rmse: number;
  mae: number;
  /** Coefficient of determination 1 - SSres/SStot. Defined as 0 when the actual values are constant (SStot = 0). */
  r2: number;
  n: number;
}

/**
 * Computes RMSE, MAE and R² of `predicted` against `actual`.
 * Throws on length mismatch, empty input or any non-finite value (missing targets must be
 * filtered by the caller; a NaN would silently poison every metric).
 * When actual is constant, SStot = 0 and R² is undefined; we return 0 (no better than the mean).
 */
export function regressionMetrics(actual: ArrayLike<number>, predicted: ArrayLike<number>): RegressionMetrics {
  const n = actual.length;
  if (n !== predicted.length) {
    throw new Error(`regressionMetrics: length mismatch (actual ${n}, predicted ${predicted.length})`);
  }
  if (n === 0) throw new Error('regressionMetrics: empty input');
  let sum = 0;
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(actual[i])) throw new Error(`regressionMetrics: actual[${i}] is not finite (${actual[i]})`);
    if (!Number.isFinite(predicted[i])) throw new Error(`regressionMetrics: predicted[${i}] is not finite (${predicted[i]})`);
    sum += actual[i];
  }
  const mean = sum / n;
  let ssRes = 0;
  let ssTot = 0;
  let absSum = 0;
  for (let i = 0; i < n; i++) {
    const err = actual[i] - predicted[i];
    ssRes += err * err;
    absSum += Math.abs(err);
    const dev = actual[i] - mean;
    ssTot += dev * dev;
  }
  return {
    rmse: Math.sqrt(ssRes / n),
    mae: absSum / n,
    r2: ssTot === 0 ? 0 : 1 - ssRes / ssTot,
    n,
  };
}

// Skew of a new dataset against the dataset of the model in production, feature by feature, from the
// reference's profile and the new dataset's counts on the reference's bins and categories.
import type { DataPolicy } from '../schemas/lifecycle';
import { categoricalBins, featureSkew, numericBins, type SkewThresholds } from './drift';
import type { ColumnProfile, DatasetProfile } from './profile';
import type { FeatureSkew } from './report';

/** A feature to count on the reference's bins (numeric) or top categories plus one "other" bucket (categorical). */
export interface SkewColumn {
  reference: ColumnProfile;
  storedAs: ColumnProfile['storedAs'];
  kind: 'numeric' | 'categorical';
}

export function skewThresholds(policy: Pick<DataPolicy, 'skewWarningPsi' | 'skewErrorPsi' | 'skewWarningJs' | 'skewErrorJs'>): SkewThresholds {
  return {
    psiWarning: policy.skewWarningPsi,
    psiError: policy.skewErrorPsi ?? Number.POSITIVE_INFINITY,
    jsWarning: policy.skewWarningJs,
    jsError: policy.skewErrorJs ?? Number.POSITIVE_INFINITY,
  };
}

/**
 * Compares each feature present in both profiles: numeric when the reference has a histogram, categorical
 * when it has top categories. `count` returns the new dataset's counts for each column, in order.
 */
export async function compareFeatures(
  reference: DatasetProfile,
  current: DatasetProfile,
  features: string[],
  policy: Parameters<typeof skewThresholds>[0],
  count: (columns: SkewColumn[]) => Promise<number[][]>,
): Promise<FeatureSkew[]> {
  const columns: SkewColumn[] = [];
  for (const name of features) {
    const ref = reference.columns.find((c) => c.name === name);
    const cur = current.columns.find((c) => c.name === name);
    if (!ref || !cur || cur.missing === current.rows) continue;
    if (ref.storedAs === 'numeric' && ref.numeric && ref.numeric.count > 0 && cur.numeric && cur.numeric.count > 0) columns.push({ reference: ref, storedAs: cur.storedAs, kind: 'numeric' });
    else if (ref.categorical && ref.categorical.top.length > 0) columns.push({ reference: ref, storedAs: cur.storedAs, kind: 'categorical' });
  }
  const counts = await count(columns);
  const thresholds = skewThresholds(policy);
  return columns.flatMap((c, i) => {
    const aligned =
      c.kind === 'numeric'
        ? numericBins(c.reference.numeric!.histogram, counts[i])
        : categoricalBins(
            c.reference.categorical!,
            c.reference.categorical!.top.map((t, k) => ({ value: t.value, count: counts[i][k] })),
            counts[i].reduce((sum, n) => sum + n, 0),
          );
    // A side with no values in the compared bins (all missing) has no distribution to compare.
    if (aligned.reference.every((n) => n === 0) || aligned.current.every((n) => n === 0)) return [];
    return [featureSkew(c.reference.name, c.kind, aligned, thresholds)];
  });
}

// The profile of a dataset version: what validation checks, what skew and drift monitoring compare
// against. Computed once per dataset version (when it is ingested) and stored beside it. Profiles are
// mergeable: the profile of two parts combines into the profile of the whole (see mergeProfiles).

/** Equal-width bins of a numeric histogram, between the column's min and max. */
export const HISTOGRAM_BINS = 20;
/** Categories kept by count in a text column's profile; the rest are counted together as `otherCount`. */
export const TOP_CATEGORIES = 50;
/** Rows quoted per problem (missing values, values that are not numbers). */
export const EXAMPLE_ROWS = 5;
export const QUANTILE_PROBABILITIES = [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99] as const;

export interface Histogram {
  /** HISTOGRAM_BINS + 1 increasing edges; the last bin includes its upper edge. One bin when min = max. */
  edges: number[];
  counts: number[];
}

/** Over the values of a column that are numbers (missing values and text excluded). */
export interface NumericSummary {
  count: number;
  min: number;
  max: number;
  mean: number;
  /** Sum of squared deviations from the mean: with count and mean, merges exactly (Chan et al.). */
  m2: number;
  /** Population standard deviation, sqrt(m2 / count). */
  std: number;
  /** Values at QUANTILE_PROBABILITIES, in that order: DuckDB's t-digest estimate for one profile, from the histogram after a merge. */
  quantiles: number[];
  histogram: Histogram;
  /** Values whose magnitude exceeds MAX_SAFE_MAGNITUDE: their squares overflow in training. */
  huge: number;
}

export interface CategoricalSummary {
  /** Distinct present values: a HyperLogLog estimate (about 2% off) for one profile, a lower bound after a merge. */
  distinct: number;
  /** Most frequent values, by count then value. */
  top: { value: string; count: number }[];
  /** Present values not in `top`. */
  otherCount: number;
}

export interface ColumnProfile {
  name: string;
  /** How the column is stored in the dataset's columnar form: DOUBLE when every present value is a number. */
  storedAs: 'numeric' | 'text';
  /** Values that are missing (empty, NA, n/a, NaN, null, None, ?). */
  missing: number;
  /** Present values that are not numbers (0 for numeric columns). */
  nonNumeric: number;
  numeric: NumericSummary | null;
  /** Text columns only. */
  categorical: CategoricalSummary | null;
  examples: {
    /** 1-based data rows (row 1 is the line after the header). */
    missingRows: number[];
    nonNumeric: { row: number; value: string }[];
  };
}

export interface DatasetProfile {
  version: 1;
  rows: number;
  columns: ColumnProfile[];
}

/** Beyond this magnitude a value's square overflows a double's useful range in least squares. */
export const MAX_SAFE_MAGNITUDE = 1e100;

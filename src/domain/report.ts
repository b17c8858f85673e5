// The validation report of one dataset version for one lifecycle run: stored as JSON and as HTML,
// linked from the run's status and memo so an approver can read it from the Temporal UI.
import type { DatasetProfile } from './profile';
import type { DatasetSchema } from './schema';

export interface Finding {
  severity: 'error' | 'warning';
  /** A stable name for the check, e.g. "missing-rate", "target-missing", "skew". */
  check: string;
  column?: string;
  message: string;
}

export type SkewLevel = 'ok' | 'warning' | 'error';

/** One feature of this dataset compared with the same feature of the production model's dataset. */
export interface FeatureSkew {
  column: string;
  kind: 'numeric' | 'categorical';
  /** Population stability index over the reference's bins (numeric) or categories (categorical). */
  psi: number;
  /** Jensen–Shannon distance with natural logarithms (SciPy's and Evidently's default; in [0, √ln 2]) over the same bins or categories. */
  jensenShannon: number;
  level: SkewLevel;
  /** The two distributions compared, for the report's charts: labels and shares (each sums to 1). */
  bins: { labels: string[]; reference: number[]; current: number[] };
}

export interface ValidationReport {
  dataset: { sha256: string; sourceUri: string; rows: number };
  /** Rows that training and evaluation use (rows dropped by policy excluded). */
  usableRows: number;
  schema: DatasetSchema;
  /** Profiles of the columns the model uses (the full profile is stored with the dataset). */
  profile: DatasetProfile;
  findings: Finding[];
  /** Null when there is no production model to compare with. */
  skew: { referenceSha256: string; features: FeatureSkew[] } | null;
  /** What the policies did: rows without a target dropped, features dropped. */
  applied: { droppedRows: number; droppedFeatures: { column: string; reason: string }[] };
  /** The thresholds in force for this run (the lifecycle input's settings with defaults filled in). */
  thresholds: Record<string, number | string>;
  passed: boolean;
}

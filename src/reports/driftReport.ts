import type { Decay, DriftVerdict } from '../domain/decay';
import type { DriftResult, FeatureDrift } from '../domain/driftPolicy';
import type { DriftPolicy } from '../schemas/monitoring';

/** The drift monitor's report, stored as JSON (this shape) and as HTML (driftReportHtml.ts). */
export interface DriftReport {
  modelName: string;
  verdict: DriftVerdict;
  /** Why, in a sentence: the drifted share, the decay, or too little data. */
  summary: string;
  reference: { version: number; datasetSha256: string; rows: number };
  current: { source: 'prediction-log'; windowStart: string; windowEnd: string; rows: number } | { source: 'dataset'; datasetUri: string; sha256: string; rows: number };
  /** Per-feature drift from the statistics engine; null when there were too few current rows to judge. */
  drift: DriftResult | null;
  /** The model's output on the current data against the production version's output on its reference data. */
  prediction: FeatureDrift | null;
  decay: Decay;
  policy: DriftPolicy;
  generatedAt: string;
}

import { z } from 'zod';
import { checkColumns, Duration, LifecycleInput, ModelName } from './lifecycle';

/**
 * Inputs of the workflows that close the loop: the drift monitor and retraining. One schema each, used by
 * the schedules file, the API, the CLI and the workflows themselves.
 */

/**
 * What a retraining lifecycle is started with: the lifecycle input without what the retraining sets itself
 * (the model, who requested it and the proof, the trigger). `datasetUri` is resolved when the run starts,
 * so a glob or prefix (e.g. `s3://sales/cars/*.parquet`) always reads the latest data.
 */
const SET_BY_RETRAINING = { modelName: true, requestedBy: true, requesterProof: true, trigger: true } as const;
export const RetrainingTemplate = z.strictObject({ ...LifecycleInput.shape }).omit(SET_BY_RETRAINING).superRefine(checkColumns);
export type RetrainingTemplate = z.infer<typeof RetrainingTemplate>;

/** Input of the `retrainModel` workflow: starts one retraining lifecycle for a model (nightly schedule, drift). */
export const RetrainInput = z.strictObject({
  modelName: ModelName,
  lifecycle: RetrainingTemplate,
  trigger: z.enum(['schedule', 'drift']),
  /** Why, for the run's status and the notification (e.g. "drift: 9 of 20 features drifted"). */
  reason: z.string().max(2000).default(''),
  /** No new retraining starts within this long after the previous one started for the same model. */
  cooldown: Duration.default('12h'),
});
export type RetrainInput = z.infer<typeof RetrainInput>;
export type RetrainInputRaw = z.input<typeof RetrainInput>;

/**
 * When the monitor calls a feature, the dataset or the model drifted. Defaults follow Evidently's
 * DataDriftPreset: with a reference of at most `smallReferenceRows` rows, Kolmogorov–Smirnov (numeric) and
 * chi-square (categorical) at p < `pValue`; larger references use normed Wasserstein (numeric) and
 * Jensen–Shannon distance (categorical) above their thresholds; the dataset drifts when at least
 * `driftShare` of the features drift.
 */
export const DriftPolicy = z.strictObject({
  smallReferenceRows: z.number().int().min(0).max(1_000_000_000).default(1000),
  pValue: z.number().gt(0).lt(1).default(0.05),
  /**
   * The chi-square test of a small reference: Evidently's goodness of fit of the current counts to the
   * reference's shares, which takes the reference as exact and so flags samples of one distribution more
   * often than pValue (about 20% at 0.05 with 4 categories and a current 0.75 times the reference's size),
   * or the two-sample test of homogeneity, whose false-positive rate is pValue. The product's default is
   * the two-sample test: a monitor that retrains on chance starts runs nobody needs. `evidently`
   * reproduces Evidently's verdicts exactly.
   */
  chiSquare: z.enum(['evidently', 'two-sample']).default('two-sample'),
  wassersteinThreshold: z.number().min(0).max(100).default(0.1),
  jensenShannonThreshold: z.number().min(0).max(1).default(0.1),
  /** PSI is reported for every feature; a level above which it alone calls drift (null: reported only). */
  psiThreshold: z.number().min(0).max(100).nullable().default(null),
  driftShare: z.number().gt(0).max(1).default(0.5),
  /** Data quality: a feature's missing share rising by more than this over the reference's is a finding. */
  missingShareIncrease: z.number().min(0).max(1).default(0.1),
  /** Data quality: shares of numeric values outside the reference's range, and of categories it never saw. */
  outOfDomainShare: z.number().min(0).max(1).default(0.05),
  unseenCategoryShare: z.number().min(0).max(1).default(0.05),
  /** Performance decay: the primary metric on feedback worse than at evaluation by more than this share. */
  decayRelative: z.number().min(0).max(100).default(0.2),
  /** Fewest predictions with ground truth before decay is judged. */
  minFeedbackRows: z.number().int().min(1).max(1_000_000_000).default(100),
  /** Fewest current rows before drift is judged (fewer: the run says "not enough data", not "no drift"). */
  minCurrentRows: z.number().int().min(1).max(1_000_000_000).default(100),
});
export type DriftPolicy = z.infer<typeof DriftPolicy>;

/** The current data: the prediction log over a window ending now, or a dataset given to the run. */
export const DriftCurrent = z.union([
  z.strictObject({ window: Duration.default('24h') }),
  z.strictObject({ datasetUri: z.string().min(1).max(2048) }),
]);

/** Input of the `driftMonitor` workflow (hourly schedule, or started by hand). */
export const DriftMonitorInput = z.strictObject({
  modelName: ModelName,
  current: DriftCurrent.default({ window: '24h' }),
  policy: DriftPolicy.prefault({}),
  /** Drift or decay beyond the policy starts this retraining (at most one running per model, with a cool-down). */
  retrain: z.strictObject({ lifecycle: RetrainingTemplate, cooldown: Duration.default('12h') }).optional(),
});
export type DriftMonitorInput = z.infer<typeof DriftMonitorInput>;
export type DriftMonitorInputRaw = z.input<typeof DriftMonitorInput>;

export const RETRAIN_WORKFLOW = 'retrainModel';
export const DRIFT_MONITOR_WORKFLOW = 'driftMonitor';
/** At most one retraining lifecycle runs per model: its workflow id is fixed. */
export const retrainingWorkflowId = (modelName: string) => `retrain-${modelName}`;

import { z } from 'zod';

/**
 * The lifecycle's input: one schema, used by the API, the CLI and the workflow itself
 * (the workflow re-validates, so `temporal workflow start --input` gets the same checks).
 */

/** Model names appear in URLs, workflow ids and search attributes. */
export const ModelName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'must be 1-63 letters, digits, ".", "_" or "-", starting with a letter or digit');

/** An identity (user or service) as known to the API's token table. */
export const Identity = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$/, 'must be a user or service name');

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DURATION = /^(\d{1,9}(?:\.\d{1,6})?)\s*(ms|s|m|h|d)$/;
const MAX_DURATION_MS = 366 * UNIT_MS.d;

/** Milliseconds in a duration string accepted by `Duration` (NaN for anything else). */
export function durationMs(text: string): number {
  const [, amount, unit] = DURATION.exec(text) ?? [];
  return unit ? Number(amount) * UNIT_MS[unit as keyof typeof UNIT_MS] : Number.NaN;
}
/** A range check that stays quiet when the format is already wrong (one message per problem). */
const durationWithin = (minMs: number, maxMs: number) => (text: string) => !DURATION.test(text) || (durationMs(text) >= minMs && durationMs(text) <= maxMs);

/**
 * Temporal duration strings such as "90s", "30m", "7d", from 1 ms to a year: an unbounded one once
 * passed validation and then failed every workflow task with "Invalid time value".
 */
export const Duration = z
  .string()
  .max(32)
  .regex(DURATION, 'must be a duration like "30s", "15m", "7d"')
  .refine(durationWithin(1, MAX_DURATION_MS), 'must be between 1ms and 366d');

/** Column names come from users' files; long enough for real ones, bounded so inputs stay small. */
const ColumnName = z.string().min(1, 'must not be empty').max(256, 'must be at most 256 characters');
export const MAX_FEATURES = 1000;
export const MAX_APPROVERS = 20;

export const RidgeTrainer = z.object({
  name: z.literal('ridge'),
  params: z
    .object({
      alpha: z.number().min(0).max(1e9).default(1),
      maxCategories: z.number().int().min(1).max(1000).default(50),
      minCategoryCount: z.number().int().min(1).max(1_000_000_000).default(1),
    })
    .strict()
    .prefault({}),
});

export const Trainer = z.discriminatedUnion('name', [RidgeTrainer]);

export const EvaluationPolicy = z
  .object({
    primaryMetric: z.enum(['rmse', 'mae', 'r2']).default('rmse'),
    mustBeatBaseline: z.boolean().default(true),
    /** Relative improvement the candidate needs over the champion, e.g. 0.01 = 1 % better. 0 = not worse. */
    minImprovementOverChampion: z.number().min(0).max(1).default(0),
    holdoutFraction: z.number().gt(0).lt(1).default(0.2),
    seed: z.number().int().min(0).max(2 ** 31 - 1).default(42),
  })
  .strict();

/** Shares are fractions in [0, 1]. */
const Share = z.number().min(0).max(1);

/**
 * How a dataset is read and judged. Every threshold of validation is a setting, with the default that
 * suits most tabular data (README: "Validation rules and thresholds").
 */
export const DataPolicy = z
  .object({
    /** `auto` tells CSV, gzip-compressed CSV and Parquet from the bytes. */
    format: z.enum(['auto', 'csv', 'parquet']).default('auto'),
    encoding: z.enum(['utf-8', 'latin-1', 'utf-16']).default('utf-8'),
    /** A JSON or YAML schema file (same rules as datasetUri) pinning types, ranges and categories. */
    schemaUri: z.string().min(1).max(2048).optional(),
    /** Rows without a target value: dropped (with a warning) or an error. */
    missingTarget: z.enum(['drop', 'error']).default('drop'),
    /** Above this share of rows without a target, even `drop` refuses the dataset. */
    maxMissingTargetShare: Share.default(0.5),
    /** A feature that fails a check (too many missing values, text in a numeric column, huge values): the run fails, or goes on without it. */
    badFeature: z.enum(['error', 'drop']).default('error'),
    minRows: z.number().int().min(2).max(1_000_000_000).default(10),
    /** Missing share of a feature above which it fails (or is dropped). */
    maxMissingShare: Share.default(0.5),
    /** Missing share of a feature above which the approver is warned. */
    warnMissingShare: Share.default(0.05),
    /** A text column counts as numeric when at least this share of its values are numbers (the rest are errors). */
    numericShare: Share.default(0.95),
    /** A categorical feature with more distinct values than this (and than half its rows) looks like free text or an id. */
    maxDistinctCategories: z.number().int().min(1).max(100_000_000).default(100),
    /** Skew against the production model's dataset: population stability index levels. */
    skewWarningPsi: z.number().min(0).max(100).default(0.1),
    /** Off by default: a retraining on shifted data is often the point. Set it to fail runs on heavy skew. */
    skewErrorPsi: z.number().min(0).max(100).nullable().default(null),
    /** Jensen–Shannon distance levels (natural log, in [0, 0.833]). */
    skewWarningJs: z.number().min(0).max(1).default(0.1),
    skewErrorJs: z.number().min(0).max(1).nullable().default(null),
  })
  .strict()
  .superRefine((policy, ctx) => {
    if (policy.warnMissingShare > policy.maxMissingShare) {
      ctx.addIssue({ code: 'custom', path: ['warnMissingShare'], message: `must not exceed maxMissingShare (${policy.maxMissingShare})` });
    }
  });
export type DataPolicy = z.infer<typeof DataPolicy>;

/**
 * How an approved candidate reaches production (README: "Releases"). `direct` moves the production alias.
 * `canary` first sends `share` of the model's unpinned traffic to the candidate for `duration`, checking
 * every `checkEvery` from the prediction log: promoted if its error rate and latency hold up against the
 * champion's, rolled back (with the reason) as soon as they do not, or if fewer than `minRequests` reached
 * it. `shadow` happens before the approval: the candidate scores a copy of the traffic for `duration`
 * without answering, and the run reports its agreement with the champion to the approver.
 */
const Canary = z.strictObject({
  strategy: z.literal('canary'),
  share: z.number().gt(0, 'must be more than 0').lt(1, 'must be less than 1').default(0.1),
  duration: Duration.refine(durationWithin(1000, MAX_DURATION_MS), 'must be at least 1s').default('30m'),
  checkEvery: Duration.refine(durationWithin(1000, MAX_DURATION_MS), 'must be at least 1s').default('1m'),
  minRequests: z.number().int().min(1).max(1_000_000_000).default(100),
  /** The canary fails when its error rate exceeds the champion's by more than this. */
  maxErrorRateIncrease: z.number().min(0).max(1).default(0.01),
  /** …or when its p99 latency exceeds the champion's times this (and by more than `latencySlackMs`). */
  maxLatencyRatio: z.number().min(1).max(1000).default(1.5),
  latencySlackMs: z.number().min(0).max(60_000).default(2),
}).refine((c) => durationMs(c.duration) / durationMs(c.checkEvery) <= 1000, {
  path: ['checkEvery'],
  message: 'must leave at most 1,000 checks in the canary duration (each check is an activity in the run\'s history)',
});
const Shadow = z.strictObject({
  strategy: z.literal('shadow'),
  duration: Duration.refine(durationWithin(1000, MAX_DURATION_MS), 'must be at least 1s').default('30m'),
  /** A shadow answer agrees when it is within this share of the champion's (relative difference). */
  tolerance: z.number().min(0).max(100).default(0.1),
  /** Fewest compared predictions for the agreement to be reported as measured. */
  minRequests: z.number().int().min(1).max(1_000_000_000).default(100),
  /** Set it to refuse (not-blessed) a candidate agreeing on fewer than this share; unset, the approver judges. */
  minAgreement: Share.nullable().default(null),
});
export const ReleasePolicy = z.discriminatedUnion('strategy', [z.strictObject({ strategy: z.literal('direct') }), Canary, Shadow]);
export type ReleasePolicy = z.infer<typeof ReleasePolicy>;
export type CanaryPolicy = z.infer<typeof Canary>;
export type ShadowPolicy = z.infer<typeof Shadow>;

export const LifecycleTrigger = z.enum(['manual', 'schedule', 'drift']);
export type LifecycleTrigger = z.infer<typeof LifecycleTrigger>;

export const LifecycleInput = z
  .object({
    modelName: ModelName,
    datasetUri: z
      .string()
      .min(1, 'must name a dataset: a path, a file:// or s3:// URI, or a glob such as s3://bucket/sales/2026-11-*.parquet')
      .max(2048, 'must be at most 2048 characters'),
    target: ColumnName,
    features: z.array(ColumnName).min(1, 'must list at least one feature column').max(MAX_FEATURES, `must list at most ${MAX_FEATURES} feature columns`),
    trainer: Trainer.prefault({ name: 'ridge' }),
    evaluation: EvaluationPolicy.prefault({}),
    data: DataPolicy.prefault({}),
    release: ReleasePolicy.default({ strategy: 'direct' }),
    approvers: z.array(Identity).min(1, 'must name at least one approver').max(MAX_APPROVERS, `must name at most ${MAX_APPROVERS} approvers`),
    approvalTimeout: Duration.refine(durationWithin(1000, MAX_DURATION_MS), 'must be at least 1s').default('7d'),
    /** While the run waits for approval, an `approval.reminder` notification this often (null: none). */
    approvalReminderEvery: Duration.refine(durationWithin(1000, MAX_DURATION_MS), 'must be at least 1s').nullable().default('1d'),
    /** Who asked for this run; set by the API from the caller's token. Cannot approve it (four-eyes). */
    requestedBy: Identity.default('unknown'),
    /**
     * Proof that `requestedBy` asked for this workflow id, issued by the API (`POST /lifecycles/requester-proof`).
     * The API adds it to the runs it starts; without it the requester is unverified and two approvers must agree.
     */
    requesterProof: z.string().max(128).optional(),
    /** What started the run: a person or service (`manual`), a Temporal Schedule, or the drift monitor. */
    trigger: LifecycleTrigger.default('manual'),
  })
  .strict()
  .superRefine(checkColumns);

/** The target is not a feature, and no feature is listed twice (also checked on retraining templates). */
export function checkColumns(input: { target: string; features: string[] }, ctx: z.RefinementCtx): void {
  if (input.features.includes(input.target)) {
    ctx.addIssue({ code: 'custom', path: ['features'], message: `must not contain the target column "${input.target}"` });
  }
  const seen = new Set<string>();
  input.features.forEach((f, i) => {
    if (seen.has(f)) ctx.addIssue({ code: 'custom', path: ['features', i], message: `"${f}" is listed twice` });
    seen.add(f);
  });
}

export type LifecycleInput = z.infer<typeof LifecycleInput>;
export type LifecycleInputRaw = z.input<typeof LifecycleInput>;
export type EvaluationPolicy = z.infer<typeof EvaluationPolicy>;
export type TrainerSpec = z.infer<typeof Trainer>;

/** Payload of the `approve` and `reject` signals. */
export const DecisionSignal = z
  .object({
    approver: Identity,
    comment: z.string().max(2000).default(''),
    /** Proof that `approver` is who they claim: issued by the API (`POST /runs/:id/approval-token`). */
    token: z
      .string({ error: 'is required: get one with `lifecycle approval-token <run>`' })
      .min(1, 'is required: get one with `lifecycle approval-token <run>`')
      .max(200, 'is not an approval token (too long)'),
  })
  .strict();
export type DecisionSignal = z.infer<typeof DecisionSignal>;

/** Payload of the `decide` update (what the API sends): a decision signal that names its decision. */
export const DecisionUpdate = DecisionSignal.extend({ decision: z.enum(['approve', 'reject']) }).strict();
export type DecisionUpdate = z.infer<typeof DecisionUpdate>;

/** One line per problem, naming the field: used by the API, the CLI and the workflow. */
export function formatZodError(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length ? issue.path.join('.') : '(input)'}: ${issue.message}`)
    .join('; ');
}

// Performance decay and the drift monitor's verdict: pure rules, unit-tested.
import type { RegressionMetrics } from './metrics';

export type DecayMetric = 'rmse' | 'mae' | 'r2';
export type DriftVerdict = 'drifted' | 'ok' | 'not-enough-data';

export interface Decay {
  metric: DecayMetric;
  /** The metric on the production version's holdout at evaluation (null when it has no evaluation). */
  evaluated: number | null;
  /** The metric on predictions whose ground truth arrived (null when none did). */
  current: number | null;
  feedbackRows: number;
  /** Null when it cannot be judged: too few feedback rows, or no evaluation to compare with. */
  decayed: boolean | null;
  reason: string;
}

/**
 * Whether the model got worse than at evaluation by more than `decayRelative` of its evaluated value:
 * errors (rmse, mae) above evaluated × (1 + decayRelative), R² below evaluated − decayRelative × |evaluated|.
 */
export function judgeDecay(metric: DecayMetric, evaluated: number | null, current: RegressionMetrics | null, policy: { decayRelative: number; minFeedbackRows: number }): Decay {
  const feedbackRows = current?.n ?? 0;
  const value = current ? current[metric] : null;
  const base = { metric, evaluated, current: value, feedbackRows };
  if (feedbackRows < policy.minFeedbackRows) return { ...base, decayed: null, reason: `not judged: ${feedbackRows} prediction(s) with ground truth, fewer than ${policy.minFeedbackRows}` };
  if (evaluated === null || !Number.isFinite(evaluated)) return { ...base, decayed: null, reason: `not judged: the production version has no evaluated ${metric}` };
  const v = value!;
  const limit = metric === 'r2' ? evaluated - policy.decayRelative * Math.abs(evaluated) : evaluated * (1 + policy.decayRelative);
  const decayed = metric === 'r2' ? v < limit : v > limit;
  const how = metric === 'r2' ? 'below' : 'above';
  return { ...base, decayed, reason: `${metric} ${round(v)} on ${feedbackRows} row(s) with ground truth, ${decayed ? '' : 'not '}${how} ${round(limit)} (evaluated ${round(evaluated)}, decayRelative ${policy.decayRelative})` };
}

/** Drifted when the dataset drifted or the model decayed; without enough current rows, not enough data (never "ok"). */
export function driftVerdict(input: { currentRows: number; minCurrentRows: number; datasetDrift: boolean | null; decayed: boolean | null }): DriftVerdict {
  if (input.datasetDrift === true || input.decayed === true) return 'drifted';
  if (input.currentRows < input.minCurrentRows || input.datasetDrift === null) return 'not-enough-data';
  return 'ok';
}

const round = (x: number) => Number(x.toPrecision(4));

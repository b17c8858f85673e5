import type { RegressionMetrics } from './metrics';

export type MetricName = 'rmse' | 'mae' | 'r2';

export interface GatePolicy {
  primaryMetric: MetricName;
  mustBeatBaseline: boolean;
  /** Relative improvement over the champion the candidate needs (0 = must not be worse). */
  minImprovementOverChampion: number;
}

export interface GateInput {
  candidate: RegressionMetrics;
  baseline: RegressionMetrics;
  champion: { version: number; metrics: RegressionMetrics } | null;
}

export interface GateDecision {
  blessed: boolean;
  reasons: string[];
}

const HIGHER_IS_BETTER: Record<MetricName, boolean> = { rmse: false, mae: false, r2: true };

/** Relative improvement of `value` over `reference` on a metric, positive when better. */
export function relativeImprovement(metric: MetricName, value: number, reference: number): number {
  const gain = HIGHER_IS_BETTER[metric] ? value - reference : reference - value;
  if (reference === 0) return gain === 0 ? 0 : gain > 0 ? Infinity : -Infinity;
  return gain / Math.abs(reference);
}

const fmt = (x: number) => (Number.isFinite(x) ? Number(x.toPrecision(6)).toString() : String(x));
const pct = (x: number) => (Number.isFinite(x) ? `${(x * 100).toFixed(2)}%` : String(x));

/** Decides whether a candidate is blessed, giving one reason per rule, passed or failed. */
export function decideGate(policy: GatePolicy, input: GateInput): GateDecision {
  const m = policy.primaryMetric;
  const candidate = input.candidate[m];
  const reasons: string[] = [];
  let blessed = Number.isFinite(candidate);
  if (!blessed) reasons.push(`candidate ${m} is ${candidate}: not a usable model`);

  const vsBaseline = relativeImprovement(m, candidate, input.baseline[m]);
  const beatsBaseline = vsBaseline > 0;
  if (policy.mustBeatBaseline) {
    blessed &&= beatsBaseline;
    reasons.push(
      `${beatsBaseline ? 'beats' : 'does not beat'} the naive baseline on ${m}: ${fmt(candidate)} vs ${fmt(input.baseline[m])} (${pct(vsBaseline)})`,
    );
  }

  if (input.champion) {
    const champion = input.champion.metrics[m];
    const vsChampion = relativeImprovement(m, candidate, champion);
    // Tolerance: 9.9 vs 10 is a 1% improvement even though floating point makes it 0.00999…
    const enough = vsChampion >= policy.minImprovementOverChampion - 1e-9;
    blessed &&= enough;
    reasons.push(
      `${enough ? 'meets' : 'misses'} the required improvement over champion v${input.champion.version} on ${m}: ` +
        `${fmt(candidate)} vs ${fmt(champion)} (${pct(vsChampion)}, required ${pct(policy.minImprovementOverChampion)})`,
    );
  } else {
    reasons.push('no champion in production: first deployment of this model');
  }
  return { blessed, reasons };
}

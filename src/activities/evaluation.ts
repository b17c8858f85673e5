import { performance } from 'node:perf_hooks';
import { log } from '@temporalio/activity';
import type { ArtifactRef } from '../artifacts/store';
import { decideGate, type GateDecision } from '../domain/gate';
import { regressionMetrics, type RegressionMetrics } from '../domain/metrics';
import { buildLinearModelOnnx, linearModelSignature } from '../domain/onnx/linearModelGraph';
import { meanBaseline } from '../domain/ridge';
import type { DatasetSchema } from '../domain/schema';
import type { Table } from '../domain/table';
import type { ModelSignature, ModelVersion } from '../registry/registry';
import type { EvaluationPolicy } from '../schemas/lifecycle';
import { createSession, predictTable } from '../serving/onnxSession';
import type { ActivityDeps } from './deps';
import { loadTable } from './data';
import { splitRows, targetValues, type CandidateModel } from './training';

export interface EvaluateInput {
  modelName: string;
  dataset: ArtifactRef;
  schema: DatasetSchema;
  target: string;
  features: string[];
  candidate: CandidateModel;
  policy: EvaluationPolicy;
}

export interface ModelScore {
  metrics: RegressionMetrics;
  /** Wall time of one ONNX Runtime call over the whole holdout. */
  holdoutMs: number;
}

export interface Evaluation {
  holdoutRows: number;
  primaryMetric: EvaluationPolicy['primaryMetric'];
  candidate: ModelScore & { version: number; bytes: number };
  baseline: ModelScore;
  champion: (ModelScore & { version: number }) | { version: number; skipped: string } | null;
  gate: GateDecision;
}

/** Why a champion cannot be scored on this dataset, or null when it can. */
function incompatibility(signature: ModelSignature, schema: DatasetSchema): string | null {
  for (const input of signature.inputs) {
    const column = schema.columns.find((c) => c.name === input.name);
    if (!column) return `its input "${input.name}" is not in this dataset`;
    if (column.type !== input.kind) return `its input "${input.name}" is ${input.kind}, the dataset's column is ${column.type}`;
  }
  return null;
}

export function evaluationActivities(deps: ActivityDeps) {
  /** Scores one ONNX model on the holdout through ONNX Runtime. */
  async function score(onnx: Uint8Array, signature: ModelSignature, holdout: Table, actual: Float64Array): Promise<ModelScore> {
    const session = await createSession(onnx);
    try {
      const start = performance.now();
      const predicted = await predictTable(session, signature, holdout);
      const holdoutMs = performance.now() - start;
      return { metrics: regressionMetrics(actual, predicted), holdoutMs };
    } finally {
      await session.release();
    }
  }

  return {
    /** Candidate vs champion vs naive mean baseline on the same seeded holdout, then the gate policy. */
    async evaluateCandidate(input: EvaluateInput): Promise<Evaluation> {
      const champion = await deps.registry.resolveAlias(input.modelName, 'production');
      const columns = new Set([...input.features, input.target, ...(champion?.signature.inputs.map((i) => i.name) ?? [])]);
      const skipChampion = champion && incompatibility(champion.signature, input.schema);
      const table = await loadTable(deps, input.dataset, input.schema, [...columns].filter((c) => input.schema.columns.some((s) => s.name === c)));
      const { train, holdout } = splitRows(table, input.policy);
      const actual = targetValues(holdout, input.target);

      const candidate = await score(await deps.store.read(input.candidate.artifact), input.candidate.signature, holdout, actual);
      const baselineModel = meanBaseline(train, input.features, input.target);
      const baseline = await score(buildLinearModelOnnx(baselineModel, { docString: 'naive mean baseline' }), linearModelSignature(baselineModel), holdout, actual);

      let championScore: Evaluation['champion'] = null;
      if (champion && skipChampion) championScore = { version: champion.version, skipped: `champion v${champion.version} cannot score this dataset: ${skipChampion}` };
      else if (champion) championScore = { version: champion.version, ...(await score(await deps.store.read(champion.artifact), champion.signature, holdout, actual)) };

      const gate = decideGate(input.policy, {
        candidate: candidate.metrics,
        baseline: baseline.metrics,
        champion: championScore && 'metrics' in championScore ? championScore : null,
      });
      if (championScore && 'skipped' in championScore) gate.reasons.push(championScore.skipped);
      const evaluation: Evaluation = {
        holdoutRows: holdout.rowCount,
        primaryMetric: input.policy.primaryMetric,
        candidate: { ...candidate, version: input.candidate.version, bytes: input.candidate.artifact.bytes },
        baseline,
        champion: championScore,
        gate,
      };
      await deps.registry.recordEvaluation(input.candidate.versionId, evaluation, gate.blessed ? 'candidate' : 'not-blessed');
      log.info('candidate evaluated', { blessed: gate.blessed, [input.policy.primaryMetric]: candidate.metrics[input.policy.primaryMetric] });
      return evaluation;
    },
  };
}

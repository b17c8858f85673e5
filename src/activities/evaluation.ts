import { log } from '@temporalio/activity';
import type { ModelScore, Scores } from '../compute/tasks';
import { decideGate, type GateDecision } from '../domain/gate';
import type { DatasetSchema } from '../domain/schema';
import type { ModelSignature } from '../registry/registry';
import type { EvaluationPolicy } from '../schemas/lifecycle';
import { compute } from './compute';
import type { DatasetVersion } from './data';
import type { ActivityDeps } from './deps';
import { Checkpoints } from './progress';
import type { CandidateModel } from './training';

export type { ModelScore } from '../compute/tasks';

export interface EvaluateInput {
  modelName: string;
  dataset: DatasetVersion;
  schema: DatasetSchema;
  target: string;
  features: string[];
  candidate: CandidateModel;
  policy: EvaluationPolicy;
}

export interface Evaluation {
  holdoutRows: number;
  primaryMetric: EvaluationPolicy['primaryMetric'];
  candidate: ModelScore & { version: number; bytes: number };
  baseline: ModelScore;
  champion: (ModelScore & { version: number }) | { version: number; skipped: string } | null;
  /**
   * The production version when the candidate was evaluated (null: none), scored or skipped: a deploy moves
   * production only if it still points there. Absent in evaluations recorded before compare-and-set deploys.
   */
  championVersionId?: number | null;
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
  const checkpoints = new Checkpoints(deps.store);

  return {
    /** Candidate vs champion vs naive mean baseline on the same seeded holdout, then the gate policy. */
    async evaluateCandidate(input: EvaluateInput): Promise<Evaluation> {
      const champion = await deps.registry.resolveAlias(input.modelName, 'production');
      const columns = new Set([...input.features, input.target, ...(champion?.signature.inputs.map((i) => i.name) ?? [])]);
      const skipChampion = champion && incompatibility(champion.signature, input.schema);
      const scoredChampion = champion && !skipChampion ? { artifact: champion.artifact, signature: champion.signature } : null;
      // Parsing and scoring run in a compute thread. The scores are kept per run, activity and champion:
      // a retry after a failed registry write does not score again.
      const { value: scores } = await checkpoints.once<Scores>(Checkpoints.key({ champion: champion?.id ?? null }), async () =>
        compute(deps, 'evaluate', {
          dataset: { file: await deps.store.localFile(input.dataset.table), engine: deps.engine },
          schema: input.schema,
          columns: [...columns].filter((c) => input.schema.columns.some((s) => s.name === c)),
          target: input.target,
          features: input.features,
          split: input.policy,
          candidate: { file: await deps.store.localFile(input.candidate.artifact), signature: input.candidate.signature },
          champion: scoredChampion && { file: await deps.store.localFile(scoredChampion.artifact), signature: scoredChampion.signature },
        }),
      );
      const { candidate, baseline } = scores;

      let championScore: Evaluation['champion'] = null;
      if (champion && skipChampion) championScore = { version: champion.version, skipped: `champion v${champion.version} cannot score this dataset: ${skipChampion}` };
      else if (champion && scores.champion) championScore = { version: champion.version, ...scores.champion };

      const gate = decideGate(input.policy, {
        candidate: candidate.metrics,
        baseline: baseline.metrics,
        champion: championScore && 'metrics' in championScore ? championScore : null,
      });
      if (championScore && 'skipped' in championScore) gate.reasons.push(championScore.skipped);
      const evaluation: Evaluation = {
        holdoutRows: scores.holdoutRows,
        primaryMetric: input.policy.primaryMetric,
        candidate: { ...candidate, version: input.candidate.version, bytes: input.candidate.artifact.bytes },
        baseline,
        champion: championScore,
        championVersionId: champion?.id ?? null,
        gate,
      };
      await deps.registry.recordEvaluation(input.candidate.versionId, evaluation, gate.blessed ? 'candidate' : 'not-blessed');
      log.info('candidate evaluated', { blessed: gate.blessed, [input.policy.primaryMetric]: candidate.metrics[input.policy.primaryMetric] });
      return evaluation;
    },
  };
}

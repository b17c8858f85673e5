import { ApplicationFailure, condition, proxyActivities, setHandler, upsertMemo, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { msToNumber } from '@temporalio/common';
import type { LifecycleActivities } from '../activities';
import type { ReviewedDecision } from '../activities/approval';
import type { Evaluation } from '../activities/evaluation';
import { formatZodError, LifecycleInput, type LifecycleInputRaw } from '../schemas/lifecycle';
import { approveSignal, rejectSignal, statusQuery, type LifecycleResult, type LifecycleStatus, type Outcome, type Stage } from './definitions';
import { LifecycleStage, ModelName } from './searchAttributes';

const { ingestDataset, validateDataset, trainModel, evaluateCandidate, deployModel, recordOutcome } = proxyActivities<LifecycleActivities>({
  startToCloseTimeout: '10 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 10 },
});
const { reviewDecision } = proxyActivities<LifecycleActivities>({ startToCloseTimeout: '30 seconds' });

/**
 * The whole life of one model version: ingest → validate → train → evaluate → approval → deploy.
 * Data moves between stages by reference (URI + sha256); every stage is an activity.
 */
export async function modelLifecycle(rawInput: LifecycleInputRaw): Promise<LifecycleResult> {
  const parsed = LifecycleInput.safeParse(rawInput);
  if (!parsed.success) throw ApplicationFailure.nonRetryable(`invalid lifecycle input: ${formatZodError(parsed.error)}`, 'InvalidInput');
  const input = parsed.data;
  const run = trackStatus(input);

  run.enter('ingest');
  const dataset = await ingestDataset({ modelName: input.modelName, sourceUri: input.datasetUri });
  run.status.dataset = { sha256: dataset.sha256, uri: dataset.uri, sourceUri: dataset.sourceUri };

  run.enter('validate');
  const validation = await validateDataset({ modelName: input.modelName, dataset, target: input.target, features: input.features });
  run.status.dataset.rowCount = validation.rowCount;
  run.status.validation = { warnings: validation.warnings, reportUri: validation.report.uri };

  run.enter('train');
  const common = { modelName: input.modelName, dataset, schema: validation.schema, target: input.target, features: input.features };
  const candidate = await trainModel({ ...common, trainer: input.trainer, split: input.evaluation, requestedBy: input.requestedBy });
  run.status.candidate = { version: candidate.version, artifactUri: candidate.artifact.uri, sha256: candidate.artifact.sha256, trainingMetrics: candidate.trainingMetrics };

  run.enter('evaluate');
  const evaluation = await evaluateCandidate({ ...common, candidate, policy: input.evaluation });
  run.status.evaluation = evaluation;
  upsertMemo({ evaluation: summarise(evaluation), version: candidate.version, warnings: validation.warnings });
  if (!evaluation.gate.blessed) {
    await recordOutcome({ versionId: candidate.versionId, status: 'not-blessed' });
    return run.finish('not-blessed', candidate.version, []);
  }

  run.enter('awaiting-approval', `an approve or reject signal from one of: ${input.approvers.join(', ')}`);
  const decision = await waitForDecision(run, input, candidate.versionId);
  if (!decision) {
    await recordOutcome({ versionId: candidate.versionId, status: 'expired' });
    return run.finish('expired', candidate.version, []);
  }
  if (decision.kind === 'reject') {
    await recordOutcome({ versionId: candidate.versionId, status: 'rejected', decidedBy: [decision.approver] });
    return run.finish('rejected', candidate.version, [decision.approver]);
  }

  run.enter('deploy');
  run.status.deployment = await deployModel({ modelName: input.modelName, versionId: candidate.versionId, approvedBy: [decision.approver] });
  return run.finish('deployed', candidate.version, [decision.approver]);
}

/** Status kept for the `status` query and mirrored into search attributes at each stage change. */
function trackStatus(input: LifecycleInput) {
  const status: LifecycleStatus = {
    modelName: input.modelName,
    stage: 'ingest',
    since: new Date().toISOString(),
    waitingFor: null,
    requestedBy: input.requestedBy,
    approvers: input.approvers,
    approvalDeadline: null,
    dataset: null,
    validation: null,
    candidate: null,
    evaluation: null,
    decisions: [],
    deployment: null,
    outcome: null,
  };
  setHandler(statusQuery, () => status, { description: 'Stage, since when, what the run waits for, metrics and decisions' });
  const run = {
    status,
    enter(stage: Stage, waitingFor: string | null = null) {
      Object.assign(status, { stage, waitingFor, since: new Date().toISOString() });
      upsertSearchAttributes([
        { key: ModelName, value: input.modelName },
        { key: LifecycleStage, value: stage },
      ]);
    },
    finish(outcome: Outcome, version: number, decidedBy: string[]): LifecycleResult {
      status.outcome = outcome;
      run.enter('done');
      upsertMemo({ outcome });
      return { outcome, modelName: input.modelName, version, deployment: status.deployment, decidedBy };
    },
  };
  return run;
}

function summarise(e: Evaluation): Record<string, unknown> {
  const m = e.primaryMetric;
  return {
    blessed: e.gate.blessed,
    metric: m,
    candidate: e.candidate.metrics[m],
    baseline: e.baseline.metrics[m],
    champion: e.champion && 'metrics' in e.champion ? e.champion.metrics[m] : null,
    reasons: e.gate.reasons,
  };
}

/**
 * Waits for an accepted approve/reject signal until the approval timeout. Signals are queued by their
 * handlers and reviewed one at a time by an activity that checks the approver's token and authority
 * and audits the attempt; refused ones are kept in the status and the wait goes on.
 */
async function waitForDecision(
  run: ReturnType<typeof trackStatus>,
  input: LifecycleInput,
  versionId: number,
): Promise<(ReviewedDecision & { kind: 'approve' | 'reject' }) | null> {
  const inbox: { kind: 'approve' | 'reject'; payload: unknown }[] = [];
  setHandler(approveSignal, (payload) => void inbox.push({ kind: 'approve', payload }), {
    description: 'Approve the candidate: {"approver": "<you>", "comment": "...", "token": "<from lifecycle approval-token>"}',
  });
  setHandler(rejectSignal, (payload) => void inbox.push({ kind: 'reject', payload }), {
    description: 'Reject the candidate: {"approver": "<you>", "comment": "...", "token": "<from lifecycle approval-token>"}',
  });
  const deadline = Date.now() + msToNumber(input.approvalTimeout);
  run.status.approvalDeadline = new Date(deadline).toISOString();
  let sequence = 0;
  for (;;) {
    const remaining = deadline - Date.now();
    if (remaining <= 0 || !(await condition(() => inbox.length > 0, remaining))) return null;
    const signal = inbox.shift()!;
    const review = await reviewDecision({
      modelName: input.modelName,
      versionId,
      decision: signal.kind,
      payload: signal.payload,
      approvers: input.approvers,
      requestedBy: input.requestedBy,
      sequence: sequence++,
    });
    run.status.decisions.push({ ...review, decision: signal.kind });
    if (review.accepted) return { ...review, kind: signal.kind };
  }
}

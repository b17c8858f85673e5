import { ApplicationFailure, proxyActivities, upsertMemo, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { LifecycleActivities } from '../activities';
import type { CurrentData, DriftAssessment } from '../activities/monitoring';
import type { RetrainingOutcome } from '../activities/retraining';
import type { DriftVerdict } from '../domain/decay';
import { durationMs, formatZodError } from '../schemas/lifecycle';
import { DriftMonitorInput, type DriftMonitorInputRaw } from '../schemas/monitoring';
import { notify } from './notify';
import { requestRetraining } from './retrain';
import { DriftStatus, ModelName } from './searchAttributes';

/** Reading the log, scoring and comparing run long on big windows: they heartbeat, so a lost worker is noticed in seconds. */
const { driftReference, predictionLogWindow, scoreDataset, assessDrift, ingestDataset } = proxyActivities<LifecycleActivities>({
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: '15 seconds',
  scheduleToCloseTimeout: '1 day',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});
const { recordDriftRun } = proxyActivities<LifecycleActivities>({
  startToCloseTimeout: '30 seconds',
  scheduleToCloseTimeout: '1 day',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

export interface DriftMonitorResult {
  modelName: string;
  verdict: DriftVerdict;
  summary: string;
  version: number | null;
  currentRows: number;
  driftedFeatures: string[];
  reportUrl: string | null;
  retraining: RetrainingOutcome | null;
}

/**
 * One look at a deployed model: its current data (the prediction log over the window ending when the run
 * started, or a dataset) against the data its production version was trained on, its output against its
 * output there, and its error on the ground truth that arrived. Drift or decay beyond the policy starts a
 * retraining when `retrain` is set. The verdict goes to the history, the DriftStatus search attribute and the memo.
 */
export async function driftMonitor(rawInput: DriftMonitorInputRaw): Promise<DriftMonitorResult> {
  const parsed = DriftMonitorInput.safeParse(rawInput);
  if (!parsed.success) throw ApplicationFailure.nonRetryable(`invalid drift monitor input: ${formatZodError(parsed.error)}`, 'InvalidInput');
  const input = parsed.data;
  const { modelName } = input;
  upsertSearchAttributes([{ key: ModelName, value: modelName }]);
  const windowEnd = workflowInfo().runStartTime;

  const reference = await driftReference({ modelName });
  if (!reference) {
    const current = { windowStart: null, windowEnd: windowEnd.toISOString(), datasetUri: null, rows: 0 };
    await recordDriftRun({ modelName, version: null, current, assessment: null, verdict: 'not-enough-data', retraining: null });
    return finish({ modelName, verdict: 'not-enough-data', summary: `not-enough-data: ${modelName} has no production version to compare with`, version: null, currentRows: 0, driftedFeatures: [], reportUrl: null, retraining: null });
  }

  let current: CurrentData;
  if ('datasetUri' in input.current) {
    const dataset = await ingestDataset({ modelName, sourceUri: input.current.datasetUri });
    current = await scoreDataset({ modelName, dataset, windowEnd: windowEnd.toISOString() });
  } else {
    const windowStart = new Date(windowEnd.getTime() - durationMs(input.current.window)).toISOString();
    current = await predictionLogWindow({ modelName, features: reference.features, windowStart, windowEnd: windowEnd.toISOString() });
  }

  const assessment: DriftAssessment = await assessDrift({ reference, current, policy: input.policy });
  if (assessment.verdict === 'drifted') {
    await notify({
      type: 'drift.detected',
      model: modelName,
      summary: `${modelName} v${reference.version}: ${assessment.summary.slice(0, 900)}`,
      links: { report: assessment.reportUrl },
      data: { driftedFeatures: assessment.driftedFeatures, featuresChecked: reference.features.length, datasetDrift: assessment.datasetDrift === true, predictionDrift: assessment.predictionDrift, decay: assessment.decay.decayed },
    });
  }
  let retraining: RetrainingOutcome | null = null;
  if (input.retrain && (assessment.datasetDrift === true || assessment.decay.decayed === true)) {
    retraining = await requestRetraining({ modelName, lifecycle: input.retrain.lifecycle, trigger: 'drift', reason: assessment.summary.slice(0, 2000), cooldown: input.retrain.cooldown });
  }
  await recordDriftRun({ modelName, version: reference.version, current, assessment, verdict: assessment.verdict, retraining: retraining && { ...retraining } });
  return finish({
    modelName,
    verdict: assessment.verdict,
    summary: assessment.summary,
    version: reference.version,
    currentRows: current.rows,
    driftedFeatures: assessment.driftedFeatures,
    reportUrl: assessment.reportUrl,
    retraining,
  });
}

/** The verdict where the Temporal UI shows and filters it: the DriftStatus search attribute and the memo. */
function finish(result: DriftMonitorResult): DriftMonitorResult {
  upsertSearchAttributes([{ key: DriftStatus, value: result.verdict }]);
  upsertMemo({ verdict: result.verdict, summary: result.summary, report: result.reportUrl, retraining: result.retraining?.message ?? null });
  return result;
}

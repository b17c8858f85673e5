import { ApplicationFailure, proxyActivities, upsertMemo, upsertSearchAttributes } from '@temporalio/workflow';
import type { LifecycleActivities } from '../activities';
import type { RetrainingOutcome } from '../activities/retraining';
import { formatZodError } from '../schemas/lifecycle';
import { RetrainInput, type RetrainInputRaw } from '../schemas/monitoring';
import { ModelName } from './searchAttributes';

/** A short registry write and one Temporal start; retried with backoff while PostgreSQL or Temporal is down. */
export const retrainingActivity = () =>
  proxyActivities<LifecycleActivities>({
    startToCloseTimeout: '1 minute',
    scheduleToCloseTimeout: '1 day',
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
  }).startRetraining;

/**
 * Starts one retraining lifecycle for a model (the nightly schedule starts this workflow): at most one
 * runs per model, none within the cool-down of the previous start; the result says which happened.
 */
export async function retrainModel(rawInput: RetrainInputRaw): Promise<RetrainingOutcome> {
  const parsed = RetrainInput.safeParse(rawInput);
  if (!parsed.success) throw ApplicationFailure.nonRetryable(`invalid retraining input: ${formatZodError(parsed.error)}`, 'InvalidInput');
  upsertSearchAttributes([{ key: ModelName, value: parsed.data.modelName }]);
  const outcome = await retrainingActivity()(parsed.data);
  upsertMemo({ retraining: outcome.state, message: outcome.message, lifecycle: outcome.workflowId });
  return outcome;
}

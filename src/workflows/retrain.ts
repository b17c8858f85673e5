import { ApplicationFailure, proxyActivities, upsertMemo, upsertSearchAttributes } from '@temporalio/workflow';
import type { LifecycleActivities } from '../activities';
import type { RetrainingOutcome } from '../activities/retraining';
import { formatZodError } from '../schemas/lifecycle';
import { RetrainInput, type RetrainInputRaw } from '../schemas/monitoring';
import { notify } from './notify';
import { ModelName } from './searchAttributes';

/** A short registry write and one Temporal start; retried with backoff while PostgreSQL or Temporal is down. */
export const retrainingActivity = () =>
  proxyActivities<LifecycleActivities>({
    startToCloseTimeout: '1 minute',
    scheduleToCloseTimeout: '1 day',
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
  }).startRetraining;

/** Starts a retraining (or learns why none started) and, when one started, tells the notification hook. */
export async function requestRetraining(input: RetrainInput): Promise<RetrainingOutcome> {
  const outcome = await retrainingActivity()(input);
  if (outcome.state === 'started') {
    const summary = `${input.modelName}: retraining started (${input.trigger}${input.reason ? `: ${input.reason.slice(0, 300)}` : ''})`;
    await notify({ type: 'retraining.started', model: input.modelName, summary, data: { trigger: input.trigger, reason: input.reason.slice(0, 2000), lifecycleWorkflowId: outcome.workflowId } });
  }
  return outcome;
}

/**
 * Starts one retraining lifecycle for a model (the nightly schedule starts this workflow): at most one
 * runs per model, none within the cool-down of the previous start; the result says which happened.
 */
export async function retrainModel(rawInput: RetrainInputRaw): Promise<RetrainingOutcome> {
  const parsed = RetrainInput.safeParse(rawInput);
  if (!parsed.success) throw ApplicationFailure.nonRetryable(`invalid retraining input: ${formatZodError(parsed.error)}`, 'InvalidInput');
  upsertSearchAttributes([{ key: ModelName, value: parsed.data.modelName }]);
  const outcome = await requestRetraining(parsed.data);
  upsertMemo({ retraining: outcome.state, message: outcome.message, lifecycle: outcome.workflowId });
  return outcome;
}

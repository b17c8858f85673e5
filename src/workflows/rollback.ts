import { ApplicationFailure, proxyActivities, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { LifecycleActivities } from '../activities';
import { formatZodError } from '../schemas/lifecycle';
import { RollbackInput, type RollbackInputRaw, type RollbackResult } from '../schemas/release';
import { controlTaskQueue } from './definitions';
import { notify } from './notify';
import { ModelName } from './searchAttributes';

/**
 * Moves a model's production alias back to an earlier version (or takes its canary out), audited with
 * who and why. A workflow rather than a database write from the API, so the Temporal UI and CLI show
 * every rollback, and one started twice under the same workflow id moves once.
 */
export async function rollbackModel(raw: RollbackInputRaw): Promise<RollbackResult> {
  const parsed = RollbackInput.safeParse(raw);
  if (!parsed.success) throw ApplicationFailure.nonRetryable(`invalid rollback input: ${formatZodError(parsed.error)}`, 'InvalidInput');
  upsertSearchAttributes([{ key: ModelName, value: parsed.data.modelName }]);
  const { rollbackAlias } = proxyActivities<LifecycleActivities>({
    taskQueue: controlTaskQueue(workflowInfo().taskQueue),
    startToCloseTimeout: '30 seconds',
    scheduleToCloseTimeout: '1 hour',
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds' },
  });
  const result = await rollbackAlias(parsed.data);
  if (result.moved) {
    const { modelName, alias, fromVersion, toVersion, movedBy } = result;
    const summary = `${modelName}: ${alias} rolled back from v${fromVersion} to ${toVersion ? `v${toVersion}` : 'nothing'} by ${movedBy}: ${parsed.data.reason.slice(0, 300)}`;
    await notify({ type: 'model.rolled-back', model: modelName, summary, data: { alias, fromVersion, toVersion, reason: parsed.data.reason } });
  }
  return result;
}

import { Context, log } from '@temporalio/activity';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { requesterProof } from '../auth/approvalToken';
import type { RetrainingState } from '../registry/monitoring';
import { durationMs, formatZodError, LifecycleInput } from '../schemas/lifecycle';
import { retrainingWorkflowId, type RetrainInput } from '../schemas/monitoring';
import { WORKFLOW_TYPE } from '../workflows/definitions';
import { ModelName } from '../workflows/searchAttributes';
import { currentRun } from './context';
import type { ActivityDeps } from './deps';
import { FailureType, nonRetryable } from './failures';

/** The service identities that request retraining: proven with the product's secret, so one approver suffices. */
export const RETRAINING_REQUESTER = { drift: 'drift-monitor', schedule: 'scheduler' } as const;

export interface RetrainingOutcome {
  state: RetrainingState;
  modelName: string;
  /** The retraining lifecycle (the one started, or the one already running). */
  workflowId: string;
  runId: string | null;
  requestedBy: string;
  /** Why nothing started, or what did, in a sentence for the status and the report. */
  message: string;
}

export function retrainingActivities(deps: ActivityDeps) {
  return {
    /**
     * Starts one retraining lifecycle for the model, with the fixed workflow id `retrain-<model>`: while
     * one runs, a second request starts nothing (the id is taken: conflict policy FAIL) and says so;
     * within the cool-down of the previous start, nothing starts either. The request is recorded before
     * the start, keyed by the requesting run and activity, so a retry finds it and never starts twice.
     */
    async startRetraining(input: RetrainInput): Promise<RetrainingOutcome> {
      const ctx = Context.current();
      const { workflowId: requester, runId } = currentRun();
      const requestKey = `${requester}/${runId}/${ctx.info.activityId}`;
      const workflowId = retrainingWorkflowId(input.modelName);
      const requestedBy = RETRAINING_REQUESTER[input.trigger];
      const lifecycle = LifecycleInput.safeParse({
        ...input.lifecycle,
        modelName: input.modelName,
        trigger: input.trigger,
        requestedBy,
        requesterProof: requesterProof(deps.approvalSecret, workflowId, requestedBy),
      });
      if (!lifecycle.success) throw nonRetryable(FailureType.invalidInput, `invalid retraining lifecycle: ${formatZodError(lifecycle.error)}`);

      const claim = await deps.monitoring.claimRetraining({
        requestKey, modelName: input.modelName, trigger: input.trigger, requestedBy, reason: input.reason, workflowId, cooldownMs: durationMs(input.cooldown),
      });
      const outcome = (state: RetrainingState, run: string | null, message: string): RetrainingOutcome => ({ state, modelName: input.modelName, workflowId, runId: run, requestedBy, message });
      if (claim.state === 'cooling-down') {
        return outcome('cooling-down', null, `no retraining started: the previous one started ${claim.previousStart ?? 'recently'}, within the cool-down of ${input.cooldown}`);
      }
      if (claim.state !== 'starting') return outcome(claim.state, claim.runId, claim.state === 'started' ? `retraining started (${workflowId})` : `no retraining started: ${workflowId} is already running`);

      let started: { state: 'started' | 'already-running'; runId: string | null } | null = null;
      // A retry of a request whose start happened: its lifecycle may even have finished since.
      if (ctx.info.attempt > 1) started = await ownStart(workflowId, requestKey);
      if (!started) try {
        const handle = await ctx.client.workflow.start(WORKFLOW_TYPE, {
          taskQueue: ctx.info.taskQueue,
          workflowId,
          args: [lifecycle.data],
          // At most one retraining per model runs; a finished one does not block the next.
          workflowIdConflictPolicy: 'FAIL',
          workflowIdReusePolicy: 'ALLOW_DUPLICATE',
          typedSearchAttributes: [{ key: ModelName, value: input.modelName }],
          memo: { requestKey, trigger: input.trigger, reason: input.reason },
        });
        started = { state: 'started', runId: handle.firstExecutionRunId };
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
        // Taken: by this very request (an attempt that started it, then failed before recording), or by another.
        const running = await ctx.client.workflow.getHandle(workflowId).describe();
        started = running.memo?.requestKey === requestKey ? { state: 'started', runId: running.runId } : { state: 'already-running', runId: running.runId };
      }

      /** The newest run of the retraining workflow id, when this request started it. */
      async function ownStart(id: string, key: string) {
        const latest = await ctx.client.workflow.getHandle(id).describe().catch((err: Error) => (err.name === 'WorkflowNotFoundError' ? null : Promise.reject(err)));
        return latest?.memo?.requestKey === key ? { state: 'started' as const, runId: latest.runId } : null;
      }
      await deps.monitoring.settleRetraining(requestKey, started.state, started.runId);
      log.info('retraining requested', { model: input.modelName, state: started.state, trigger: input.trigger });
      return outcome(started.state, started.runId, started.state === 'started' ? `retraining started (${workflowId})` : `no retraining started: ${workflowId} is already running`);
    },
  };
}

import { WorkflowNotFoundError, type Client, type WorkflowHandle } from '@temporalio/client';
import { issueApprovalToken, type Decision, type IssuedApprovalToken } from '../auth/approvalToken';
import { DecisionUpdate } from '../schemas/lifecycle';
import { decideUpdate, type ReviewedDecision } from '../workflows/definitions';
import { HttpError } from './errors';

/**
 * Decisions on a run: the approval tokens the API issues, and the API's own decisions, which go to the
 * workflow as a `decide` update so the caller gets the verdict on its own decision (no polling, no race
 * with another approver deciding at the same moment).
 */
export interface DecisionDeps {
  temporal: Client;
  approvalSecret: string;
  approvalTokenTtlMs: number;
  /** How long a decision may wait for the workflow to review it before the API answers 503. */
  decisionTimeoutMs: number;
}

export interface OpenRun {
  handle: WorkflowHandle;
  workflowId: string;
  runId: string;
}

/** The run's current execution if it is running; 404 when unknown, 409 with its outcome when closed. */
export async function openRun(temporal: Client, workflowId: string): Promise<OpenRun> {
  const handle = temporal.workflow.getHandle(workflowId);
  const description = await handle.describe(); // WorkflowNotFoundError → 404
  if (description.status.name !== 'RUNNING') throw closedRun(workflowId, description.status.name, description.memo?.outcome);
  return { handle: temporal.workflow.getHandle(workflowId, description.runId), workflowId, runId: description.runId };
}

function closedRun(workflowId: string, temporalStatus: string, outcome: unknown): HttpError {
  const ended = typeof outcome === 'string' ? `ended with outcome "${outcome}" (Temporal status ${temporalStatus})` : `is not running (Temporal status ${temporalStatus})`;
  return new HttpError(409, `run "${workflowId}" ${ended}; it takes no more decisions`);
}

export function issueToken(deps: DecisionDeps, run: OpenRun, approver: string, decision: Decision): IssuedApprovalToken {
  return issueApprovalToken(deps.approvalSecret, { workflowId: run.workflowId, runId: run.runId, approver, decision }, deps.approvalTokenTtlMs);
}

export type DecisionAnswer = { status: 200; verdict: ReviewedDecision } | { status: 403 | 409; verdict: ReviewedDecision; error: string };

/** Sends the caller's decision as an update with a token made for it, and maps the verdict to a status. */
export async function decide(deps: DecisionDeps, workflowId: string, approver: string, decision: Decision, comment: string): Promise<DecisionAnswer> {
  const run = await openRun(deps.temporal, workflowId);
  const update = DecisionUpdate.parse({ decision, approver, comment, token: issueToken(deps, run, approver, decision).token });
  let verdict: ReviewedDecision;
  try {
    verdict = await deps.temporal.withDeadline(Date.now() + deps.decisionTimeoutMs, () => run.handle.executeUpdate(decideUpdate, { args: [update] }));
  } catch (err) {
    // The run closed between describe and update (e.g. it expired): same answer as a closed run.
    if (err instanceof WorkflowNotFoundError || /already completed|workflow execution.*(completed|closed)/i.test(String((err as Error).message))) {
      const after = await run.handle.describe().catch(() => null);
      throw closedRun(workflowId, after?.status.name ?? 'closed', after?.memo?.outcome);
    }
    if (isTimeout(err)) {
      throw new HttpError(503, `the workflow did not review the decision within ${deps.decisionTimeoutMs / 1000} s (is a worker running?); it may still be reviewed: check GET /lifecycles/${workflowId}`);
    }
    throw err;
  }
  if (verdict.state === 'accepted') return { status: 200, verdict };
  return { status: verdict.state === 'refused' ? 403 : 409, verdict, error: verdict.reason };
}

function isTimeout(err: unknown): boolean {
  for (let e = err as { name?: string; code?: number; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (e.name === 'WorkflowUpdateRPCTimeoutOrCancelledError' || e.code === 4 /* DEADLINE_EXCEEDED */) return true;
  }
  return false;
}

import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { Deployment } from '../activities/deployment';
import type { Evaluation } from '../activities/evaluation';
import type { RegressionMetrics } from '../domain/metrics';
import type { CanaryCheck, ShadowReport } from '../domain/release';
import type { LifecycleTrigger, ReleasePolicy } from '../schemas/lifecycle';

/** Signals, queries and result types of the lifecycle: shared by the workflow, the API and the CLI. */
export const approveSignal = defineSignal<[unknown]>('approve');
export const rejectSignal = defineSignal<[unknown]>('reject');
/**
 * The API's way to decide: the same review as the signals, but the caller gets the verdict on its own
 * decision (payload: `DecisionUpdate` in schemas/lifecycle.ts).
 */
export const decideUpdate = defineUpdate<ReviewedDecision, [unknown]>('decide');
export const statusQuery = defineQuery<LifecycleStatus>('status');

export const WORKFLOW_TYPE = 'modelLifecycle';

/**
 * The task queue of the lifecycle's short control activities (requester check, decision reviews,
 * outcome, deploy): polled by a worker of its own, so an approval never waits behind a backlog of
 * training on the main queue.
 */
export const controlTaskQueue = (taskQueue: string) => `${taskQueue}-control`;
export const CONTROL_ACTIVITIES = ['checkRequester', 'reviewDecision', 'recordOutcome', 'deployModel', 'startRelease', 'endRelease', 'checkCanary', 'reportShadow', 'rollbackAlias'] as const;

export type Stage = 'ingest' | 'validate' | 'train' | 'evaluate' | 'shadow' | 'awaiting-approval' | 'canary' | 'deploy' | 'done';
/**
 * `rolled-back`: the canary failed and was taken out; `superseded`: production kept moving to other
 * versions while this run waited, round after round, so it gave up (see MAX_ROUNDS in the workflow).
 */
export type Outcome = 'deployed' | 'rejected' | 'expired' | 'not-blessed' | 'rolled-back' | 'superseded';
/** What the status says of a run that ended without an outcome (the workflow failed or was cancelled). */
export type Ending = Outcome | 'failed' | 'cancelled';

/**
 * The verdict on one decision attempt. `state`: `accepted` (it counts), `refused` (not proven or not
 * allowed), `not-waiting` (the run is not waiting for a decision: too early, or already decided).
 * `final` is true when the decision settled the run (a rejection, or the last approval needed).
 */
export interface ReviewedDecision {
  decision: 'approve' | 'reject';
  approver: string;
  comment: string;
  accepted: boolean;
  state: 'accepted' | 'refused' | 'not-waiting';
  final: boolean;
  reason: string;
  receivedAt: string;
}

export interface LifecycleStatus {
  modelName: string;
  stage: Stage;
  since: string;
  waitingFor: string | null;
  requestedBy: string;
  /** What started the run: manual, schedule or drift. */
  trigger: LifecycleTrigger;
  /** Whether the requester is proven (started through the API, or with a requester proof); null until checked. */
  requesterVerified: boolean | null;
  approvers: string[];
  /** Distinct approvals needed: 1, or 2 when the requester is unverified; null until the approval stage. */
  approvalsRequired: number | null;
  approvedBy: string[];
  approvalDeadline: string | null;
  dataset: { sha256: string; uri: string; sourceUri: string; rowCount?: number; format?: string; parts?: number; tableUri?: string } | null;
  validation: {
    warnings: string[];
    reportUri: string;
    /** The report as a page for the approver: a signed link through the API (REPORT_LINK_TTL). */
    reportUrl?: string;
    usableRows?: number;
    /** Features left out by data.badFeature = "drop". */
    droppedFeatures?: string[];
  } | null;
  candidate: { version: number; artifactUri: string; sha256: string; trainingMetrics: RegressionMetrics } | null;
  evaluation: Evaluation | null;
  decisions: ReviewedDecision[];
  deployment: Deployment | null;
  /** The release: how the candidate is reaching production, and what its shadow or canary showed. */
  release: ReleaseStatus;
  outcome: Ending | null;
  /** Where and why a failed run stopped (e.g. stage validate, DatasetInvalid, the findings). */
  /** Why the run failed; a failed validation also links its report. */
  failure: { stage: Stage; type: string; message: string; reportUrl?: string } | null;
}

export interface ReleaseStatus {
  strategy: ReleasePolicy['strategy'];
  /** Rounds of evaluate → approve → deploy: a new round starts when production moved under the run. */
  round: number;
  /** The production version the current round's candidate is compared with (null: none). */
  champion: number | null;
  /** Rounds that ended because another version reached production first. */
  superseded: { round: number; champion: number | null; by: number | null }[];
  shadow: ShadowReport | null;
  canary: { share: number; since: string; until: string; checks: CanaryCheck[]; verdict: 'promoted' | 'rolled-back' | null; reasons: string[] } | null;
  /** Why a strategy was not applied (e.g. no production version to shadow). */
  notes: string[];
}

export interface LifecycleResult {
  outcome: Outcome;
  modelName: string;
  version: number;
  deployment: Deployment | null;
  decidedBy: string[];
}

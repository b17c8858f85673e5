import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { Deployment } from '../activities/deployment';
import type { Evaluation } from '../activities/evaluation';
import type { ReviewedDecision } from '../activities/approval';
import type { RegressionMetrics } from '../domain/metrics';

/** Signals, queries and result types of the lifecycle: shared by the workflow, the API and the CLI. */
export const approveSignal = defineSignal<[unknown]>('approve');
export const rejectSignal = defineSignal<[unknown]>('reject');
export const statusQuery = defineQuery<LifecycleStatus>('status');

export const WORKFLOW_TYPE = 'modelLifecycle';

export type Stage = 'ingest' | 'validate' | 'train' | 'evaluate' | 'awaiting-approval' | 'deploy' | 'done';
export type Outcome = 'deployed' | 'rejected' | 'expired' | 'not-blessed';

export interface LifecycleStatus {
  modelName: string;
  stage: Stage;
  since: string;
  waitingFor: string | null;
  requestedBy: string;
  approvers: string[];
  approvalDeadline: string | null;
  dataset: { sha256: string; uri: string; sourceUri: string; rowCount?: number } | null;
  validation: { warnings: string[]; reportUri: string } | null;
  candidate: { version: number; artifactUri: string; sha256: string; trainingMetrics: RegressionMetrics } | null;
  evaluation: Evaluation | null;
  decisions: (ReviewedDecision & { decision: 'approve' | 'reject' })[];
  deployment: Deployment | null;
  outcome: Outcome | null;
}

export interface LifecycleResult {
  outcome: Outcome;
  modelName: string;
  version: number;
  deployment: Deployment | null;
  decidedBy: string[];
}

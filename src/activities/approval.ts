import { log } from '@temporalio/activity';
import { currentRun } from './context';
import { verifyApprovalToken } from '../auth/approvalToken';
import { judgeDecision, type Verdict } from '../domain/approvalPolicy';
import { DecisionSignal, formatZodError } from '../schemas/lifecycle';
import type { ActivityDeps } from './deps';

export interface DecisionReview {
  modelName: string;
  versionId: number;
  decision: 'approve' | 'reject';
  /** The signal payload exactly as received: it is validated here, not trusted. */
  payload: unknown;
  approvers: string[];
  requestedBy: string;
  /** Position of this signal in the run: with the run id, the audit row's idempotency key. */
  sequence: number;
}

export type ReviewedDecision = Verdict & { approver: string; comment: string };

export function approvalActivities(deps: ActivityDeps) {
  return {
    /** Proves and judges one decision signal, and audits it whatever the verdict. */
    async reviewDecision(input: DecisionReview): Promise<ReviewedDecision> {
      const { workflowId, runId } = currentRun();
      const parsed = DecisionSignal.safeParse(input.payload);
      const claimed = (input.payload as { approver?: unknown } | null)?.approver;
      const approver = parsed.success ? parsed.data.approver : typeof claimed === 'string' ? claimed.slice(0, 128) : '(none)';
      const comment = parsed.success ? parsed.data.comment : '';
      let verdict: Verdict;
      if (!parsed.success) verdict = { accepted: false, reason: `invalid ${input.decision} payload: ${formatZodError(parsed.error)}` };
      else if (!verifyApprovalToken(deps.approvalSecret, workflowId, approver, parsed.data.token)) {
        verdict = { accepted: false, reason: `the token does not prove the identity "${approver}" for this run` };
      } else verdict = judgeDecision({ approvers: input.approvers, requestedBy: input.requestedBy }, approver);

      await deps.registry.recordApprovalEvent({
        eventKey: `${workflowId}/${runId}/${input.sequence}`,
        workflowId,
        runId,
        modelName: input.modelName,
        versionId: input.versionId,
        decision: input.decision,
        approver,
        accepted: verdict.accepted,
        reason: verdict.reason,
        comment,
      });
      log.info('decision reviewed', { decision: input.decision, approver, accepted: verdict.accepted });
      return { ...verdict, approver, comment };
    },
  };
}

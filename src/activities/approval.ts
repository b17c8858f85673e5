import { log } from '@temporalio/activity';
import { verifyApprovalToken, verifyRequesterProof } from '../auth/approvalToken';
import { approvalsRequired, judgeDecision, unsatisfiable, type ApprovalPolicy, type Decision } from '../domain/approvalPolicy';
import { sanitize } from '../domain/quote';
import { DecisionSignal, formatZodError } from '../schemas/lifecycle';
import type { ReviewedDecision } from '../workflows/definitions';
import { currentRun } from './context';
import type { ActivityDeps } from './deps';
import { FailureType, nonRetryable } from './failures';

export interface RequesterCheck {
  requestedBy: string;
  requesterProof?: string;
  approvers: string[];
}

export interface DecisionReview {
  modelName: string;
  /** The candidate decided on; null while the run has none yet (a decision sent too early). */
  versionId: number | null;
  decision: Decision;
  /** The signal or update payload exactly as received: it is validated here, not trusted. */
  payload: unknown;
  policy: ApprovalPolicy;
  /** Approvers whose approval already counts. */
  approvedBy: string[];
  /** Null when the run takes decisions now; otherwise why not (too early, already decided, timed out). */
  notWaiting: string | null;
  /** Workflow time at which the decision arrived: token expiry is judged at that moment. */
  receivedAt: string;
  /** Position of this decision in the run: with the run id, the audit row's idempotency key. */
  sequence: number;
}

export function approvalActivities(deps: ActivityDeps) {
  return {
    /** Whether the run's requester is proven, and so how many approvals it needs; refuses a run nobody could approve. */
    async checkRequester(input: RequesterCheck): Promise<{ requesterVerified: boolean; approvalsRequired: number }> {
      const { workflowId } = currentRun();
      const requesterVerified = verifyRequesterProof(deps.approvalSecret, workflowId, input.requestedBy, input.requesterProof);
      const policy = { approvers: input.approvers, requestedBy: input.requestedBy, requesterVerified };
      const impossible = unsatisfiable(policy);
      if (impossible) throw nonRetryable(FailureType.invalidInput, `invalid lifecycle input: ${impossible}`);
      if (!requesterVerified) log.warn('requester unverified: two approvers must agree', { requestedBy: input.requestedBy });
      return { requesterVerified, approvalsRequired: approvalsRequired(policy) };
    },

    /** Proves and judges one decision, and audits it whatever the verdict. */
    async reviewDecision(input: DecisionReview): Promise<ReviewedDecision> {
      const { workflowId, runId } = currentRun();
      const eventKey = `${workflowId}/${runId}/${input.sequence}`;
      const parsed = DecisionSignal.safeParse(input.payload);
      const claimed = (input.payload as { approver?: unknown } | null)?.approver;
      const approver = parsed.success ? parsed.data.approver : typeof claimed === 'string' ? sanitize(claimed, 64) : '(none)';
      const comment = parsed.success ? parsed.data.comment : '';
      const verdict = await judge();

      await deps.registry.recordApprovalEvent({
        eventKey,
        workflowId,
        runId,
        modelName: input.modelName,
        versionId: input.versionId,
        decision: input.decision,
        approver,
        accepted: verdict.state === 'accepted',
        state: verdict.state,
        reason: verdict.reason,
        comment,
        receivedAt: input.receivedAt,
      });
      log.info('decision reviewed', { decision: input.decision, approver, state: verdict.state });
      return { decision: input.decision, approver, comment, accepted: verdict.state === 'accepted', final: verdict.final, state: verdict.state, reason: verdict.reason, receivedAt: input.receivedAt };

      async function judge(): Promise<{ state: ReviewedDecision['state']; final: boolean; reason: string }> {
        if (!parsed.success) return { state: 'refused', final: false, reason: `invalid ${input.decision} payload: ${formatZodError(parsed.error)}` };
        const scope = { workflowId, runId, approver, decision: input.decision };
        const token = verifyApprovalToken(deps.approvalSecret, parsed.data.token, scope, new Date(input.receivedAt));
        if (!token.ok) return { state: 'refused', final: false, reason: token.reason };
        // A proven token is spent whatever happens next, so a copy of it from the history never counts.
        if (!(await deps.registry.claimApprovalToken(token.nonce, eventKey))) {
          return { state: 'refused', final: false, reason: 'the token was already used: get a new one with `lifecycle approval-token <run>`' };
        }
        if (input.notWaiting) return { state: 'not-waiting', final: false, reason: input.notWaiting };
        const verdict = judgeDecision(input.policy, approver, input.decision, input.approvedBy);
        return { state: verdict.accepted ? 'accepted' : 'refused', final: verdict.final, reason: verdict.reason };
      }
    },
  };
}

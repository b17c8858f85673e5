/**
 * Who may decide on a run, and when a run is decided: pure rules, applied after the approver's
 * identity has been proven by a token.
 *
 * Four-eyes: the requester never decides on their own run. A run started through the API carries a
 * proof of its requester; a run started otherwise (plain Temporal CLI without a requester proof) names
 * a requester nobody vouched for, who may be one of the approvers under another name, so it needs
 * approvals from two different approvers.
 */
export interface ApprovalPolicy {
  approvers: string[];
  requestedBy: string;
  requesterVerified: boolean;
}

export type Decision = 'approve' | 'reject';
export type Verdict = { accepted: true; final: boolean; reason: string } | { accepted: false; final: false; reason: string };

export function approvalsRequired(policy: ApprovalPolicy): number {
  return policy.requesterVerified ? 1 : 2;
}

/** Approvers who may decide on the run: the listed ones other than the requester. */
export function eligibleApprovers(policy: ApprovalPolicy): string[] {
  return [...new Set(policy.approvers)].filter((a) => a !== policy.requestedBy);
}

/** Why the run can never be approved, or null: checked when the run starts so nobody waits for nothing. */
export function unsatisfiable(policy: ApprovalPolicy): string | null {
  const needed = approvalsRequired(policy);
  const eligible = eligibleApprovers(policy);
  if (eligible.length >= needed) return null;
  const why = policy.requesterVerified ? '' : ` (the requester "${policy.requestedBy}" is unverified, so two different approvers must agree)`;
  return `approvers: ${needed} approver(s) other than the requester are needed${why}, but the run lists ${eligible.length}`;
}

/** Judges one proven decision, given the approvals the run already has. */
export function judgeDecision(policy: ApprovalPolicy, approver: string, decision: Decision, approvedBy: readonly string[]): Verdict {
  if (!policy.approvers.includes(approver)) {
    return { accepted: false, final: false, reason: `"${approver}" is not an approver of this run (approvers: ${policy.approvers.join(', ')})` };
  }
  if (approver === policy.requestedBy) {
    return { accepted: false, final: false, reason: `"${approver}" requested this run and cannot decide on it (four-eyes rule)` };
  }
  if (decision === 'reject') return { accepted: true, final: true, reason: `"${approver}" is an approver of this run and rejected it` };
  if (approvedBy.includes(approver)) {
    return { accepted: false, final: false, reason: `"${approver}" has already approved this run; another approver must approve it too` };
  }
  const needed = approvalsRequired(policy);
  const have = approvedBy.length + 1;
  if (have < needed) {
    return { accepted: true, final: false, reason: `"${approver}" approved (${have} of ${needed}: the requester is unverified, so another approver must agree)` };
  }
  return { accepted: true, final: true, reason: `"${approver}" is an approver of this run` + (needed > 1 ? ` (${have} of ${needed} approvals)` : '') };
}

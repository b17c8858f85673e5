/** Who may decide on a run: pure rules, applied after the approver's identity has been proven. */
export interface ApprovalPolicy {
  approvers: string[];
  requestedBy: string;
}

export type Verdict = { accepted: true; reason: string } | { accepted: false; reason: string };

export function judgeDecision(policy: ApprovalPolicy, approver: string): Verdict {
  if (!policy.approvers.includes(approver)) {
    return { accepted: false, reason: `"${approver}" is not an approver of this run (approvers: ${policy.approvers.join(', ')})` };
  }
  if (approver === policy.requestedBy) {
    return { accepted: false, reason: `"${approver}" requested this run and cannot decide on it (four-eyes rule)` };
  }
  return { accepted: true, reason: `"${approver}" is an approver of this run` };
}

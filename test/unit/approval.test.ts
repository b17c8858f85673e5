import { describe, it, expect } from 'vitest';
import { issueApprovalToken, requesterProof, verifyApprovalToken, verifyRequesterProof, type ApprovalTokenScope } from '../../src/auth/approvalToken';
import { approvalsRequired, judgeDecision, unsatisfiable } from '../../src/domain/approvalPolicy';

const SECRET = 'a-very-long-approval-secret-0123456789';
const OTHER_SECRET = 'another-long-approval-secret-9876543210';
const HOUR = 3_600_000;
const NOW = Date.parse('2026-11-26T10:00:00Z');
const scope: ApprovalTokenScope = { workflowId: 'lifecycle-cars-1', runId: 'run-a', approver: 'bob', decision: 'approve' };
const at = (ms: number) => new Date(NOW + ms);

describe('approval tokens', () => {
  const issued = issueApprovalToken(SECRET, scope, HOUR, NOW);

  it('is versioned, names its decision and expiry, and carries a nonce', () => {
    expect(issued.token).toMatch(/^v1\.approve\.\d+\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/);
    expect(issued.expiresAt).toBe('2026-11-26T11:00:00.000Z');
    expect(verifyApprovalToken(SECRET, issued.token, scope, at(1000))).toEqual({ ok: true, nonce: issued.nonce });
  });

  it('gives every token a fresh nonce, so two tokens for the same decision differ', () => {
    expect(issueApprovalToken(SECRET, scope, HOUR, NOW).token).not.toBe(issued.token);
  });

  it('does not prove anything for another run of the same workflow id (replay across runs)', () => {
    const check = verifyApprovalToken(SECRET, issued.token, { ...scope, runId: 'run-b' }, at(1000));
    expect(check).toEqual({ ok: false, reason: 'the token does not prove the identity "bob" for this run' });
  });

  it('does not prove anything for another workflow, another approver or under another secret', () => {
    expect(verifyApprovalToken(SECRET, issued.token, { ...scope, workflowId: 'lifecycle-cars-2' }, at(0)).ok).toBe(false);
    expect(verifyApprovalToken(SECRET, issued.token, { ...scope, approver: 'carol' }, at(0)).ok).toBe(false);
    expect(verifyApprovalToken(OTHER_SECRET, issued.token, scope, at(0)).ok).toBe(false);
  });

  it('an approve token cannot reject', () => {
    const check = verifyApprovalToken(SECRET, issued.token, { ...scope, decision: 'reject' }, at(0));
    expect(check).toEqual({ ok: false, reason: 'the token was issued to approve, not to reject' });
  });

  it('refuses a token whose decision field was edited (the MAC covers it)', () => {
    const edited = issued.token.replace('v1.approve.', 'v1.reject.');
    const check = verifyApprovalToken(SECRET, edited, { ...scope, decision: 'reject' }, at(0));
    expect(check.ok).toBe(false);
    expect(!check.ok && check.reason).toMatch(/does not prove/);
  });

  it('expires', () => {
    expect(verifyApprovalToken(SECRET, issued.token, scope, at(HOUR)).ok).toBe(true);
    expect(verifyApprovalToken(SECRET, issued.token, scope, at(HOUR + 1000))).toEqual({ ok: false, reason: 'the token expired at 2026-11-26T11:00:00.000Z' });
    // an extended expiry is a different MAC
    const [v, d, exp, nonce, mac] = issued.token.split('.');
    expect(verifyApprovalToken(SECRET, [v, d, Number(exp) + 3600, nonce, mac].join('.'), scope, at(HOUR + 1000)).ok).toBe(false);
  });

  it('refuses garbage without echoing it', () => {
    for (const bad of ['', 'abc', `v1.approve.1.${'A'.repeat(22)}.x`, issued.token + 'A', 'v0' + issued.token.slice(2)]) {
      const check = verifyApprovalToken(SECRET, bad, scope, at(0));
      expect(check.ok).toBe(false);
      if (bad) expect(!check.ok && check.reason).not.toContain(bad);
    }
  });
});

describe('requester proofs', () => {
  it('prove one requester for one workflow id', () => {
    const proof = requesterProof(SECRET, 'wf-1', 'eve');
    expect(verifyRequesterProof(SECRET, 'wf-1', 'eve', proof)).toBe(true);
    expect(verifyRequesterProof(SECRET, 'wf-1', 'alice', proof)).toBe(false);
    expect(verifyRequesterProof(SECRET, 'wf-2', 'eve', proof)).toBe(false);
    expect(verifyRequesterProof(OTHER_SECRET, 'wf-1', 'eve', proof)).toBe(false);
    expect(verifyRequesterProof(SECRET, 'wf-1', 'eve', undefined)).toBe(false);
    expect(verifyRequesterProof(SECRET, 'wf-1', 'eve', 'short')).toBe(false);
  });
});

describe('judgeDecision', () => {
  const policy = { approvers: ['bob', 'carol'], requestedBy: 'alice', requesterVerified: true };
  const unverified = { ...policy, requesterVerified: false };

  it('accepts a listed approver who did not request the run, and one approval settles a verified run', () => {
    const v = judgeDecision(policy, 'bob', 'approve', []);
    expect(v).toMatchObject({ accepted: true, final: true });
    expect(v.reason).toContain('"bob"');
  });

  it('refuses someone who is not an approver, listing the approvers', () => {
    const v = judgeDecision(policy, 'mallory', 'approve', []);
    expect(v.accepted).toBe(false);
    expect(v.reason).toContain('"mallory" is not an approver');
    expect(v.reason).toContain('bob, carol');
  });

  it('refuses the requester even when listed as an approver (four-eyes), for approvals and rejections', () => {
    const p = { approvers: ['alice', 'bob'], requestedBy: 'alice', requesterVerified: true };
    for (const d of ['approve', 'reject'] as const) {
      const v = judgeDecision(p, 'alice', d, []);
      expect(v.accepted).toBe(false);
      expect(v.reason).toContain('four-eyes');
    }
    expect(judgeDecision(p, 'bob', 'approve', []).accepted).toBe(true);
  });

  it('matches approver names exactly (case-sensitive, no substrings)', () => {
    expect(judgeDecision(policy, 'Bob', 'approve', []).accepted).toBe(false);
    expect(judgeDecision(policy, 'bo', 'approve', []).accepted).toBe(false);
    expect(judgeDecision(policy, '', 'approve', []).accepted).toBe(false);
  });

  it('an unverified requester needs two different approvers; one rejection settles it', () => {
    expect(approvalsRequired(unverified)).toBe(2);
    const first = judgeDecision(unverified, 'bob', 'approve', []);
    expect(first).toMatchObject({ accepted: true, final: false });
    expect(first.reason).toMatch(/1 of 2/);
    const again = judgeDecision(unverified, 'bob', 'approve', ['bob']);
    expect(again).toMatchObject({ accepted: false });
    expect(again.reason).toMatch(/already approved/);
    expect(judgeDecision(unverified, 'carol', 'approve', ['bob'])).toMatchObject({ accepted: true, final: true });
    expect(judgeDecision(unverified, 'carol', 'reject', [])).toMatchObject({ accepted: true, final: true });
  });

  it('says when a run can never be approved', () => {
    expect(unsatisfiable(policy)).toBeNull();
    expect(unsatisfiable({ ...unverified, approvers: ['bob', 'alice'] })).toMatch(/2 approver\(s\) other than the requester are needed .*unverified.* lists 1/);
    expect(unsatisfiable({ approvers: ['alice'], requestedBy: 'alice', requesterVerified: true })).toMatch(/lists 0/);
    expect(unsatisfiable({ approvers: [], requestedBy: 'alice', requesterVerified: true })).not.toBeNull();
  });
});

import { createHmac } from 'node:crypto';
import { describe, it, expect } from 'vitest';
import { createApprovalToken, verifyApprovalToken } from '../../src/auth/approvalToken';
import { judgeDecision } from '../../src/domain/approvalPolicy';

const SECRET = 'a-very-long-approval-secret-0123456789';
const OTHER_SECRET = 'another-long-approval-secret-9876543210';

describe('approval tokens', () => {
  const token = createApprovalToken(SECRET, 'lifecycle-cars-1', 'bob');

  it('is an HMAC-SHA256 over the workflow id and approver, base64url encoded', () => {
    const expected = createHmac('sha256', SECRET).update('lifecycle-approval\nlifecycle-cars-1\nbob').digest('base64url');
    expect(token).toBe(expected);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('is deterministic', () => {
    expect(createApprovalToken(SECRET, 'lifecycle-cars-1', 'bob')).toBe(token);
  });

  it('verifies for the same run and approver', () => {
    expect(verifyApprovalToken(SECRET, 'lifecycle-cars-1', 'bob', token)).toBe(true);
  });

  it('is bound to the workflow id: another run rejects it', () => {
    expect(verifyApprovalToken(SECRET, 'lifecycle-cars-2', 'bob', token)).toBe(false);
    expect(createApprovalToken(SECRET, 'lifecycle-cars-2', 'bob')).not.toBe(token);
  });

  it('is bound to the approver: another approver cannot reuse it', () => {
    expect(verifyApprovalToken(SECRET, 'lifecycle-cars-1', 'carol', token)).toBe(false);
    expect(createApprovalToken(SECRET, 'lifecycle-cars-1', 'carol')).not.toBe(token);
  });

  it('does not confuse the split between workflow id and approver', () => {
    // "run-1" + "bob" must differ from "run-" + "1bob" and "run-1b" + "ob".
    const a = createApprovalToken(SECRET, 'run-1', 'bob');
    expect(createApprovalToken(SECRET, 'run-', '1bob')).not.toBe(a);
    expect(createApprovalToken(SECRET, 'run-1b', 'ob')).not.toBe(a);
  });

  it('is bound to the secret', () => {
    expect(verifyApprovalToken(OTHER_SECRET, 'lifecycle-cars-1', 'bob', token)).toBe(false);
    const forged = createApprovalToken(OTHER_SECRET, 'lifecycle-cars-1', 'bob');
    expect(verifyApprovalToken(SECRET, 'lifecycle-cars-1', 'bob', forged)).toBe(false);
  });

  it('rejects a tampered token (one character changed)', () => {
    const last = token[token.length - 1];
    const tampered = token.slice(0, -1) + (last === 'A' ? 'B' : 'A');
    expect(verifyApprovalToken(SECRET, 'lifecycle-cars-1', 'bob', tampered)).toBe(false);
    const first = token[0];
    const tampered2 = (first === 'x' ? 'y' : 'x') + token.slice(1);
    expect(verifyApprovalToken(SECRET, 'lifecycle-cars-1', 'bob', tampered2)).toBe(false);
  });

  it('rejects tokens of the wrong length and empty tokens without throwing', () => {
    expect(verifyApprovalToken(SECRET, 'lifecycle-cars-1', 'bob', token.slice(0, -1))).toBe(false);
    expect(verifyApprovalToken(SECRET, 'lifecycle-cars-1', 'bob', token + 'A')).toBe(false);
    expect(verifyApprovalToken(SECRET, 'lifecycle-cars-1', 'bob', '')).toBe(false);
  });

  it('rejects the same token in another encoding (hex of the same HMAC)', () => {
    const hex = createHmac('sha256', SECRET).update('lifecycle-approval\nlifecycle-cars-1\nbob').digest('hex');
    expect(verifyApprovalToken(SECRET, 'lifecycle-cars-1', 'bob', hex)).toBe(false);
  });
});

describe('judgeDecision', () => {
  const policy = { approvers: ['bob', 'carol'], requestedBy: 'alice' };

  it('accepts a listed approver who did not request the run', () => {
    const v = judgeDecision(policy, 'bob');
    expect(v.accepted).toBe(true);
    expect(v.reason).toContain('"bob"');
  });

  it('refuses someone who is not an approver, listing the approvers', () => {
    const v = judgeDecision(policy, 'mallory');
    expect(v.accepted).toBe(false);
    expect(v.reason).toContain('"mallory" is not an approver');
    expect(v.reason).toContain('bob, carol');
  });

  it('refuses the requester even when listed as an approver (four-eyes)', () => {
    const v = judgeDecision({ approvers: ['alice', 'bob'], requestedBy: 'alice' }, 'alice');
    expect(v.accepted).toBe(false);
    expect(v.reason).toContain('four-eyes');
    expect(v.reason).toContain('"alice"');
    // the other approver is still fine
    expect(judgeDecision({ approvers: ['alice', 'bob'], requestedBy: 'alice' }, 'bob').accepted).toBe(true);
  });

  it('matches approver names exactly (case-sensitive, no substrings)', () => {
    expect(judgeDecision(policy, 'Bob').accepted).toBe(false);
    expect(judgeDecision(policy, 'bo').accepted).toBe(false);
    expect(judgeDecision(policy, '').accepted).toBe(false);
  });

  it('refuses everyone when there are no approvers', () => {
    expect(judgeDecision({ approvers: [], requestedBy: 'alice' }, 'bob').accepted).toBe(false);
  });
});

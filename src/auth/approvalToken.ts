import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Approval tokens prove who sent an approve/reject signal. The Temporal UI and CLI carry no sender
 * identity, so the signal payload names the approver and carries this token, which only the API
 * (holding the secret) issues, and only to a caller authenticated as that approver.
 *
 * A token is bound to one run (workflow id and run id), one approver and one decision, expires, and
 * carries a nonce that the worker records when the token is used, so it works once. It sits in the
 * run's history in plain text: none of that makes it usable anywhere else.
 *
 * Format: `v1.<decision>.<expires unix seconds>.<nonce>.<mac>`.
 */
export type Decision = 'approve' | 'reject';

export interface ApprovalTokenScope {
  workflowId: string;
  runId: string;
  approver: string;
  decision: Decision;
}

export interface IssuedApprovalToken {
  token: string;
  expiresAt: string;
  nonce: string;
}

const VERSION = 'v1';
const TOKEN_PATTERN = /^v1\.(approve|reject)\.(\d{1,12})\.([A-Za-z0-9_-]{16,64})\.([A-Za-z0-9_-]{43})$/;

function mac(secret: string, scope: ApprovalTokenScope, expires: number, nonce: string): string {
  const message = ['lifecycle-approval', VERSION, scope.workflowId, scope.runId, scope.approver, scope.decision, expires, nonce].join('\n');
  return createHmac('sha256', secret).update(message).digest('base64url');
}

export function issueApprovalToken(secret: string, scope: ApprovalTokenScope, ttlMs: number, now = Date.now()): IssuedApprovalToken {
  const expires = Math.floor((now + ttlMs) / 1000);
  const nonce = randomBytes(16).toString('base64url');
  return { token: [VERSION, scope.decision, expires, nonce, mac(secret, scope, expires, nonce)].join('.'), expiresAt: new Date(expires * 1000).toISOString(), nonce };
}

export type TokenCheck = { ok: true; nonce: string } | { ok: false; reason: string };

/** Checks a token for a decision received at `at`; the reason says what is wrong without echoing the token. */
export function verifyApprovalToken(secret: string, token: string, scope: ApprovalTokenScope, at: Date): TokenCheck {
  const m = TOKEN_PATTERN.exec(token);
  if (!m) return { ok: false, reason: 'the token is not an approval token (get one with `lifecycle approval-token <run>`)' };
  const [, decision, expiresText, nonce, given] = m as unknown as [string, Decision, string, string, string];
  const expires = Number(expiresText);
  const expected = Buffer.from(mac(secret, { ...scope, decision }, expires, nonce));
  if (!timingSafeEqual(Buffer.from(given), expected)) {
    return { ok: false, reason: `the token does not prove the identity "${scope.approver}" for this run` };
  }
  if (decision !== scope.decision) return { ok: false, reason: `the token was issued to ${decision}, not to ${scope.decision}` };
  if (at.getTime() > expires * 1000) return { ok: false, reason: `the token expired at ${new Date(expires * 1000).toISOString()}` };
  return { ok: true, nonce };
}

/**
 * Proof that `requestedBy` asked for the run with this workflow id. The API adds it when it starts a
 * run for an authenticated caller, and issues it on request for starts through the Temporal CLI. A run
 * without a valid proof has an unverified requester and needs two approvers (see approvalPolicy).
 */
export function requesterProof(secret: string, workflowId: string, requestedBy: string): string {
  return createHmac('sha256', secret).update(['lifecycle-requester', VERSION, workflowId, requestedBy].join('\n')).digest('base64url');
}

export function verifyRequesterProof(secret: string, workflowId: string, requestedBy: string, proof: string | undefined): boolean {
  if (!proof) return false;
  const expected = Buffer.from(requesterProof(secret, workflowId, requestedBy));
  const given = Buffer.from(proof);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

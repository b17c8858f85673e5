import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Approval tokens prove who sent an approve/reject signal. The Temporal UI and CLI carry no sender
 * identity, so the signal payload names the approver and carries this HMAC, which only the API
 * (holding the secret) issues, and only to a caller authenticated as that approver, for one run.
 */
export function createApprovalToken(secret: string, workflowId: string, approver: string): string {
  return createHmac('sha256', secret).update(`lifecycle-approval\n${workflowId}\n${approver}`).digest('base64url');
}

export function verifyApprovalToken(secret: string, workflowId: string, approver: string, token: string): boolean {
  const expected = Buffer.from(createApprovalToken(secret, workflowId, approver));
  const given = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

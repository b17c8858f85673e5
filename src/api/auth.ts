import type { Caller, Role } from '../auth/apiTokens';

/** What each role may do. Approvers decide but do not start runs, so requesting and approving stay apart. */
export const PERMISSIONS = {
  read: ['viewer', 'engineer', 'approver', 'admin'],
  predict: ['viewer', 'engineer', 'approver', 'admin'],
  start: ['engineer', 'admin'],
  decide: ['approver', 'admin'],
  /**
   * Ground truth (`POST /models/{name}/feedback`) steers monitoring, canary promotion or rollback and
   * retraining: a write with consequences, so a writing role, not every caller that may predict.
   */
  feedback: ['engineer', 'admin'],
  /**
   * Rollbacks and team aliases: an on-call engineer must be able to roll back at night, and a rollback
   * only returns production to a version that was approved for it before.
   */
  release: ['engineer', 'approver', 'admin'],
} as const satisfies Record<string, readonly Role[]>;
export type Permission = keyof typeof PERMISSIONS;

export function can(caller: Caller, permission: Permission): boolean {
  return (PERMISSIONS[permission] as readonly Role[]).includes(caller.role);
}

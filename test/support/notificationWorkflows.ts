// Test-only workflows (bundled by test/integration/notificationReminders.test.ts): a run that waits for a
// decision the way the lifecycle does, notifying with src/workflows/notify.ts.
import { msToNumber } from '@temporalio/common';
import { ApplicationFailure, CancellationScope, condition, defineSignal, setHandler } from '@temporalio/workflow';
import { notify, remindWhileWaiting } from '../../src/workflows/notify';

export { deliverNotification } from '../../src/workflows/notify';

export const decideSignal = defineSignal<[string]>('decide');

export interface WaitInput {
  model: string;
  every: string;
  /** How long the run waits for a decision (the approval window). */
  timeout: string;
  /** How the reminders are stopped once decided: by their `until` condition, or by cancelling their scope. */
  stopBy: 'condition' | 'cancellation';
}

export async function waitForDecision(input: WaitInput): Promise<{ decision: string | null; reminders: number; decidedAt: string; deadline: string }> {
  let decision: string | null = null;
  setHandler(decideSignal, (d) => void (decision = d));
  const deadline = Date.now() + msToNumber(input.timeout);
  const approval = { version: 1, approvers: ['alice'], approvalsRequired: 1, deadline: new Date(deadline).toISOString() };
  // Links are checked in the workflow sandbox too (no credentials, no token parameters).
  const links = { status: `http://127.0.0.1:3000/lifecycles/${input.model}`, report: 'http://127.0.0.1:3000/reports/view?ref=abc&expires=1&signature=def' };
  await notify({ type: 'approval.waiting', model: input.model, summary: `${input.model} v1 waits for approval`, links, data: approval });

  const scope = new CancellationScope();
  const reminders = scope.run(() =>
    remindWhileWaiting({
      every: input.every,
      until: () => input.stopBy === 'condition' && decision !== null,
      deadline,
      event: (n) => ({ type: 'approval.reminder', model: input.model, summary: `${input.model} v1 still waits for approval (reminder ${n})`, data: { ...approval, reminder: n } }),
    }),
  );
  const decided = await condition(() => decision !== null, input.timeout);
  const decidedAt = new Date().toISOString();
  if (input.stopBy === 'cancellation') scope.cancel();
  const sent = await reminders;
  if (decided) await notify({ type: 'model.deployed', model: input.model, summary: `${input.model} v1 in production`, data: { alias: 'production', version: 1, previousVersion: null } });
  return { decision, reminders: sent, decidedAt, deadline: approval.deadline };
}

/** A run that fails right after notifying of it, as a failing lifecycle would: the event must still go out. */
export async function failAfterNotifying(model: string): Promise<never> {
  await notify({ type: 'run.failed', model, summary: `${model} failed in validate`, data: { stage: 'validate', failureType: 'DatasetInvalid', message: 'price: not a number' } });
  throw ApplicationFailure.nonRetryable('price: not a number', 'DatasetInvalid');
}

import { msToNumber, type Duration } from '@temporalio/common';
import {
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  log,
  ParentClosePolicy,
  proxyActivities,
  startChild,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { NotificationActivities } from '../activities/notifications';
import { NotificationEvent, type NotificationDraft } from '../notifications/events';
import { formatZodError } from '../schemas/lifecycle';
import { controlTaskQueue } from './definitions';

/**
 * Notifications from workflows. `notify` starts a small child workflow, `deliverNotification`, with the
 * ABANDON parent-close policy and returns once it has started: delivery (retries for up to a day) goes
 * on whether the caller waits, completes, fails, is cancelled or continues as new, and a failing
 * endpoint can never fail the caller, which never waits for the result. An activity awaited in the
 * caller instead would either hold it for the length of the retries or be dropped when it closes (a
 * `run.failed` sent as the run fails would be lost).
 */

/** Short I/O, on the control task queue: reminders never wait behind a backlog of training. */
export const NOTIFICATION_ACTIVITIES = ['routeNotification', 'sendNotification'] as const;
export const DELIVER_NOTIFICATION_WORKFLOW = 'deliverNotification';

/**
 * Retries with exponential backoff (2 s, 4 s, 8 s … capped at 10 min, or the receiver's Retry-After) for
 * a day; 4xx answers but 408/429 and refused addresses are final (the activity throws non-retryable).
 */
const retry = { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '10 minutes' };
const DELIVERY_BUDGET = '1 day';

export interface DeliveryReport {
  eventId: string;
  delivered: string[];
}

/**
 * Sends one event to every endpoint that takes its type, one activity per endpoint, so that a failing
 * endpoint neither holds up nor causes a re-send to the others. Fails (visibly, in the Temporal UI) when
 * an endpoint could not be reached in the budget or refused the event; the caller is not affected.
 */
export async function deliverNotification(raw: unknown): Promise<DeliveryReport> {
  const parsed = NotificationEvent.safeParse(raw);
  if (!parsed.success) throw ApplicationFailure.nonRetryable(`invalid notification: ${formatZodError(parsed.error)}`, 'InvalidInput');
  const event = parsed.data;
  const taskQueue = controlTaskQueue(workflowInfo().taskQueue);
  const { routeNotification } = proxyActivities<NotificationActivities>({ taskQueue, startToCloseTimeout: '10 seconds', scheduleToCloseTimeout: DELIVERY_BUDGET, retry });
  // Above the longest request an endpoint may take (50 s, see src/notifications/endpoints.ts).
  const { sendNotification } = proxyActivities<NotificationActivities>({ taskQueue, startToCloseTimeout: '1 minute', scheduleToCloseTimeout: DELIVERY_BUDGET, retry });

  const endpoints = await routeNotification(event);
  const results = await Promise.allSettled(endpoints.map((endpoint) => sendNotification({ endpoint, event })));
  const delivered = endpoints.filter((_, i) => results[i].status === 'fulfilled');
  // The activity's own failure (under Temporal's ActivityFailure) says what the endpoint answered.
  const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [`${endpoints[i]}: ${((r.reason as Error).cause as Error | undefined)?.message ?? String(r.reason)}`] : []));
  if (failed.length) throw ApplicationFailure.nonRetryable(`${event.type} ${event.id} not delivered to ${failed.join('; ')}`, 'NotificationUndelivered', { delivered });
  return { eventId: event.id, delivered };
}

/**
 * Notifies of `draft`, adding the event id (unique, the same on every delivery retry), the workflow time
 * and this workflow run. Fire-and-forget-safe: resolves once delivery has started and never throws, even
 * while the caller is being cancelled; an invalid event is logged and dropped.
 */
export async function notify(draft: NotificationDraft): Promise<void> {
  const { workflowId, runId } = workflowInfo();
  const parsed = NotificationEvent.safeParse({ ...draft, id: `evt_${uuid4()}`, time: new Date().toISOString(), workflow: { id: workflowId, runId } });
  if (!parsed.success) {
    log.error('notification dropped: invalid event', { type: draft.type, problem: formatZodError(parsed.error) });
    return;
  }
  const event = parsed.data;
  try {
    await CancellationScope.nonCancellable(() =>
      startChild(deliverNotification, { args: [event], workflowId: `notification-${event.id}`, parentClosePolicy: ParentClosePolicy.ABANDON }),
    );
  } catch (err) {
    log.warn('notification not started', { type: event.type, eventId: event.id, error: err });
  }
}

/**
 * Sends a reminder every `every` (first one `every` after the call) while `until()` is false, and stops
 * when it turns true, at `deadline` (no reminder at or after it), or when the calling scope is
 * cancelled. Workflow timers only: deterministic, and replayed as recorded. Resolves with the number
 * of reminders sent; never throws (a bad `every` or a throwing `event` is logged). `event(n)` builds the n-th reminder (n from 1).
 */
export async function remindWhileWaiting(options: {
  every: Duration;
  until: () => boolean;
  deadline?: Date | number;
  event: (reminder: number) => NotificationDraft;
}): Promise<number> {
  let sent = 0;
  try {
    const everyMs = msToNumber(options.every);
    if (!(everyMs > 0)) throw new RangeError(`every must be a positive duration, not ${String(options.every)}`);
    const deadline = options.deadline === undefined ? Number.POSITIVE_INFINITY : new Date(options.deadline).getTime();
    for (;;) {
      const wait = Math.min(everyMs, deadline - Date.now());
      if (!(wait > 0)) return sent;
      if (await condition(options.until, wait)) return sent;
      if (Date.now() >= deadline) return sent;
      sent += 1;
      await notify(options.event(sent));
    }
  } catch (err) {
    // Reminders are a courtesy: a bad interval or a failing `event` never fails the waiting workflow.
    if (!isCancellation(err)) log.error('reminders stopped', { sent, error: err });
    return sent;
  }
}

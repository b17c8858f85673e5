import { ScheduleNotFoundError, type ScheduleClient, type ScheduleDescription } from '@temporalio/client';
import { managedMemo, specSummary, type ScheduleKind } from './plan';

/** Listing and operating the schedules made from the schedules file (API and CLI). */

export interface ScheduleRow {
  id: string;
  model: string;
  kind: ScheduleKind;
  workflowType: string | null;
  /** E.g. "at 02:30 every day (Europe/Berlin), jitter 10m". */
  spec: string;
  paused: boolean;
  /** Who paused or resumed it and why (Temporal's schedule note). */
  note: string;
  /** The next few times it fires (ISO 8601). */
  nextRuns: string[];
  /** The last runs it started, oldest first. */
  recentActions: { scheduledAt: string; takenAt: string; workflowId: string | null; runId: string | null }[];
}

/** No managed schedule with that id (a hand-made one counts as none: it is not ours to operate). */
export class UnknownScheduleError extends Error {
  override name = 'UnknownScheduleError';
}
/** Trigger refused: the schedule is paused. */
export class SchedulePausedError extends Error {
  override name = 'SchedulePausedError';
}

export function scheduleRow(id: string, d: ScheduleDescription): ScheduleRow | null {
  const memo = managedMemo(d.memo);
  if (!memo) return null;
  return {
    id,
    model: memo.model,
    kind: memo.kind,
    workflowType: d.action.type === 'startWorkflow' ? d.action.workflowType : null,
    spec: specSummary(d.spec),
    paused: d.state.paused,
    note: d.state.note ?? '',
    nextRuns: d.info.nextActionTimes.slice(0, 5).map((t) => t.toISOString()),
    recentActions: d.info.recentActions.map((a) => ({
      scheduledAt: a.scheduledAt.toISOString(),
      takenAt: a.takenAt.toISOString(),
      workflowId: a.action.type === 'startWorkflow' ? a.action.workflow.workflowId : null,
      runId: a.action.type === 'startWorkflow' ? a.action.workflow.firstExecutionRunId : null,
    })),
  };
}

/**
 * The managed schedules of the namespace, by id. Ids come from the (eventually consistent) list; each
 * is then described, so pause state, next runs and recent actions are current.
 */
export async function listSchedules(schedules: ScheduleClient): Promise<ScheduleRow[]> {
  const ids: string[] = [];
  for await (const s of schedules.list()) if (managedMemo(s.memo)) ids.push(s.scheduleId);
  const rows = await Promise.all(ids.map((id) => describeSchedule(schedules, id).catch((err) => (err instanceof UnknownScheduleError ? null : Promise.reject(err)))));
  return rows.filter((r): r is ScheduleRow => r !== null).sort((a, b) => a.id.localeCompare(b.id));
}

export async function describeSchedule(schedules: ScheduleClient, id: string): Promise<ScheduleRow> {
  const description = await schedules
    .getHandle(id)
    .describe()
    .catch((err) => Promise.reject(err instanceof ScheduleNotFoundError ? new UnknownScheduleError(`no schedule "${id}"`) : err));
  const row = scheduleRow(id, description);
  if (!row) throw new UnknownScheduleError(`schedule "${id}" was not made from a schedules file: operate it in the Temporal UI or CLI`);
  return row;
}

/** Pauses or resumes a managed schedule; the note (who and why) is shown in the Temporal UI. */
export async function setPaused(schedules: ScheduleClient, id: string, paused: boolean, note: string): Promise<ScheduleRow> {
  await describeSchedule(schedules, id);
  const handle = schedules.getHandle(id);
  await (paused ? handle.pause(note) : handle.unpause(note));
  return describeSchedule(schedules, id);
}

/**
 * Starts the schedule's workflow now, under its overlap policy (SKIP: not while a run it started is still
 * running). Temporal itself triggers paused schedules too; the product does not: a paused schedule starts
 * nothing until it is resumed.
 */
export async function triggerSchedule(schedules: ScheduleClient, id: string): Promise<ScheduleRow> {
  const row = await describeSchedule(schedules, id);
  if (row.paused) throw new SchedulePausedError(`schedule "${id}" is paused (${row.note || 'no note'}): resume it first`);
  await schedules.getHandle(id).trigger();
  return row;
}

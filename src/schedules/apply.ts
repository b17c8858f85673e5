import { isDeepStrictEqual } from 'node:util';
import { ScheduleAlreadyRunning, ScheduleNotFoundError, type ScheduleClient, type ScheduleDescription } from '@temporalio/client';
import { msToNumber } from '@temporalio/common';
import { decodeScheduleSpec, encodeScheduleSpec } from '@temporalio/client/lib/schedule-helpers';
import type { SchedulesFile } from './file';
import { desiredSchedules, MANAGED_MEMO_KEY, managedMemo, type DesiredSchedule, type ScheduleKind } from './plan';

/**
 * Makes the namespace's Temporal Schedules match a schedules file, idempotently: each declared schedule is
 * created, updated (only when its spec, action or policies differ from what the server describes) or
 * left alone; managed schedules the file no longer declares are deleted. Schedules made by hand (without
 * the managed memo) are never touched.
 *
 * Pausing: `paused: true` in the file pauses the schedule. A schedule an operator paused (API, CLI,
 * Temporal UI) stays paused when the file says `paused: false`: a pause during an incident must survive a
 * worker restart that applies the file; only a pause the file itself made is lifted by the file.
 */

export const FILE_PAUSE_NOTE = 'paused by the schedules file';
const FILE_RESUME_NOTE = 'resumed by the schedules file';

export type Change = 'created' | 'updated' | 'unchanged' | 'deleted';
export interface ScheduleChange {
  id: string;
  model: string;
  kind: ScheduleKind;
  change: Change;
  /** What differed: spec, action, policies, paused, resumed. */
  differences: string[];
  /** E.g. that an operator's pause was kept. */
  remark?: string;
}
export interface ApplyResult {
  dryRun: boolean;
  changes: ScheduleChange[];
}

/** A declared schedule id taken by a schedule the file does not manage: nothing was changed. */
export class ScheduleConflictError extends Error {
  override name = 'ScheduleConflictError';
}

export interface ApplyOptions {
  /** The task queue the scheduled workflows start on (TEMPORAL_TASK_QUEUE). */
  taskQueue: string;
  /** Report what would change, change nothing. */
  dryRun?: boolean;
}

export async function applySchedules(schedules: ScheduleClient, file: SchedulesFile, options: ApplyOptions): Promise<ApplyResult> {
  const desired = desiredSchedules(file, options.taskQueue);
  const current = await Promise.all(desired.map((d) => describe(schedules, d.id)));
  const taken = desired.filter((d, i) => current[i] && !managedMemo(current[i]!.memo));
  if (taken.length) {
    throw new ScheduleConflictError(`schedule ids taken by schedules not made from a schedules file (delete or rename them): ${taken.map((d) => d.id).join(', ')}`);
  }
  // Listing goes through the visibility store, which lags a little behind: a schedule deleted
  // moments ago may still be listed, and is then found gone (ScheduleNotFoundError) and skipped.
  const declared = new Set(desired.map((d) => d.id));
  const stale: ScheduleChange[] = [];
  for await (const summary of schedules.list()) {
    const memo = managedMemo(summary.memo);
    if (memo && !declared.has(summary.scheduleId)) stale.push({ id: summary.scheduleId, model: memo.model, kind: memo.kind, change: 'deleted', differences: [] });
  }

  const changes: ScheduleChange[] = [];
  for (const [i, d] of desired.entries()) changes.push(await applyOne(schedules, d, current[i], options.dryRun ?? false));
  for (const s of stale) {
    if (options.dryRun) changes.push(s);
    else if (await schedules.getHandle(s.id).delete().then(() => true, ignoreNotFound)) changes.push(s);
  }
  return { dryRun: options.dryRun ?? false, changes };
}

async function applyOne(schedules: ScheduleClient, d: DesiredSchedule, current: ScheduleDescription | null, dryRun: boolean): Promise<ScheduleChange> {
  const base = { id: d.id, model: d.model, kind: d.kind };
  if (!current) {
    if (dryRun) return { ...base, change: 'created', differences: [] };
    try {
      await schedules.create({
        scheduleId: d.id,
        ...d.options,
        state: d.paused ? { paused: true, note: FILE_PAUSE_NOTE } : {},
        memo: { [MANAGED_MEMO_KEY]: { managedBy: 'lifecycle schedules file', model: d.model, kind: d.kind } },
        // On the schedule too: the UI's schedule list can be filtered by model.
        typedSearchAttributes: d.options.action.typedSearchAttributes,
      });
      return { ...base, change: 'created', differences: [] };
    } catch (err) {
      // Another process (a second worker applying at start) created it meanwhile: compare with theirs.
      if (!(err instanceof ScheduleAlreadyRunning)) throw err;
      return applyOne(schedules, d, await describe(schedules, d.id), dryRun);
    }
  }

  const differences = differencesFrom(d, current);
  const pausedByOperator = current.state.paused && current.state.note !== FILE_PAUSE_NOTE;
  const pause = d.paused && !current.state.paused;
  const resume = !d.paused && current.state.paused && !pausedByOperator;
  const remark = !d.paused && pausedByOperator ? `kept paused: ${current.state.note || 'paused by hand'}` : undefined;
  const all = [...differences, ...(pause ? ['paused'] : []), ...(resume ? ['resumed'] : [])];
  if (all.length === 0) return { ...base, change: 'unchanged', differences: [], ...(remark ? { remark } : {}) };
  if (!dryRun) {
    const handle = schedules.getHandle(d.id);
    // The pause state stays as it is in the update and changes only through pause/unpause with a note.
    if (differences.length) await handle.update((previous) => ({ ...d.options, state: { paused: previous.state.paused, note: previous.state.note } }));
    if (pause) await handle.pause(FILE_PAUSE_NOTE);
    if (resume) await handle.unpause(FILE_RESUME_NOTE);
  }
  return { ...base, change: 'updated', differences: all, ...(remark ? { remark } : {}) };
}

/** Which of spec, action and policies the server's description differs in from the file's. */
export function differencesFrom(d: DesiredSchedule, current: ScheduleDescription): string[] {
  const same = (a: unknown, b: unknown) => isDeepStrictEqual(JSON.parse(JSON.stringify(a)), JSON.parse(JSON.stringify(b)));
  // The SDK's own encoding and decoding give the form the server describes (checked for calendars and intervals).
  const spec = same(decodeScheduleSpec(encodeScheduleSpec(d.options.spec)), current.spec);
  const a = current.action;
  const want = d.options.action;
  const action =
    a.type === 'startWorkflow' &&
    a.workflowType === want.workflowType &&
    a.taskQueue === want.taskQueue &&
    a.workflowId === want.workflowId &&
    same(a.args, want.args) &&
    same(a.typedSearchAttributes, want.typedSearchAttributes);
  const p = current.policies;
  const policies =
    p.overlap === d.options.policies.overlap &&
    Number(p.catchupWindow) === msToNumber(d.options.policies.catchupWindow!) &&
    p.pauseOnFailure === d.options.policies.pauseOnFailure;
  return [...(spec ? [] : ['spec']), ...(action ? [] : ['action']), ...(policies ? [] : ['policies'])];
}

async function describe(schedules: ScheduleClient, id: string): Promise<ScheduleDescription | null> {
  return schedules.getHandle(id).describe().catch(ignoreNotFound);
}

function ignoreNotFound(err: unknown): null {
  if (err instanceof ScheduleNotFoundError) return null;
  throw err;
}

import type { CalendarSpec, DayOfWeek, Month, ScheduleOptions, ScheduleOptionsStartWorkflowAction, ScheduleSpecDescription } from '@temporalio/client';
import { MONTHS } from '@temporalio/client';
import { CronExpressionParser } from 'cron-parser';
import { DRIFT_MONITOR_WORKFLOW, DriftMonitorInput, RETRAIN_WORKFLOW, RetrainInput } from '../schemas/monitoring';
import { ModelName } from '../workflows/searchAttributes';
import type { CalendarEntry, DayName, MonitoringEntry, RetrainingEntry, SchedulesFile } from './file';

/** What the schedules file turns into: one Temporal Schedule per model and kind. */

export const SCHEDULE_KINDS = ['retraining', 'monitoring'] as const;
export type ScheduleKind = (typeof SCHEDULE_KINDS)[number];

/** Deterministic ids, so applying finds its schedules again and the UI shows which model a schedule is for. */
export const scheduleId = (model: string, kind: ScheduleKind) => `lifecycle:${model}:${kind}`;
/**
 * The workflow id prefix of a schedule's runs; Temporal appends the scheduled time
 * (`retrain-cars-scheduled-2026-11-27T02:30:00Z`), so each run has its own id.
 */
export const scheduledWorkflowIdPrefix = (model: string, kind: ScheduleKind) => (kind === 'retraining' ? `retrain-${model}-scheduled` : `drift-${model}`);

/**
 * The memo that marks a schedule as made by `applySchedules`: only such schedules are ever updated or
 * deleted by it; schedules made by hand (no such memo) are left alone.
 */
export const MANAGED_MEMO_KEY = 'lifecycleSchedule';
export interface ManagedMemo {
  managedBy: 'lifecycle schedules file';
  model: string;
  kind: ScheduleKind;
}
export function managedMemo(memo: Record<string, unknown> | undefined): ManagedMemo | null {
  const value = memo?.[MANAGED_MEMO_KEY] as Partial<ManagedMemo> | undefined;
  return value?.managedBy === 'lifecycle schedules file' && typeof value.model === 'string' && SCHEDULE_KINDS.includes(value.kind as ScheduleKind)
    ? (value as ManagedMemo)
    : null;
}

/** Both scheduled workflows take one input object (validated by their schema). */
type ScheduledWorkflow = (input: unknown) => Promise<unknown>;
export type DesiredOptions = Required<Pick<ScheduleOptions, 'spec' | 'policies'>> & { action: ScheduleOptionsStartWorkflowAction<ScheduledWorkflow> };
export interface DesiredSchedule {
  id: string;
  model: string;
  kind: ScheduleKind;
  /** What the file says; see applySchedules for how an operator's pause is kept. */
  paused: boolean;
  options: DesiredOptions;
}

/** Every schedule the file declares, in file order. */
export function desiredSchedules(file: SchedulesFile, taskQueue: string): DesiredSchedule[] {
  return Object.entries(file.models).flatMap(([model, entry]) => [
    ...(entry.retraining ? [retraining(model, entry.retraining, taskQueue)] : []),
    ...(entry.monitoring ? [monitoring(model, entry.monitoring, taskQueue)] : []),
  ]);
}

function retraining(model: string, entry: RetrainingEntry, taskQueue: string): DesiredSchedule {
  const { calendar, timezone, jitter, catchupWindow, overlap, paused, ...workflow } = entry;
  const id = scheduleId(model, 'retraining');
  // Parsed by the workflow's own schema: what the schedule starts is a valid input with its defaults shown.
  const input = RetrainInput.parse({ ...workflow, modelName: model, trigger: 'schedule', reason: workflow.reason || `schedule ${id}` });
  return {
    id,
    model,
    kind: 'retraining',
    paused,
    options: {
      spec: { calendars: [calendarSpec(calendar)], timezone, ...(jitter ? { jitter } : {}) },
      action: startAction(model, 'retraining', RETRAIN_WORKFLOW, input, taskQueue),
      policies: { overlap, catchupWindow, pauseOnFailure: false },
    },
  };
}

function monitoring(model: string, entry: MonitoringEntry, taskQueue: string): DesiredSchedule {
  const { every, offset, calendar, timezone, jitter, catchupWindow, overlap, paused, ...workflow } = entry;
  const input = DriftMonitorInput.parse({ ...workflow, modelName: model });
  const when = calendar ? { calendars: [calendarSpec(calendar)] } : { intervals: [{ every: every!, ...(offset ? { offset } : {}) }] };
  return {
    id: scheduleId(model, 'monitoring'),
    model,
    kind: 'monitoring',
    paused,
    options: {
      spec: { ...when, timezone, ...(jitter ? { jitter } : {}) },
      action: startAction(model, 'monitoring', DRIFT_MONITOR_WORKFLOW, input, taskQueue),
      policies: { overlap, catchupWindow, pauseOnFailure: false },
    },
  };
}

function startAction(model: string, kind: ScheduleKind, workflowType: string, input: unknown, taskQueue: string): ScheduleOptionsStartWorkflowAction<ScheduledWorkflow> {
  return {
    type: 'startWorkflow',
    workflowType,
    taskQueue,
    workflowId: scheduledWorkflowIdPrefix(model, kind),
    // A JSON round trip: the form the server stores and describes (no undefined members).
    args: [JSON.parse(JSON.stringify(input))],
    // The runs carry the model, so the Temporal UI can filter them like the lifecycle's own runs.
    typedSearchAttributes: [{ key: ModelName, value: model }],
  };
}

const DAY_INDEX: DayOfWeek[] = ['SUNDAY', 'MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY'];
const pad = (n: number) => String(n).padStart(2, '0');

/**
 * A file calendar as a Temporal calendar. Its comment says it in words (or gives the cron string): the
 * Temporal UI and `GET /schedules` show it.
 */
export function calendarSpec(calendar: CalendarEntry): CalendarSpec {
  if (calendar.cron !== undefined) {
    const f = CronExpressionParser.parse(calendar.cron).fields;
    const all = (field: { isWildcard: boolean }) => field.isWildcard;
    return {
      minute: all(f.minute) ? '*' : [...f.minute.values],
      hour: all(f.hour) ? '*' : [...f.hour.values],
      dayOfMonth: all(f.dayOfMonth) ? '*' : (f.dayOfMonth.values.filter((d) => typeof d === 'number') as number[]),
      month: all(f.month) ? '*' : f.month.values.map((m) => MONTHS[m - 1] as Month),
      // cron's 7 is Sunday too.
      dayOfWeek: all(f.dayOfWeek) ? '*' : [...new Set(f.dayOfWeek.values.map((d) => DAY_INDEX[Number(d) % 7]))],
      comment: `cron ${calendar.cron}`,
    };
  }
  const hours = calendar.hour!;
  const minutes = calendar.minute ?? [0];
  const days: DayName[] | undefined = calendar.dayOfWeek;
  const times = hours.flatMap((h) => minutes.map((m) => `${pad(h)}:${pad(m)}`)).join(', ');
  return {
    hour: hours,
    minute: minutes,
    dayOfWeek: days ?? '*',
    comment: `at ${times}${days ? ` on ${days.map((d) => d.slice(0, 3)).join(', ')}` : ' every day'}`,
  };
}

/** One line for people: "at 02:30 every day (Europe/Berlin), jitter 10m" or "every 1h offset 5m (UTC)". */
export function specSummary(spec: ScheduleSpecDescription): string {
  const calendars = (spec.calendars ?? []).map((c) => c.comment || 'calendar');
  const intervals = (spec.intervals ?? []).map((i) => `every ${formatMs(Number(i.every))}${Number(i.offset ?? 0) ? ` offset ${formatMs(Number(i.offset))}` : ''}`);
  const jitter = Number(spec.jitter ?? 0);
  return `${[...calendars, ...intervals].join('; ')} (${spec.timezone || 'UTC'})${jitter ? `, jitter ${formatMs(jitter)}` : ''}`;
}

function formatMs(ms: number): string {
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

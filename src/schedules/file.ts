import fs from 'node:fs/promises';
import { CronExpressionParser } from 'cron-parser';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { Duration, durationMs, formatZodError, ModelName } from '../schemas/lifecycle';
import { DriftMonitorInput, RetrainInput } from '../schemas/monitoring';

/**
 * The schedules file (SCHEDULES_FILE, YAML or JSON): per model, a retraining schedule and a monitoring
 * schedule. What each one starts is the `RetrainInput` / `DriftMonitorInput` of src/schemas/monitoring.ts
 * minus what the schedule sets itself (the model, the trigger), so the file, the API, the CLI and the
 * workflows share one schema. See examples/lifecycle.schedules.yaml.
 */

const DAY_NAMES = ['SUNDAY', 'MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY'] as const;
export type DayName = (typeof DAY_NAMES)[number];
/** MON or MONDAY, any case. */
const DayOfWeek = z
  .string()
  .transform((day) => day.toUpperCase())
  .refine((day) => DAY_NAMES.some((name) => name === day || name.slice(0, 3) === day), 'must be a day such as MON or MONDAY')
  .transform((day) => DAY_NAMES.find((name) => name === day || name.slice(0, 3) === day)!);

const oneOrMany = <T extends z.ZodType>(item: T) => z.union([item, z.array(item).min(1).max(60)]).transform((v) => (Array.isArray(v) ? v : [v]) as z.output<T>[]);

/**
 * A calendar: `hour` (and `minute`, `dayOfWeek`), or a 5-field `cron` string. A cron string is turned into
 * the same calendar form here, so what apply compares with the server is one form (the server would
 * otherwise compile cron strings its own way).
 */
export const CalendarEntry = z
  .strictObject({
    hour: oneOrMany(z.number().int().min(0, 'must be an hour, 0-23').max(23, 'must be an hour, 0-23')).optional(),
    minute: oneOrMany(z.number().int().min(0, 'must be a minute, 0-59').max(59, 'must be a minute, 0-59')).optional(),
    /** Default: every day. */
    dayOfWeek: oneOrMany(DayOfWeek).optional(),
    cron: z.string().max(200).optional(),
  })
  .superRefine((c, ctx) => {
    if (c.cron !== undefined) {
      if (c.hour !== undefined || c.minute !== undefined || c.dayOfWeek !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['cron'], message: 'give either cron or hour/minute/dayOfWeek, not both' });
      } else {
        const problem = cronProblem(c.cron);
        if (problem) ctx.addIssue({ code: 'custom', path: ['cron'], message: problem });
      }
    } else if (c.hour === undefined) {
      ctx.addIssue({ code: 'custom', path: ['hour'], message: 'is required (or give a cron string)' });
    }
  });
export type CalendarEntry = z.output<typeof CalendarEntry>;

function cronProblem(cron: string): string | null {
  if (cron.trim().split(/\s+/).length !== 5) return 'must be a 5-field cron expression (minute hour day-of-month month day-of-week), e.g. "30 2 * * 1-5"';
  // Names (JUL, WED) hold the letters; what is left of them must not.
  if (/[LW#?]/i.test(cron.replace(/[a-z]{3}/gi, ''))) return 'L, W, # and ? are not supported';
  try {
    const fields = CronExpressionParser.parse(cron).fields;
    if (!fields.dayOfMonth.isWildcard && !fields.dayOfWeek.isWildcard) return 'restrict day-of-month or day-of-week, not both (cron would run on either, a Temporal calendar on both)';
  } catch (err) {
    return `is not a cron expression: ${(err as Error).message}`;
  }
  return null;
}

/** IANA names only (Europe/Berlin, UTC); the Temporal server resolves them with its own time-zone database. */
const TimeZone = z
  .string()
  .max(64)
  .refine((zone) => /^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/.test(zone) && isTimeZone(zone), 'must be an IANA time zone such as "Europe/Berlin" or "UTC"');
function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** Temporal rejects catch-up windows under 10 s. */
const CatchupWindow = Duration.refine((d) => !(durationMs(d) < 10_000), 'must be at least 10s');
export const OVERLAP_POLICIES = ['SKIP', 'BUFFER_ONE', 'BUFFER_ALL', 'CANCEL_OTHER', 'TERMINATE_OTHER', 'ALLOW_ALL'] as const;

/** When and how a schedule fires: the same fields for both kinds. */
const Timing = {
  /** Default UTC. */
  timezone: TimeZone.default('UTC'),
  /** Each run starts up to this much later than its time, at random: spreads many models' runs. */
  jitter: Duration.optional(),
  /** Runs missed while the server was down are still started when it is back within this window. */
  catchupWindow: CatchupWindow,
  /** What a run due while the previous one still runs does: SKIP (default) drops it. */
  overlap: z.enum(OVERLAP_POLICIES).default('SKIP'),
  /** Created paused, or paused by the next apply; see README for how operators' pauses are kept. */
  paused: z.boolean().default(false),
};

export const RetrainingEntry = RetrainInput.omit({ modelName: true, trigger: true }).extend({
  calendar: CalendarEntry,
  ...Timing,
  catchupWindow: Timing.catchupWindow.default('1h'),
});
export type RetrainingEntry = z.output<typeof RetrainingEntry>;

export const MonitoringEntry = DriftMonitorInput.omit({ modelName: true })
  .extend({
    /** An interval such as "1h", with an optional offset into it ("5m": at :05 every hour, UTC), or a calendar. */
    every: Duration.refine((d) => !(durationMs(d) < 1000), 'must be at least 1s').optional(),
    offset: Duration.optional(),
    calendar: CalendarEntry.optional(),
    ...Timing,
    catchupWindow: Timing.catchupWindow.default('10m'),
  })
  .superRefine((m, ctx) => {
    if ((m.every === undefined) === (m.calendar === undefined)) {
      ctx.addIssue({ code: 'custom', path: m.every === undefined ? ['every'] : ['calendar'], message: 'give either every (an interval) or calendar, exactly one' });
    }
    if (m.offset !== undefined && m.every === undefined) ctx.addIssue({ code: 'custom', path: ['offset'], message: 'is only for an interval (every)' });
    if (m.offset !== undefined && m.every !== undefined && durationMs(m.offset) >= durationMs(m.every)) {
      ctx.addIssue({ code: 'custom', path: ['offset'], message: `must be shorter than every (${m.every})` });
    }
  });
export type MonitoringEntry = z.output<typeof MonitoringEntry>;

export const ModelSchedules = z
  .strictObject({ retraining: RetrainingEntry.optional(), monitoring: MonitoringEntry.optional() })
  .refine((m) => m.retraining || m.monitoring, 'must declare retraining or monitoring (remove the model to delete its schedules)');

export const SchedulesFile = z.strictObject({
  models: z.record(ModelName, ModelSchedules),
});
export type SchedulesFile = z.output<typeof SchedulesFile>;

export class SchedulesFileError extends Error {
  override name = 'SchedulesFileError';
}
/** There is no file at that path. */
export class SchedulesFileMissing extends SchedulesFileError {
  override name = 'SchedulesFileMissing';
}

/** Parses the text of a schedules file (JSON is YAML); errors name the file and the path in it. */
export function parseSchedulesFile(text: string, name: string): SchedulesFile {
  let raw: unknown;
  try {
    raw = parseYaml(text, { maxAliasCount: 1000 });
  } catch (err) {
    const where = (err as { linePos?: { line: number; col: number }[] }).linePos?.[0];
    throw new SchedulesFileError(`${name}${where ? `:${where.line}:${where.col}` : ''}: not YAML or JSON: ${(err as Error).message.split('\n')[0]}`);
  }
  const parsed = SchedulesFile.safeParse(raw);
  if (!parsed.success) throw new SchedulesFileError(`${name}: ${formatZodError(parsed.error)}`);
  return parsed.data;
}

export async function readSchedulesFile(file: string): Promise<SchedulesFile> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new (code === 'ENOENT' ? SchedulesFileMissing : SchedulesFileError)(`${file}: cannot be read (${code ?? (err as Error).message}); set SCHEDULES_FILE or pass --file`);
  }
  return parseSchedulesFile(text, file);
}

import type { Client } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { applySchedules, ScheduleConflictError } from '../schedules/apply';
import { readSchedulesFile, SchedulesFileError, SchedulesFileMissing } from '../schedules/file';
import { listSchedules, SchedulePausedError, setPaused, triggerSchedule, UnknownScheduleError } from '../schedules/operations';
import { SCHEDULE_KINDS } from '../schedules/plan';
import { callerOf } from './authenticate';
import { HttpError } from './errors';
import { ErrorBody } from './schemas';

export interface ScheduleRoutesDeps {
  temporal: Client;
  /** The task queue scheduled workflows start on. */
  taskQueue: string;
  /** The server's schedules file (SCHEDULES_FILE), applied by `POST /schedules/apply`; without it that route answers 409. */
  file?: string;
}

type Responses = (ok: Record<number, z.ZodType>, errors: number[]) => Record<string, unknown>;

const ScheduleId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9:._-]{0,199}$/, 'must be a schedule id such as lifecycle:used-car-price:retraining');
const ScheduleParams = z.object({ id: ScheduleId });
const NoteBody = z.strictObject({ note: z.string().max(500).default('') }).prefault({});
const ApplyBody = z.strictObject({ dryRun: z.boolean().default(false) }).prefault({});
const Kind = z.enum(SCHEDULE_KINDS);

const ScheduleRowSchema = z
  .object({
    id: z.string(),
    model: z.string(),
    kind: Kind,
    workflowType: z.string().nullable(),
    spec: z.string(),
    paused: z.boolean(),
    note: z.string(),
    nextRuns: z.array(z.string()),
    recentActions: z.array(z.object({ scheduledAt: z.string(), takenAt: z.string(), workflowId: z.string().nullable(), runId: z.string().nullable() })),
  })
  .meta({ id: 'Schedule' });
const ScheduleList = z.object({ schedules: z.array(ScheduleRowSchema) });
const Triggered = z.object({ triggered: z.literal(true), schedule: ScheduleRowSchema });
const Applied = z.object({
  file: z.string(),
  dryRun: z.boolean(),
  changes: z.array(
    z.object({
      id: z.string(),
      model: z.string(),
      kind: Kind,
      change: z.enum(['created', 'updated', 'unchanged', 'deleted']),
      differences: z.array(z.string()),
      remark: z.string().optional(),
    }),
  ),
});
/** Statuses described for these routes (the shared descriptions speak of runs). */
const described = (status: number, description: string): Record<string, unknown> => ({ [status]: { description, content: { 'application/json': { schema: ErrorBody } } } });

/**
 * The schedules made from the schedules file (src/schedules): list them, pause, resume or trigger one,
 * apply the server's file. They are ordinary Temporal Schedules: the Temporal UI and CLI see them too.
 */
export function installScheduleRoutes(app: FastifyInstance, deps: ScheduleRoutesDeps, responses: Responses): void {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const schedules = deps.temporal.schedule;
  const AUTH = [400, 401, 403, 429];

  api.get(
    '/schedules',
    { config: { access: 'read' }, schema: { summary: 'Schedules made from the schedules file: spec, paused, next runs, recent actions', response: responses({ 200: ScheduleList }, [...AUTH, 503]) } },
    async () => ({ schedules: await listSchedules(schedules) }),
  );

  for (const action of ['pause', 'resume'] as const) {
    api.post(
      `/schedules/:id/${action}`,
      {
        config: { access: 'start' },
        schema: {
          summary: `${action === 'pause' ? 'Pause' : 'Resume'} a schedule; the note (with your identity) shows in the Temporal UI`,
          params: ScheduleParams,
          body: NoteBody,
          response: responses({ 200: ScheduleRowSchema }, [...AUTH, 404, 414, 413, 415, 503]),
        },
      },
      async (request) => {
        const who = callerOf(request).identity;
        const note = `${action === 'pause' ? 'paused' : 'resumed'} by ${who}${request.body.note ? `: ${request.body.note}` : ''}`;
        return operate(() => setPaused(schedules, request.params.id, action === 'pause', note));
      },
    );
  }

  api.post(
    '/schedules/:id/trigger',
    {
      config: { access: 'start' },
      schema: {
        summary: "Start the schedule's workflow now (under its overlap policy; refused while paused)",
        params: ScheduleParams,
        body: NoteBody,
        response: { ...responses({ 202: Triggered }, [...AUTH, 404, 414, 413, 415, 503]), ...described(409, 'The schedule is paused: resume it first') },
      },
    },
    async (request, reply) => {
      const schedule = await operate(() => triggerSchedule(schedules, request.params.id));
      // Temporal keeps no note with a trigger: who and why go to the log.
      request.log.info({ schedule: schedule.id, by: callerOf(request).identity, note: request.body.note }, 'schedule triggered');
      return reply.code(202).send({ triggered: true as const, schedule });
    },
  );

  api.post(
    '/schedules/apply',
    {
      config: { access: 'start' },
      schema: {
        summary: "Apply the server's schedules file (SCHEDULES_FILE); answers what changed (dryRun: what would)",
        body: ApplyBody,
        response: {
          ...responses({ 200: Applied }, [...AUTH, 413, 415, 503]),
          ...described(404, 'The server has no schedules file (SCHEDULES_FILE names no file)'),
          ...described(409, "The server's schedules file is invalid (the message names the path in it), or a declared id is taken by a schedule made by hand"),
        },
      },
    },
    async (request) => {
      if (!deps.file) throw new HttpError(404, 'this server has no schedules file (SCHEDULES_FILE)');
      const file = await readSchedulesFile(deps.file).catch(rethrowAsHttp);
      const result = await applySchedules(schedules, file, { taskQueue: deps.taskQueue, dryRun: request.body.dryRun }).catch(rethrowAsHttp);
      request.log.info({ by: callerOf(request).identity, file: deps.file, dryRun: result.dryRun, changes: result.changes.filter((c) => c.change !== 'unchanged') }, 'schedules file applied');
      return { file: deps.file, ...result };
    },
  );
}

async function operate<T>(run: () => Promise<T>): Promise<T> {
  return run().catch((err) => {
    if (err instanceof UnknownScheduleError) throw new HttpError(404, err.message);
    if (err instanceof SchedulePausedError) throw new HttpError(409, err.message);
    throw err;
  });
}

function rethrowAsHttp(err: unknown): never {
  if (err instanceof SchedulesFileMissing) throw new HttpError(404, err.message);
  if (err instanceof SchedulesFileError || err instanceof ScheduleConflictError) throw new HttpError(409, err.message);
  throw err;
}

import { randomUUID } from 'node:crypto';
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client, Connection, ScheduleNotFoundError, type ScheduleHandle } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { msToTs } from '@temporalio/common/lib/time';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startApi } from '../../src/app';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/logger';
import { applySchedules, FILE_PAUSE_NOTE, ScheduleConflictError, type ApplyResult } from '../../src/schedules/apply';
import { applySchedulesOnStart } from '../../src/schedules/applyFile';
import { parseSchedulesFile } from '../../src/schedules/file';
import { RetrainInput } from '../../src/schemas/monitoring';
import { ensureSearchAttributes } from '../../src/workers/searchAttributes';
import { ModelName } from '../../src/workflows/searchAttributes';
import { callApi, TEST_TOKENS, until } from '../support/harness';

/**
 * Schedules on the real Temporal dev server, in a namespace of this file's own (applying deletes the
 * managed schedules a file no longer declares: other files' schedules must not be in reach). No worker
 * polls the task queue, so a started workflow stays as it was started, for the test to read.
 */
const address = inject('temporalAddress');
const namespace = `schedules-${randomUUID().slice(0, 8)}`;
const taskQueue = `schedules-unpolled-${randomUUID().slice(0, 8)}`;
const lifecycle = { datasetUri: 'data/cars-*.csv', target: 'price', features: ['year', 'fuel'], approvers: ['alice'] };

let connection: Connection;
let client: Client;
let dir: string;
let api: Awaited<ReturnType<typeof startApi>>;

const fileFor = (models: Record<string, unknown>) => parseSchedulesFile(JSON.stringify({ models }), 'test');
const apply = (models: Record<string, unknown>, dryRun = false) => applySchedules(client.schedule, fileFor(models), { taskQueue, dryRun });
const changesOf = (result: ApplyResult) => Object.fromEntries(result.changes.map((c) => [c.id, c.change]));
const nightly = (extra: Record<string, unknown> = {}) => ({ calendar: { hour: 2, minute: 30 }, timezone: 'Europe/Berlin', jitter: '5m', lifecycle, ...extra });
const hourly = (extra: Record<string, unknown> = {}) => ({ every: '1h', offset: '5m', ...extra });
const handle = (id: string): ScheduleHandle => client.schedule.getHandle(id);
const exists = (id: string) => handle(id).describe().then(() => true, (err) => (err instanceof ScheduleNotFoundError ? false : Promise.reject(err)));
/** A schedule made by hand, as someone would in the Temporal UI: no managed memo. */
const handMade = (scheduleId: string) =>
  client.schedule.create({
    scheduleId,
    spec: { cronExpressions: ['30 2 * * 1-5'], timezone: 'Europe/Berlin' },
    action: { type: 'startWorkflow', workflowType: 'somethingElse', taskQueue, args: [] },
    state: { paused: true },
  });
/** The input a started workflow got, from its first history event. */
async function inputOf(workflowId: string): Promise<unknown> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const payload = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
  return defaultPayloadConverter.fromPayload(payload!);
}

beforeAll(async () => {
  connection = await Connection.connect({ address });
  await connection.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('1 day') });
  // A new namespace is usable once the frontend's namespace cache has it.
  await until('the namespace to be usable', () => ensureSearchAttributes(connection, namespace).then(() => true, () => false), 60_000);
  client = new Client({ connection, namespace });
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lifecycle-schedules-'));
  const config = loadConfig({ DATA_DIR: dir, TEMPORAL_NAMESPACE: namespace, TEMPORAL_TASK_QUEUE: taskQueue, API_PORT: '0', SCHEDULES_FILE: path.join(dir, 'server.schedules.yaml'), LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'error' });
  api = await startApi({ config, log: createLogger(config.LOG_LEVEL), temporalAddress: address, databaseUrl: inject('databaseUrl'), secrets: { approvalSecret: `secret-${randomUUID()}-${randomUUID()}`, tokens: TEST_TOKENS } });
});

afterAll(async () => {
  await api?.stop();
  await connection?.close();
  if (dir) await fs.rm(dir, { recursive: true, force: true });
});

describe('applying a schedules file', () => {
  it('creates the declared schedules, marked as managed, with the spec, action and policies of the file', async () => {
    const result = await apply({ cars: { retraining: nightly(), monitoring: hourly() }, vans: { retraining: nightly({ calendar: { cron: '30 2 * * 1-5' }, jitter: undefined, overlap: 'BUFFER_ONE', catchupWindow: '30m' }) } });
    expect(changesOf(result)).toEqual({ 'lifecycle:cars:retraining': 'created', 'lifecycle:cars:monitoring': 'created', 'lifecycle:vans:retraining': 'created' });

    const cars = await handle('lifecycle:cars:retraining').describe();
    expect(cars.memo).toEqual({ lifecycleSchedule: { managedBy: 'lifecycle schedules file', model: 'cars', kind: 'retraining' } });
    expect(cars.typedSearchAttributes.get(ModelName)).toBe('cars');
    expect(cars.spec).toMatchObject({ timezone: 'Europe/Berlin', jitter: 300_000 });
    expect(cars.policies).toEqual({ overlap: 'SKIP', catchupWindow: 3_600_000, pauseOnFailure: false });
    expect(cars.state.paused).toBe(false);
    expect(cars.action).toMatchObject({ type: 'startWorkflow', workflowType: 'retrainModel', taskQueue, workflowId: 'retrain-cars-scheduled' });
    expect(cars.action.type === 'startWorkflow' && cars.action.args).toEqual([RetrainInput.parse({ modelName: 'cars', trigger: 'schedule', lifecycle, reason: 'schedule lifecycle:cars:retraining' })]);
    // Jitter of at most 5 minutes after 02:30 Berlin time, every day.
    for (const t of cars.info.nextActionTimes.slice(0, 3)) {
      const berlin = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Berlin', hour: '2-digit', minute: '2-digit', hour12: false }).format(t);
      expect(berlin >= '02:30' && berlin <= '02:35', `${t.toISOString()} is ${berlin} in Berlin`).toBe(true);
    }
    const monitoring = await handle('lifecycle:cars:monitoring').describe();
    expect(monitoring.spec.intervals).toEqual([{ every: 3_600_000, offset: 300_000 }]);
    expect(monitoring.action).toMatchObject({ workflowType: 'driftMonitor', workflowId: 'drift-cars' });
    expect(monitoring.policies).toMatchObject({ overlap: 'SKIP', catchupWindow: 600_000 });

    // Our cron calendar fires when the server's own cron compilation does.
    const vans = await handle('lifecycle:vans:retraining').describe();
    expect(vans.policies).toMatchObject({ overlap: 'BUFFER_ONE', catchupWindow: 1_800_000 });
    const reference = await handMade(`cron-reference-${randomUUID().slice(0, 6)}`);
    const referenceTimes = (await reference.describe()).info.nextActionTimes;
    expect(vans.info.nextActionTimes.map((t) => t.toISOString())).toEqual(referenceTimes.map((t) => t.toISOString()));
    expect(vans.info.nextActionTimes.length).toBeGreaterThan(3);
    await reference.delete();
  });

  it('applying the same file again changes nothing', async () => {
    const before = await Promise.all(['lifecycle:cars:retraining', 'lifecycle:cars:monitoring', 'lifecycle:vans:retraining'].map((id) => handle(id).describe()));
    const result = await apply({ cars: { retraining: nightly(), monitoring: hourly() }, vans: { retraining: nightly({ calendar: { cron: '30 2 * * 1-5' }, jitter: undefined, overlap: 'BUFFER_ONE', catchupWindow: '30m' }) } });
    expect(result.changes.map((c) => [c.id, c.change, c.differences])).toEqual([
      ['lifecycle:cars:retraining', 'unchanged', []],
      ['lifecycle:cars:monitoring', 'unchanged', []],
      ['lifecycle:vans:retraining', 'unchanged', []],
    ]);
    // Not even an update that happened to write the same values.
    const after = await Promise.all(before.map((b) => handle(b.scheduleId).describe()));
    expect(after.map((a) => a.info.lastUpdatedAt?.getTime())).toEqual(before.map((b) => b.info.lastUpdatedAt?.getTime()));
  });

  it('changing the hour updates that schedule, and only it', async () => {
    const dry = await apply({ cars: { retraining: nightly({ calendar: { hour: 3, minute: 30 } }), monitoring: hourly() }, vans: { retraining: nightly({ calendar: { cron: '30 2 * * 1-5' }, jitter: undefined, overlap: 'BUFFER_ONE', catchupWindow: '30m' }) } }, true);
    expect(dry.changes.find((c) => c.id === 'lifecycle:cars:retraining')).toMatchObject({ change: 'updated', differences: ['spec'] });
    expect((await handle('lifecycle:cars:retraining').describe()).spec.calendars?.[0]?.hour).toEqual([{ start: 2, end: 2, step: 1 }]);

    const result = await apply({ cars: { retraining: nightly({ calendar: { hour: 3, minute: 30 } }), monitoring: hourly() }, vans: { retraining: nightly({ calendar: { cron: '30 2 * * 1-5' }, jitter: undefined, overlap: 'BUFFER_ONE', catchupWindow: '30m' }) } });
    expect(changesOf(result)).toEqual({ 'lifecycle:cars:retraining': 'updated', 'lifecycle:cars:monitoring': 'unchanged', 'lifecycle:vans:retraining': 'unchanged' });
    expect(result.changes[0]!.differences).toEqual(['spec']);
    const cars = await handle('lifecycle:cars:retraining').describe();
    expect(cars.spec.calendars?.[0]?.hour).toEqual([{ start: 3, end: 3, step: 1 }]);
    expect(cars.memo).toMatchObject({ lifecycleSchedule: { model: 'cars' } });
    // A changed workflow input is an action difference.
    const changedInput = await apply({ cars: { retraining: nightly({ calendar: { hour: 3, minute: 30 }, cooldown: '1d' }), monitoring: hourly() }, vans: { retraining: nightly({ calendar: { cron: '30 2 * * 1-5' }, jitter: undefined, overlap: 'BUFFER_ONE', catchupWindow: '30m' }) } });
    expect(changedInput.changes[0]).toMatchObject({ change: 'updated', differences: ['action'] });
  });

  it('puts back what was edited by hand in the Temporal UI or CLI', async () => {
    await handle('lifecycle:cars:monitoring').update((previous) => ({ ...previous, spec: { intervals: [{ every: '2h' }] }, policies: { ...previous.policies, overlap: 'ALLOW_ALL' } }));
    const result = await apply({ cars: { retraining: nightly({ calendar: { hour: 3, minute: 30 }, cooldown: '1d' }), monitoring: hourly() }, vans: { retraining: nightly({ calendar: { cron: '30 2 * * 1-5' }, jitter: undefined, overlap: 'BUFFER_ONE', catchupWindow: '30m' }) } });
    expect(result.changes.map((c) => [c.id, c.change, c.differences])).toEqual([
      ['lifecycle:cars:retraining', 'unchanged', []],
      ['lifecycle:cars:monitoring', 'updated', ['spec', 'policies']],
      ['lifecycle:vans:retraining', 'unchanged', []],
    ]);
    const monitoring = await handle('lifecycle:cars:monitoring').describe();
    expect(monitoring.spec.intervals).toEqual([{ every: 3_600_000, offset: 300_000 }]);
    expect(monitoring.policies.overlap).toBe('SKIP');
  });

  it('removing a model deletes its schedules, never a schedule made by hand', async () => {
    const byHand = await handMade(`by-hand-${randomUUID().slice(0, 6)}`);
    // Listing is eventually consistent: wait until the lists show what is there, as a later apply would see it.
    await until('the schedules to be listed', async () => {
      const ids: string[] = [];
      for await (const s of client.schedule.list()) ids.push(s.scheduleId);
      return ids.includes(byHand.scheduleId) && ids.includes('lifecycle:vans:retraining');
    });
    const result = await apply({ cars: { retraining: nightly({ calendar: { hour: 3, minute: 30 }, cooldown: '1d' }) } });
    expect(changesOf(result)).toEqual({ 'lifecycle:cars:retraining': 'unchanged', 'lifecycle:cars:monitoring': 'deleted', 'lifecycle:vans:retraining': 'deleted' });
    expect(await exists('lifecycle:cars:monitoring')).toBe(false);
    expect(await exists('lifecycle:vans:retraining')).toBe(false);
    expect(await exists(byHand.scheduleId)).toBe(true);
    await byHand.delete();
  });

  it('refuses, changing nothing, when a declared id is taken by a schedule made by hand', async () => {
    const squatter = await handMade('lifecycle:trucks:retraining');
    const err = await apply({ trucks: { retraining: nightly(), monitoring: hourly() } }).catch((e) => e);
    expect(err).toBeInstanceOf(ScheduleConflictError);
    expect(err.message).toContain('lifecycle:trucks:retraining');
    expect(await exists('lifecycle:trucks:monitoring')).toBe(false);
    expect((await squatter.describe()).action).toMatchObject({ workflowType: 'somethingElse' });
    await squatter.delete();
  });

  it("pauses from the file, and keeps an operator's pause when the file says not paused", async () => {
    const models = (paused: boolean) => ({ cars: { retraining: nightly({ calendar: { hour: 3, minute: 30 }, cooldown: '1d', paused }) } });
    expect((await apply(models(true))).changes[0]).toMatchObject({ change: 'updated', differences: ['paused'] });
    expect((await handle('lifecycle:cars:retraining').describe()).state).toEqual({ paused: true, note: FILE_PAUSE_NOTE });
    expect((await apply(models(false))).changes[0]).toMatchObject({ change: 'updated', differences: ['resumed'] });
    expect((await handle('lifecycle:cars:retraining').describe()).state.paused).toBe(false);

    await handle('lifecycle:cars:retraining').pause('paused by ops: incident 42');
    const kept = (await apply(models(false))).changes[0];
    expect(kept).toMatchObject({ change: 'unchanged', remark: 'kept paused: paused by ops: incident 42' });
    expect((await handle('lifecycle:cars:retraining').describe()).state.paused).toBe(true);
    await handle('lifecycle:cars:retraining').unpause('done');
  });
});

describe('running schedules', () => {
  it('a triggered schedule starts its workflow with the input of the file, on the task queue, with the model as search attribute', async () => {
    await apply({ cars: { retraining: nightly({ calendar: { hour: 3, minute: 30 }, cooldown: '1d' }), monitoring: hourly({ current: { window: '6h' } }) } });
    const triggered = await callApi(api.url, 'POST', `/schedules/${encodeURIComponent('lifecycle:cars:monitoring')}/trigger`, 'eve-engineer', { note: 'checking after the deploy' });
    expect(triggered.status).toBe(202);
    const action = await until('the triggered run', async () => (await handle('lifecycle:cars:monitoring').describe()).info.recentActions[0]);
    expect(action.action.type).toBe('startWorkflow');
    const workflowId = action.action.workflow.workflowId;
    expect(workflowId.startsWith('drift-cars-')).toBe(true);
    const run = await client.workflow.getHandle(workflowId).describe();
    expect(run.type).toBe('driftMonitor');
    expect(run.taskQueue).toBe(taskQueue);
    expect(run.typedSearchAttributes.get(ModelName)).toBe('cars');
    expect(await inputOf(workflowId)).toMatchObject({ modelName: 'cars', current: { window: '6h' }, policy: { pValue: 0.05, driftShare: 0.5 } });
    // The same run is visible by model, as the Temporal UI filters.
    await until('the run to be listed by model', async () => {
      for await (const w of client.workflow.list({ query: `ModelName = "cars" AND WorkflowType = "driftMonitor"` })) if (w.workflowId === workflowId) return true;
      return false;
    });
  });

  it('a paused schedule starts nothing, on its schedule or when triggered through the product', async () => {
    const fast = (paused: boolean) => ({ every: '1s', paused, catchupWindow: '10s' });
    await apply({ cars: { retraining: nightly({ calendar: { hour: 3, minute: 30 }, cooldown: '1d' }) }, held: { monitoring: fast(true) }, control: { monitoring: fast(false) } });
    // The unpaused twin fires within seconds: the wait below is long enough to see a start.
    await until('the control schedule to start a run', async () => (await handle('lifecycle:control:monitoring').describe()).info.recentActions.length > 0, 15_000);
    await new Promise((r) => setTimeout(r, 3000));
    const held = await handle('lifecycle:held:monitoring').describe();
    expect(held.state.paused).toBe(true);
    expect(held.info.recentActions).toEqual([]);

    const refused = await callApi(api.url, 'POST', `/schedules/${encodeURIComponent('lifecycle:held:monitoring')}/trigger`, 'eve-engineer', {});
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatch(/is paused \(paused by the schedules file\): resume it first/);
    await new Promise((r) => setTimeout(r, 1500));
    expect((await handle('lifecycle:held:monitoring').describe()).info.recentActions).toEqual([]);
    let started = 0;
    for await (const w of client.workflow.list({ query: `ModelName = "held"` })) started += w ? 1 : 0;
    expect(started).toBe(0);

    // Why the product refuses: Temporal's own trigger starts a run even while the schedule is paused.
    await handle('lifecycle:held:monitoring').trigger();
    await until('Temporal to start the paused schedule on trigger', async () => (await handle('lifecycle:held:monitoring').describe()).info.recentActions.length > 0, 15_000);
    await apply({ cars: { retraining: nightly({ calendar: { hour: 3, minute: 30 }, cooldown: '1d' }) } });
  });
});

describe('the API and the CLI', () => {
  it('lists schedules for any role; only engineers and admins pause, resume, trigger and apply', async () => {
    const list = await callApi(api.url, 'GET', '/schedules', 'vic-viewer');
    expect(list.status).toBe(200);
    expect(list.body.schedules).toEqual([
      expect.objectContaining({ id: 'lifecycle:cars:retraining', model: 'cars', kind: 'retraining', workflowType: 'retrainModel', spec: 'at 03:30 every day (Europe/Berlin), jitter 5m', paused: false }),
    ]);
    expect(list.body.schedules[0].nextRuns).toHaveLength(5);

    const id = encodeURIComponent('lifecycle:cars:retraining');
    for (const [who, route] of [['vic-viewer', 'pause'], ['vic-viewer', 'trigger'], ['alice', 'pause'], ['alice', 'resume']] as const) {
      const denied = await callApi(api.url, 'POST', `/schedules/${id}/${route}`, who, { note: 'x' });
      expect(denied.status, `${who} ${route}`).toBe(403);
    }
    expect((await callApi(api.url, 'POST', '/schedules/apply', 'vic-viewer', {})).status).toBe(403);
    expect((await handle('lifecycle:cars:retraining').describe()).state.paused).toBe(false);

    const paused = await callApi(api.url, 'POST', `/schedules/${id}/pause`, 'eve-engineer', { note: 'bad data upstream' });
    expect(paused.status).toBe(200);
    expect(paused.body).toMatchObject({ id: 'lifecycle:cars:retraining', paused: true, note: 'paused by eve-engineer: bad data upstream' });
    expect((await handle('lifecycle:cars:retraining').describe()).state).toEqual({ paused: true, note: 'paused by eve-engineer: bad data upstream' });
    const resumed = await callApi(api.url, 'POST', `/schedules/${id}/resume`, 'ada-admin', {});
    expect(resumed.body).toMatchObject({ paused: false, note: 'resumed by ada-admin' });

    expect((await callApi(api.url, 'POST', `/schedules/${encodeURIComponent('lifecycle:nope:retraining')}/pause`, 'eve-engineer', {})).status).toBe(404);
    const byHand = await handMade(`by-hand-${randomUUID().slice(0, 6)}`);
    const notOurs = await callApi(api.url, 'POST', `/schedules/${byHand.scheduleId}/pause`, 'eve-engineer', {});
    expect(notOurs.status).toBe(404);
    expect(notOurs.body.error).toMatch(/not made from a schedules file/);
    await byHand.delete();
  });

  it("applies the server's file and answers the diff; a bad file is refused naming the path", async () => {
    const serverFile = path.join(dir, 'server.schedules.yaml');
    const missing = await callApi(api.url, 'POST', '/schedules/apply', 'eve-engineer', {});
    expect(missing.status).toBe(404);
    expect(missing.body.error).toMatch(/server\.schedules\.yaml: cannot be read \(ENOENT\)/);

    await fs.writeFile(serverFile, `models:\n  cars:\n    retraining:\n      calendar: { hour: 25 }\n      lifecycle: { datasetUri: x.csv, target: y, features: [a], approvers: [alice] }\n`);
    const bad = await callApi(api.url, 'POST', '/schedules/apply', 'eve-engineer', {});
    expect(bad.status).toBe(409);
    expect(bad.body.error).toMatch(/models\.cars\.retraining\.calendar\.hour: must be an hour, 0-23/);

    await fs.writeFile(serverFile, `models:\n  cars:\n    retraining:\n      calendar: { hour: 3, minute: 30 }\n      timezone: Europe/Berlin\n      jitter: 5m\n      cooldown: 1d\n      lifecycle: { datasetUri: data/cars-*.csv, target: price, features: [year, fuel], approvers: [alice] }\n    monitoring: { every: 30m }\n`);
    const dry = await callApi(api.url, 'POST', '/schedules/apply', 'eve-engineer', { dryRun: true });
    expect(dry.status).toBe(200);
    expect(dry.body).toMatchObject({ dryRun: true, changes: [{ id: 'lifecycle:cars:retraining', change: 'unchanged' }, { id: 'lifecycle:cars:monitoring', change: 'created' }] });
    expect(await exists('lifecycle:cars:monitoring')).toBe(false);
    const applied = await callApi(api.url, 'POST', '/schedules/apply', 'ada-admin', {});
    expect(applied.body.changes.map((c: { change: string }) => c.change)).toEqual(['unchanged', 'created']);
    expect(await exists('lifecycle:cars:monitoring')).toBe(true);
  });

  it('`lifecycle schedules apply --file` applies directly to Temporal as an operator tool', async () => {
    const file = path.join(dir, 'cli.schedules.yaml');
    await fs.writeFile(file, `models:\n  cars:\n    monitoring: { every: 2h }\n`);
    const run = (...args: string[]) =>
      promisify(execFile)('npx', ['tsx', 'src/cli/main.ts', 'schedules', 'apply', '--file', file, '--temporal', address, '--namespace', namespace, '--task-queue', taskQueue, ...args], { env: { ...process.env, LOG_LEVEL: 'error' } });
    const dry = JSON.parse((await run('--dry-run')).stdout);
    expect(dry).toMatchObject({ file, dryRun: true, changes: [{ id: 'lifecycle:cars:monitoring', change: 'updated', differences: ['spec'] }, { id: 'lifecycle:cars:retraining', change: 'deleted' }] });
    expect(await exists('lifecycle:cars:retraining')).toBe(true);
    const applied = JSON.parse((await run()).stdout);
    expect(applied.changes.map((c: { change: string }) => c.change)).toEqual(['updated', 'deleted']);
    expect((await handle('lifecycle:cars:monitoring').describe()).spec.intervals?.map((i) => i.every)).toEqual([7_200_000]);
    await fs.writeFile(file, `models:\n  cars:\n    monitoring: { every: 2h, timezone: Nowhere/Land }\n`);
    const refused = await run().then(() => null, (err: { code: number; stderr: string }) => err);
    expect(refused?.code).toBe(1);
    expect(refused?.stderr).toMatch(/cli\.schedules\.yaml: models\.cars\.monitoring\.timezone: must be an IANA time zone/);
  }, 60_000);

  it('is applied as a worker starts when SCHEDULES_APPLY_ON_START=true; a bad file fails the start', async () => {
    const file = path.join(dir, 'start.schedules.yaml');
    await fs.writeFile(file, `models:\n  bikes:\n    monitoring: { every: 1h }\n`);
    const config = (on: string) => loadConfig({ DATA_DIR: dir, TEMPORAL_NAMESPACE: namespace, TEMPORAL_TASK_QUEUE: taskQueue, SCHEDULES_FILE: file, SCHEDULES_APPLY_ON_START: on });
    const log = createLogger('silent');
    await applySchedulesOnStart(config('false'), address, log);
    expect(await exists('lifecycle:bikes:monitoring')).toBe(false);
    await applySchedulesOnStart(config('true'), address, log);
    expect(await exists('lifecycle:bikes:monitoring')).toBe(true);
    await fs.writeFile(file, `models:\n  bikes:\n    monitoring: { every: soon }\n`);
    await expect(applySchedulesOnStart(config('true'), address, log)).rejects.toThrow(/start\.schedules\.yaml: models\.bikes\.monitoring\.every: must be a duration/);
  });
});

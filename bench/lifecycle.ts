/**
 * Wall time of a full lifecycle on the demo dataset, and how much of it is orchestration overhead
 * (Temporal scheduling, persistence, workflow tasks) versus activity work, read from each run's history.
 * The human approval wait is excluded: the bench approves as soon as the run asks.
 *   npm run bench -- lifecycle [--rows 20000] [--runs 5]
 *
 * With `--predict-load 1`, a small run first deploys a model, then single-row predictions go through the
 * real HTTP API (same process as the worker, as under `npm start`) one after another: for
 * `--predict-seconds` with nothing else running, then for as long as the big runs last. The final
 * line gives p50/p99/max of both, so a stall of the API behind training shows up.
 *   npm run bench -- lifecycle --rows 1000000 --runs 1 --predict-load 1
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import proto from '@temporalio/proto';
import { performance } from 'node:perf_hooks';
import { startApi, startWorker } from '../src/app';
import { issueApprovalToken, requesterProof } from '../src/auth/approvalToken';
import { loadConfig } from '../src/config';
import { usedCarsCsv, USED_CAR_FEATURES, USED_CAR_TARGET } from '../src/demo/usedCars';
import { createLogger } from '../src/logger';
import { startServices } from '../src/services';
import { approveSignal, statusQuery, WORKFLOW_TYPE } from '../src/workflows/definitions';

const Options = z
  .object({
    rows: z.coerce.number().int().min(100).default(20_000),
    runs: z.coerce.number().int().min(1).max(100).default(5),
    'predict-load': z.enum(['0', '1', 'true', 'false']).default('0').transform((v) => v === '1' || v === 'true'),
    'predict-seconds': z.coerce.number().min(1).max(600).default(5),
  })
  .strict();
const EventType = proto.temporal.api.enums.v1.EventType;
type HistoryEvent = proto.temporal.api.history.v1.IHistoryEvent;

const ms = (e: HistoryEvent) => Number(e.eventTime!.seconds) * 1000 + Math.floor((e.eventTime!.nanos ?? 0) / 1e6);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const round = (x: number) => Math.round(x * 1000) / 1000;
const quantile = (xs: number[], q: number) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
};

const LOAD_TOKEN = { identity: 'bench-viewer', role: 'viewer' as const, token: `bench-viewer-${randomUUID()}` };
const CAR = { make: 'Toyota', model: 'Corolla', year: 2018, mileage_km: 64000, fuel: 'petrol', region: 'north' };

/** Single-row predictions one after another through the API until `stop()`; latencies in ms. */
function predictLoad(apiUrl: string, modelName: string) {
  const latencies: number[] = [];
  let running = true;
  const done = (async () => {
    while (running) {
      const start = performance.now();
      const response = await fetch(`${apiUrl}/models/${modelName}/predict`, {
        method: 'POST',
        headers: { authorization: `Bearer ${LOAD_TOKEN.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ rows: [CAR] }),
      });
      await response.arrayBuffer();
      if (!response.ok) throw new Error(`predict answered ${response.status}`);
      latencies.push(performance.now() - start);
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  return {
    async stop() {
      running = false;
      await done;
      return {
        n: latencies.length,
        p50_ms: round(quantile(latencies, 0.5)),
        p99_ms: round(quantile(latencies, 0.99)),
        max_ms: round(Math.max(...latencies)),
      };
    },
  };
}

/** Splits one run's history into activity execution time, approval wait and the rest (orchestration). */
function breakdown(events: HistoryEvent[]) {
  const total = ms(events[events.length - 1]) - ms(events[0]);
  const started = new Map<number, number>();
  const byActivity: Record<string, number> = {};
  const scheduled = new Map<number, string>();
  let activity = 0;
  let approvalWait = 0;
  for (const e of events) {
    if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) scheduled.set(Number(e.eventId), e.activityTaskScheduledEventAttributes!.activityType!.name!);
    if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED) started.set(Number(e.activityTaskStartedEventAttributes!.scheduledEventId), ms(e));
    if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED) {
      const id = Number(e.activityTaskCompletedEventAttributes!.scheduledEventId);
      const d = ms(e) - started.get(id)!;
      activity += d;
      const name = scheduled.get(id)!;
      byActivity[name] = (byActivity[name] ?? 0) + d;
    }
    if (e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED) {
      // From the end of evaluation (last completed activity before the signal) to the signal.
      const before = events.filter((x) => x.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED && Number(x.eventId) < Number(e.eventId));
      approvalWait = ms(e) - ms(before[before.length - 1]);
    }
  }
  return { total, activity, approvalWait, orchestration: total - approvalWait - activity, byActivity };
}

export default async function lifecycleBench(raw: Record<string, string>) {
  const options = Options.parse(raw);
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'lifecycle-bench-'));
  await fs.chmod(dataDir, 0o755);
  const config = loadConfig({ DATA_DIR: dataDir, TEMPORAL_PORT: '0', TEMPORAL_UI_PORT: '0', POSTGRES_PORT: '0', API_PORT: '0', LOG_LEVEL: 'warn' });
  const log = createLogger('warn');
  console.error(`starting embedded services in ${dataDir} ...`);
  const services = await startServices(config, log);
  const secrets = { approvalSecret: randomUUID() + randomUUID(), tokens: [LOAD_TOKEN] };
  const worker = await startWorker({ config, log, temporalAddress: services.temporalAddress, databaseUrl: services.databaseUrl, secrets });
  const connection = await Connection.connect({ address: services.temporalAddress });
  const client = new Client({ connection });
  const file = path.join(dataDir, 'datasets', 'used-cars.csv');
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, usedCarsCsv(options.rows));

  /** One lifecycle, approved as soon as it asks; its history broken down. */
  async function runLifecycle(workflowId: string, datasetUri: string) {
    const started = Date.now();
    const handle = await client.workflow.start(WORKFLOW_TYPE, {
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      workflowId,
      args: [{ modelName: 'bench-cars', datasetUri, target: USED_CAR_TARGET, features: USED_CAR_FEATURES, approvers: ['bench-approver'], requestedBy: 'bench', requesterProof: requesterProof(secrets.approvalSecret, workflowId, 'bench'), evaluation: { minImprovementOverChampion: 0 } }],
    });
    for (;;) {
      const s = await handle.query(statusQuery).catch(() => null);
      if (s?.stage === 'awaiting-approval') break;
      if (s?.stage === 'done') throw new Error(`run ${workflowId} ended early: ${s.outcome}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const scope = { workflowId, runId: handle.firstExecutionRunId, approver: 'bench-approver', decision: 'approve' as const };
    await handle.signal(approveSignal, { approver: 'bench-approver', comment: '', token: issueApprovalToken(secrets.approvalSecret, scope, 60_000).token });
    const result = await handle.result();
    const wall = Date.now() - started;
    return { result, wall, ...breakdown((await handle.fetchHistory()).events ?? []) };
  }

  let load: { idle: Record<string, number>; loaded?: Record<string, number> } | null = null;
  let loaded: ReturnType<typeof predictLoad> | null = null;
  let api: Awaited<ReturnType<typeof startApi>> | null = null;
  if (options['predict-load']) {
    api = await startApi({ config, log, temporalAddress: services.temporalAddress, databaseUrl: services.databaseUrl, secrets });
    const small = path.join(dataDir, 'datasets', 'used-cars-small.csv');
    await fs.writeFile(small, usedCarsCsv(2000, 3));
    await runLifecycle(`bench-deploy-${randomUUID().slice(0, 6)}`, small);
    console.error(`predict load: ${options['predict-seconds']} s with nothing else running ...`);
    const idle = predictLoad(api.url, 'bench-cars');
    await new Promise((r) => setTimeout(r, options['predict-seconds'] * 1000));
    load = { idle: await idle.stop() };
    console.error(`predict load idle: ${JSON.stringify(load.idle)}; now during the big runs`);
    loaded = predictLoad(api.url, 'bench-cars');
  }

  const runs: (ReturnType<typeof breakdown> & { wall: number })[] = [];
  for (let i = 0; i < options.runs; i++) {
    const { result, ...b } = await runLifecycle(`bench-${i}-${randomUUID().slice(0, 6)}`, file);
    runs.push(b);
    console.error(`run ${i + 1}/${options.runs}: ${result.outcome} v${result.version}, ${b.total - b.approvalWait} ms without the approval wait (activities ${b.activity} ms, orchestration ${b.orchestration} ms)`);
  }
  if (load && loaded) {
    load.loaded = await loaded.stop();
    console.error(`predict load during the runs: ${JSON.stringify(load.loaded)}`);
  }

  await api?.stop();
  await connection.close();
  await worker.stop();
  await services.stop();
  await fs.rm(dataDir, { recursive: true, force: true });

  const lifecycle = median(runs.map((r) => r.total - r.approvalWait));
  const activity = median(runs.map((r) => r.activity));
  const stages = Object.fromEntries(Object.keys(runs[0].byActivity).map((k) => [`${k}_s`, round(median(runs.map((r) => r.byActivity[k] ?? 0)) / 1000)]));
  return {
    rows: options.rows,
    runs: options.runs,
    lifecycle_s: round(lifecycle / 1000),
    activity_s: round(activity / 1000),
    orchestration_s: round((lifecycle - activity) / 1000),
    orchestration_share: round((lifecycle - activity) / lifecycle),
    ...stages,
    ...(load
      ? {
          predict_idle_n: load.idle.n,
          predict_idle_p50_ms: load.idle.p50_ms,
          predict_idle_p99_ms: load.idle.p99_ms,
          predict_idle_max_ms: load.idle.max_ms,
          predict_loaded_n: load.loaded!.n,
          predict_loaded_p50_ms: load.loaded!.p50_ms,
          predict_loaded_p99_ms: load.loaded!.p99_ms,
          predict_loaded_max_ms: load.loaded!.max_ms,
        }
      : {}),
  };
}

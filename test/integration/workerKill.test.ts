import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import proto from '@temporalio/proto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startWorker, type AppContext } from '../../src/app';
import { issueApprovalToken, requesterProof } from '../../src/auth/approvalToken';
import { sharedComputePool } from '../../src/compute/pool';
import { loadConfig } from '../../src/config';
import { usedCarsCsv, USED_CAR_FEATURES, USED_CAR_TARGET } from '../../src/demo/usedCars';
import { createLogger } from '../../src/logger';
import { createPool } from '../../src/registry/db';
import { Registry } from '../../src/registry/registry';
import { approveSignal, statusQuery, WORKFLOW_TYPE } from '../../src/workflows/definitions';

/**
 * A worker process killed with SIGKILL in the middle of training: the run must notice within the
 * heartbeat timeout (15 s), retrain on the surviving worker, and still register exactly one model.
 */
const HEARTBEAT_TIMEOUT_S = 15;
const ROWS = 400_000;
const PendingActivityState = proto.temporal.api.enums.v1.PendingActivityState;
const here = path.dirname(fileURLToPath(import.meta.url));

let dataDir: string;
let ctx: AppContext;
let client: Client;
let connection: Connection;
let dbPool: ReturnType<typeof createPool>;
let registry: Registry;
const children: ChildProcess[] = [];
const stops: (() => Promise<void>)[] = [];

beforeAll(async () => {
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'lifecycle-kill-'));
  const config = loadConfig({
    DATA_DIR: dataDir,
    TEMPORAL_TASK_QUEUE: `test-kill-${randomUUID().slice(0, 8)}`,
    API_PORT: '0',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'error',
  });
  ctx = {
    config,
    log: createLogger(config.LOG_LEVEL),
    temporalAddress: inject('temporalAddress'),
    databaseUrl: inject('databaseUrl'),
    secrets: { approvalSecret: `test-approval-secret-${randomUUID()}`, tokens: [] },
  };
  connection = await Connection.connect({ address: ctx.temporalAddress });
  client = new Client({ connection });
  dbPool = createPool(ctx.databaseUrl);
  registry = new Registry(dbPool);
});

afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const stop of stops) await stop();
  await connection?.close();
  await dbPool?.end();
  if (dataDir) await fs.rm(dataDir, { recursive: true, force: true });
});

/** A worker in its own process on this file's task queue and data directory; resolves once it polls. */
async function spawnWorker(): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(here, '../support/workerProcess.ts')], {
    cwd: path.join(here, '../..'),
    env: {
      ...process.env,
      DATA_DIR: dataDir,
      TEMPORAL_ADDRESS: ctx.temporalAddress,
      DATABASE_URL: ctx.databaseUrl,
      TEMPORAL_TASK_QUEUE: ctx.config.TEMPORAL_TASK_QUEUE,
      APPROVAL_SECRET: ctx.secrets.approvalSecret,
      WORKFLOW_BUNDLE: inject('workflowBundlePath'),
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'error',
      LOG_FORMAT: 'json',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker process not ready after 60 s: ${stderr}`)), 60_000);
    child.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('worker ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code, signal) => reject(new Error(`worker process exited (${code ?? signal}): ${stderr}`)));
  });
  return child;
}

/** The pending activity of a type, as the server sees it (state, attempt), or null. */
async function pending(handle: WorkflowHandle, activityType: string) {
  const { raw } = await handle.describe();
  return raw.pendingActivities?.find((a) => a.activityType?.name === activityType) ?? null;
}

async function until<T>(what: string, probe: () => Promise<T | null | undefined | false>, timeoutMs: number, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => null);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

async function onnxFiles(): Promise<string[]> {
  const dir = path.join(dataDir, 'artifacts', 'models');
  const entries = await fs.readdir(dir, { recursive: true }).catch(() => [] as string[]);
  return entries.filter((e) => e.endsWith('.onnx'));
}

describe('a worker killed with SIGKILL', () => {
  it('during training: the retry starts on the live worker within the heartbeat timeout, and the model is registered once', async () => {
    const modelName = `kill-${randomUUID().slice(0, 8)}`;
    const file = path.join(dataDir, 'datasets', `${modelName}.csv`);
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, usedCarsCsv(ROWS, 31));

    const doomed = await spawnWorker();
    const workflowId = `kill-train-${randomUUID().slice(0, 8)}`;
    const handle = await client.workflow.start(WORKFLOW_TYPE, {
      taskQueue: ctx.config.TEMPORAL_TASK_QUEUE,
      workflowId,
      args: [{
        modelName,
        datasetUri: file,
        target: USED_CAR_TARGET,
        features: USED_CAR_FEATURES,
        approvers: ['alice'],
        requestedBy: 'eve',
        requesterProof: requesterProof(ctx.secrets.approvalSecret, workflowId, 'eve'),
        approvalTimeout: '1s',
      }],
    });

    // Kill it as soon as the server says the worker has started training.
    const started = await until('trainModel to start', async () => {
      const a = await pending(handle, 'trainModel');
      return a?.state === PendingActivityState.PENDING_ACTIVITY_STATE_STARTED ? a : null;
    }, 90_000, 50);
    expect(started.attempt).toBe(1);
    doomed.kill('SIGKILL');
    const killedAt = Date.now();
    await new Promise((r) => doomed.once('exit', r));
    // Training had not finished: nothing was registered or stored as a model.
    expect(await registry.listVersions(modelName)).toEqual([]);
    expect(await onnxFiles()).toEqual([]);

    const survivor = await startWorker(ctx, { codePath: inject('workflowBundlePath') });
    stops.push(() => survivor.stop());

    const retried = await until('the second attempt of trainModel to start', async () => {
      const a = await pending(handle, 'trainModel');
      return a && (a.attempt ?? 0) >= 2 && a.state === PendingActivityState.PENDING_ACTIVITY_STATE_STARTED ? a : null;
    }, (HEARTBEAT_TIMEOUT_S + 30) * 1000);
    const retryAfterS = (Date.now() - killedAt) / 1000;
    expect(retried.lastFailure?.timeoutFailureInfo?.timeoutType).toBe(proto.temporal.api.enums.v1.TimeoutType.TIMEOUT_TYPE_HEARTBEAT);

    await until('the run to leave train', async () => {
      const s = await handle.query(statusQuery);
      return s.stage !== 'train' && s.stage !== 'ingest' && s.stage !== 'validate' ? s : null;
    }, 90_000, 100);
    const leftTrainAfterS = (Date.now() - killedAt) / 1000;
    console.log(`SIGKILL during training: retry started after ${retryAfterS.toFixed(1)} s, run left train after ${leftTrainAfterS.toFixed(1)} s`);
    expect(retryAfterS).toBeLessThan(HEARTBEAT_TIMEOUT_S + 8);
    // Plus the retraining itself (a few seconds on two shared cores).
    expect(leftTrainAfterS).toBeLessThan(HEARTBEAT_TIMEOUT_S + 30);

    // Nobody approves within 1 s: the run ends as expired, with exactly one model version trained once.
    const result = await handle.result();
    expect(result.outcome).toBe('expired');
    const versions = await registry.listVersions(modelName);
    expect(versions.map((v) => [v.version, v.status, v.workflowId])).toEqual([[1, 'expired', workflowId]]);
    expect(await onnxFiles()).toHaveLength(1);
    expect(sharedComputePool().completed.train).toBe(1);
  });

  it('during deploy: the retry on the live worker moves the alias exactly once, and the run catches up in seconds', async () => {
    const DEPLOY_HEARTBEAT_TIMEOUT_S = 10;
    for (const stop of stops.splice(0)) await stop(); // only the doomed worker polls until the kill
    const modelName = `kill-deploy-${randomUUID().slice(0, 8)}`;
    const file = path.join(dataDir, 'datasets', `${modelName}.csv`);
    await fs.writeFile(file, usedCarsCsv(2_000, 32));
    const doomed = await spawnWorker();
    const workflowId = `kill-deploy-${randomUUID().slice(0, 8)}`;
    const handle = await client.workflow.start(WORKFLOW_TYPE, {
      taskQueue: ctx.config.TEMPORAL_TASK_QUEUE,
      workflowId,
      args: [{
        modelName, datasetUri: file, target: USED_CAR_TARGET, features: USED_CAR_FEATURES, approvers: ['alice'], requestedBy: 'eve',
        requesterProof: requesterProof(ctx.secrets.approvalSecret, workflowId, 'eve'),
      }],
    });
    await until('the run to wait for approval', async () => (await handle.query(statusQuery)).stage === 'awaiting-approval', 90_000);

    // Hold the model's registry row, as a busy registry would: the deploy gets stuck inside its alias move.
    const locker = new pg.Client({ connectionString: ctx.databaseUrl });
    await locker.connect();
    await locker.query('BEGIN');
    await locker.query('SELECT 1 FROM models WHERE name = $1 FOR UPDATE', [modelName]);
    const { runId } = await handle.describe();
    const token = issueApprovalToken(ctx.secrets.approvalSecret, { workflowId, runId, approver: 'alice', decision: 'approve' }, 60_000).token;
    await handle.signal(approveSignal, { approver: 'alice', comment: 'ship it', token });
    await until('deployModel to start', async () => (await pending(handle, 'deployModel'))?.state === PendingActivityState.PENDING_ACTIVITY_STATE_STARTED, 60_000, 50);

    doomed.kill('SIGKILL');
    const killedAt = Date.now();
    await new Promise((r) => doomed.once('exit', r));
    await locker.query('ROLLBACK');
    await locker.end();
    expect(await registry.aliasHistory(modelName)).toEqual([]); // the killed attempt moved nothing

    const survivor = await startWorker(ctx, { codePath: inject('workflowBundlePath') });
    stops.push(() => survivor.stop());
    const result = await handle.result();
    const deployedAfterS = (Date.now() - killedAt) / 1000;
    console.log(`SIGKILL during deploy: the run deployed ${deployedAfterS.toFixed(1)} s after the kill`);
    expect(result.outcome).toBe('deployed');
    expect(deployedAfterS).toBeLessThan(DEPLOY_HEARTBEAT_TIMEOUT_S + 15);
    expect((await registry.aliasHistory(modelName)).map((m) => [m.fromVersion, m.toVersion])).toEqual([[null, 1]]);
    expect((await registry.listVersions(modelName)).map((v) => v.status)).toEqual(['deployed']);
    expect((await handle.query(statusQuery)).stage).toBe('done');
  });
  it('during a canary: its timers and checks go on on the next worker, and it ends with its alias removed once', async () => {
    for (const stop of stops.splice(0)) await stop();
    const modelName = `kill-canary-${randomUUID().slice(0, 8)}`;
    const doomed = await spawnWorker();
    const run = async (seed: number, extra: Record<string, unknown>) => {
      const file = path.join(dataDir, 'datasets', `${modelName}-${seed}.csv`);
      await fs.mkdir(path.dirname(file), { recursive: true });
      await fs.writeFile(file, usedCarsCsv(600, seed));
      const workflowId = `${modelName}-${seed}`;
      const handle = await client.workflow.start(WORKFLOW_TYPE, {
        taskQueue: ctx.config.TEMPORAL_TASK_QUEUE,
        workflowId,
        args: [{ modelName, datasetUri: file, target: USED_CAR_TARGET, features: USED_CAR_FEATURES, approvers: ['alice'], requestedBy: 'eve', requesterProof: requesterProof(ctx.secrets.approvalSecret, workflowId, 'eve'), ...extra }],
      });
      await until('the run to wait for approval', async () => (await handle.query(statusQuery)).stage === 'awaiting-approval', 90_000);
      const { runId } = await handle.describe();
      await handle.signal(approveSignal, { approver: 'alice', comment: '', token: issueApprovalToken(ctx.secrets.approvalSecret, { workflowId, runId, approver: 'alice', decision: 'approve' }, 60_000).token });
      return handle;
    };
    expect((await (await run(1, { trainer: { name: 'ridge', params: { alpha: 1e6 } }, evaluation: { mustBeatBaseline: false } })).result()).outcome).toBe('deployed');
    // Nobody sends traffic: the canary cannot reach minRequests and must be rolled back at the end of its period.
    const handle = await run(2, { release: { strategy: 'canary', duration: '6s', checkEvery: '2s', minRequests: 5 } });
    // Killed while the canary's timer runs (its alias moved).
    await until('the canary to start', async () => (await registry.resolveAlias(modelName, 'canary'))?.version === 2, 60_000, 50);
    doomed.kill('SIGKILL');
    await new Promise((r) => doomed.once('exit', r));

    const survivor = await startWorker(ctx, { codePath: inject('workflowBundlePath') });
    stops.push(() => survivor.stop());
    const result = await handle.result();
    expect(result.outcome).toBe('rolled-back');
    const status = await handle.query(statusQuery);
    expect(status.release.canary!.reasons[0]).toMatch(/^too little traffic: the canary v2 has served 0 of the 5 requests/);
    expect((await registry.aliasHistory(modelName)).map((m) => [m.alias, m.fromVersion, m.toVersion])).toEqual([['canary', 2, null], ['canary', null, 2], ['production', null, 1]]);
    expect((await registry.listVersions(modelName)).map((v) => [v.version, v.status])).toEqual([[2, 'rolled-back'], [1, 'deployed']]);
  }, 180_000);
});

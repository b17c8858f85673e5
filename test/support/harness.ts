import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure, Client, Connection, WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { expect, inject } from 'vitest';
import type { ApiToken } from '../../src/auth/apiTokens';
import { startApi, startWorker, type AppContext } from '../../src/app';
import { issueApprovalToken, requesterProof } from '../../src/auth/approvalToken';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/logger';
import { createPool, migrate } from '../../src/registry/db';
import { Registry } from '../../src/registry/registry';
import { USED_CAR_FEATURES, USED_CAR_TARGET } from '../../src/demo/usedCars';
import type { LifecycleInputRaw } from '../../src/schemas/lifecycle';
import { createTestBucket, putTestObject, testS3Env } from './s3';
import { statusQuery, WORKFLOW_TYPE, type LifecycleResult, type LifecycleStatus } from '../../src/workflows/definitions';

export const TEST_TOKENS: ApiToken[] = [
  { identity: 'eve-engineer', role: 'engineer', token: 'engineer-token-0123456789' },
  { identity: 'alice', role: 'approver', token: 'alice-token-0123456789abc' },
  { identity: 'bob', role: 'approver', token: 'bob-token-0123456789abcde' },
  { identity: 'vic-viewer', role: 'viewer', token: 'viewer-token-0123456789a' },
  { identity: 'ada-admin', role: 'admin', token: 'admin-token-0123456789ab' },
];
export const tokenOf = (identity: string) => TEST_TOKENS.find((t) => t.identity === identity)!.token;

export interface HarnessOptions {
  /** Also start the HTTP API. */
  api?: boolean;
  /**
   * Keep artifacts in S3 (the run's MinIO): a fresh bucket of this file's, ARTIFACT_STORE=s3://<bucket>/artifacts.
   * writeS3Dataset puts datasets in the same bucket, outside the store's prefix. Default: the local store.
   */
  s3?: boolean;
  /** More environment for loadConfig (e.g. INGEST_S3_BUCKETS). */
  env?: Record<string, string>;
  /**
   * A registry database of this file's own (created and migrated on the shared server, dropped at stop):
   * for tests that explore whatever the API can reach, where other files' models, whose artifacts are in
   * other stores, would show up. Default: the shared database.
   */
  ownDatabase?: boolean;
}

/** A fresh, migrated database on the shared PostgreSQL server, and how to drop it. */
async function ownDatabase(name: string): Promise<{ url: string; drop(): Promise<void> }> {
  const shared = inject('databaseUrl');
  const database = `lifecycle_${name.replace(/[^a-z0-9_]/gi, '_')}_${randomUUID().slice(0, 8)}`.toLowerCase();
  const admin = createPool(shared);
  await admin.query(`CREATE DATABASE "${database}"`);
  const url = new URL(shared);
  url.pathname = `/${database}`;
  await migrate(url.href, createLogger('silent'));
  return {
    url: url.href,
    async drop() {
      await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
      await admin.end();
    },
  };
}

/**
 * One test file's slice of the shared servers: its own task queue, data directory and worker
 * (and API when asked), with the real activities, PostgreSQL registry and artifact store.
 */
export async function startHarness(name: string, options: HarnessOptions = {}) {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), `lifecycle-${name}-`));
  const database = options.ownDatabase ? await ownDatabase(name) : null;
  const bucket = options.s3 ? await createTestBucket(name) : null;
  const config = loadConfig({
    DATA_DIR: dataDir,
    TEMPORAL_TASK_QUEUE: `test-${name}-${randomUUID().slice(0, 8)}`,
    API_PORT: '0',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'error',
    ...(bucket ? { ...testS3Env(), ARTIFACT_STORE: `s3://${bucket}/artifacts` } : {}),
    ...options.env,
  });
  const ctx: AppContext = {
    config,
    log: createLogger(config.LOG_LEVEL),
    temporalAddress: inject('temporalAddress'),
    databaseUrl: database?.url ?? inject('databaseUrl'),
    secrets: { approvalSecret: `test-approval-secret-${randomUUID()}`, tokens: TEST_TOKENS },
  };
  const worker = await startWorker(ctx, { codePath: inject('workflowBundlePath') });
  let workerStopped: Promise<void> | undefined;
  const stopWorker = () => (workerStopped ??= worker.stop());
  const api = options.api ? await startApi(ctx, { temporalCliPath: inject('temporalCliPath') ?? undefined }) : null;
  const connection = await Connection.connect({ address: ctx.temporalAddress });
  const client = new Client({ connection });
  const pool = createPool(ctx.databaseUrl);
  const registry = new Registry(pool);

  return {
    /** Stops this file's worker (once): runs stay in Temporal with nobody to work on them. */
    stopWorker,
    config,
    client,
    registry,
    api,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    /** The S3 bucket of this harness (options.s3), else null. */
    bucket,
    /** Puts a dataset into this harness's bucket under `incoming/` (options.s3 only); returns its s3:// URI. */
    async writeS3Dataset(key: string, body: string | Uint8Array): Promise<string> {
      if (!bucket) throw new Error('writeS3Dataset needs startHarness(name, { s3: true })');
      return putTestObject(bucket, `incoming/${key}`, body);
    },
    async writeDataset(file: string, csv: string): Promise<string> {
      // The default drop zone: DATA_DIR/datasets is an ingest root, the rest of DATA_DIR is not.
      const full = path.join(dataDir, 'datasets', file);
      await fs.mkdir(path.dirname(full), { recursive: true });
      await fs.writeFile(full, csv);
      return full;
    },
    /** What `POST /lifecycles/requester-proof` answers for `requestedBy` and this workflow id. */
    requesterProof: (workflowId: string, requestedBy: string) => requesterProof(ctx.secrets.approvalSecret, workflowId, requestedBy),
    /** Starts a run as the API would: with a proof of `requestedBy`, unless `verified: false` (a plain Temporal CLI start). */
    start(input: LifecycleInputRaw, workflowId = `${name}-${randomUUID().slice(0, 8)}`, options: { verified?: boolean } = {}): Promise<WorkflowHandle> {
      const proof = options.verified === false || !input.requestedBy ? {} : { requesterProof: requesterProof(ctx.secrets.approvalSecret, workflowId, input.requestedBy) };
      return client.workflow.start(WORKFLOW_TYPE, { taskQueue: config.TEMPORAL_TASK_QUEUE, workflowId, args: [{ ...input, ...proof }] });
    },
    /** A decision signal payload as the API would issue it for `approver`, for the run's current execution. */
    async decision(handle: WorkflowHandle, approver: string, options: { decision?: 'approve' | 'reject'; comment?: string; ttlMs?: number } = {}) {
      const { runId } = await handle.describe();
      const scope = { workflowId: handle.workflowId, runId, approver, decision: options.decision ?? 'approve' };
      return { approver, comment: options.comment ?? '', token: issueApprovalToken(ctx.secrets.approvalSecret, scope, options.ttlMs ?? 3_600_000).token };
    },
    async stop() {
      await api?.stop();
      await stopWorker();
      await connection.close();
      await pool.end();
      await database?.drop();
      await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}
export type Harness = Awaited<ReturnType<typeof startHarness>>;

/** A lifecycle input on the demo's used cars: requested by eve-engineer, approved by alice or bob. */
export const usedCarsInput = (modelName: string, datasetUri: string, extra: Record<string, unknown> = {}): LifecycleInputRaw => ({
  modelName,
  datasetUri,
  target: USED_CAR_TARGET,
  features: USED_CAR_FEATURES,
  approvers: ['alice', 'bob'],
  requestedBy: 'eve-engineer',
  ...extra,
});

/** A real HTTP call to an API on loopback, as a test identity (see TEST_TOKENS) or anonymously (null). */
export async function callApi(baseUrl: string, method: string, route: string, as: string | null, body?: unknown) {
  const response = await fetch(`${baseUrl}${route}`, {
    method,
    headers: { ...(as ? { authorization: `Bearer ${tokenOf(as)}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, body: (response.headers.get('content-type')?.includes('json') ? JSON.parse(text) : null) as any };
}

/** Polls `probe` until it gives something truthy, and returns it; fails naming `what` after `timeoutMs`. */
export async function until<T>(what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Polls the status query until `done` holds (the workflow may not have run its first task yet). */
export async function waitForStatus(handle: WorkflowHandle, done: (s: LifecycleStatus) => boolean, timeoutMs = 60_000): Promise<LifecycleStatus> {
  const deadline = Date.now() + timeoutMs;
  let last: LifecycleStatus | undefined;
  while (Date.now() < deadline) {
    last = await handle.query(statusQuery).catch(() => undefined);
    if (last && done(last)) return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting; last status: ${JSON.stringify(last)}`);
}

export const resultOf = (handle: WorkflowHandle) => handle.result() as Promise<LifecycleResult>;

/** The typed failure a run ended with (the ApplicationFailure under the activity failure). */
export async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await promise.then(() => null, (e) => e);
  expect(err).toBeInstanceOf(WorkflowFailedError);
  let cause = (err as WorkflowFailedError).cause;
  while (cause && !(cause instanceof ApplicationFailure)) cause = (cause as Error).cause as typeof cause;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  return cause as ApplicationFailure;
}

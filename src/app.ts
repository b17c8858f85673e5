import path from 'node:path';
import { Client, Connection, defaultGrpcRetryOptions, makeGrpcRetryInterceptor } from '@temporalio/client';
import { msToNumber } from '@temporalio/common';
import { NativeConnection, type WorkerOptions } from '@temporalio/worker';
import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import { Authenticator, parseTokenSpec, type ApiToken } from './auth/apiTokens';
import type { DependencyCheck } from './api/health';
import { buildApi, temporalCheck } from './api/server';
import { processScratch, removeDeadScratch } from './activities/scratch';
import { createArtifactStore } from './artifacts';
import { loadOrCreateLocalSecrets } from './auth/localSecrets';
import type { Config } from './config';
import type { Logger } from './logger';
import { createPool } from './registry/db';
import type { SupervisorStatus } from './infra/supervisor';
import { MonitoringRegistry } from './registry/monitoring';
import { Registry } from './registry/registry';
import type { ReportLinkOptions } from './reports/links';
import { AliasCache } from './serving/aliasCache';
import { Predictor } from './serving/predictor';
import { FeedbackStore } from './serving/feedback';
import { metrics } from './metrics';
import { PredictionLog } from './serving/predictionLog';
import { PredictionLogRetention } from './serving/retention';
import { durationMs } from './schemas/lifecycle';
import { ensureSearchAttributes } from './workers/searchAttributes';
import { installTemporalRuntime } from './workers/temporalLogging';
import { createLifecycleWorker, type LifecycleWorker } from './workers/worker';

export interface Secrets {
  approvalSecret: string;
  tokens: ApiToken[];
  /** Where embedded-default secrets were kept, when they were generated. */
  file?: string;
}

/** Secrets from the environment, or generated once into DATA_DIR for the embedded default. */
export async function loadSecrets(config: Config): Promise<Secrets> {
  if (config.API_TOKENS && config.APPROVAL_SECRET) {
    return { approvalSecret: config.APPROVAL_SECRET, tokens: parseTokenSpec(config.API_TOKENS) };
  }
  const local = await loadOrCreateLocalSecrets(config.dataDir);
  return {
    approvalSecret: config.APPROVAL_SECRET ?? local.approvalSecret,
    tokens: config.API_TOKENS ? parseTokenSpec(config.API_TOKENS) : local.tokens,
    file: local.file,
  };
}

export interface AppContext {
  config: Config;
  log: Logger;
  temporalAddress: string;
  databaseUrl: string;
  secrets: Secrets;
}

/** How the worker is doing, for readiness. */
export interface WorkerStatus {
  state: 'running' | 'restarting' | 'stopped';
  restarts: number;
  lastError: string | null;
}

/**
 * Starts a worker on the configured task queue; resolves once it polls. `stop()` drains and closes.
 * The worker's NativeConnection reconnects by itself when the Temporal server restarts, and the pool
 * reconnects to PostgreSQL; should the worker still stop on its own (a fatal poll error after a long
 * outage), it is created again with backoff until `stop()`.
 */
export async function startWorker(
  ctx: AppContext,
  workflowBundle?: WorkerOptions['workflowBundle'],
): Promise<{ readonly worker: LifecycleWorker; status(): WorkerStatus; stop(): Promise<void> }> {
  installTemporalRuntime(ctx.log);
  const admin = await Connection.connect({ address: ctx.temporalAddress });
  const added = await ensureSearchAttributes(admin, ctx.config.TEMPORAL_NAMESPACE).finally(() => admin.close());
  if (added.length) ctx.log.info({ added }, 'registered search attributes');

  // Work files of workers killed -9 on this host are removed before this one starts its own.
  const scratchRoot = path.join(ctx.config.dataDir, 'scratch');
  const removed = await removeDeadScratch(scratchRoot);
  if (removed.length) ctx.log.info({ removed }, 'removed the scratch space of workers that are gone');
  const scratch = processScratch(scratchRoot);
  const pool = createPool(ctx.databaseUrl, ctx.log);
  const deps = {
    store: createArtifactStore(ctx.config, ctx.log),
    registry: new Registry(pool),
    monitoring: new MonitoringRegistry(pool),
    ingest: ctx.config.ingest,
    approvalSecret: ctx.secrets.approvalSecret,
    engine: { memoryLimit: ctx.config.DATA_MEMORY_LIMIT, spillDir: path.join(scratch, 'duckdb') },
    scratchDir: scratch,
    notifications: ctx.config.notifications,
    reportLinks: reportLinkOptions(ctx),
  };
  const create = async () => {
    const connection = await NativeConnection.connect({ address: ctx.temporalAddress });
    try {
      const worker = await createLifecycleWorker({
        connection,
        namespace: ctx.config.TEMPORAL_NAMESPACE,
        taskQueue: ctx.config.TEMPORAL_TASK_QUEUE,
        deps,
        workflowBundle,
        limits: {
          maxCachedWorkflows: ctx.config.WORKER_MAX_CACHED_WORKFLOWS,
          maxConcurrentActivityTaskExecutions: ctx.config.WORKER_MAX_CONCURRENT_ACTIVITIES,
          shutdownGraceTime: ctx.config.WORKER_SHUTDOWN_GRACE,
        },
      });
      return { connection, worker, running: worker.run() };
    } catch (err) {
      await connection.close().catch(() => {});
      throw err;
    }
  };

  let current = await create();
  let status: WorkerStatus = { state: 'running', restarts: 0, lastError: null };
  let stopping = false;
  let wake: (() => void) | null = null;
  const sleep = (ms: number) => new Promise<void>((resolve) => {
    const timer = setTimeout(() => resolve(), ms);
    wake = () => (clearTimeout(timer), resolve());
  });
  const log = ctx.log.child({ component: 'worker' });
  const watching = (async () => {
    for (;;) {
      const ended = await current.running.then(() => 'stopped', (err: Error) => err.message);
      if (stopping) return;
      status = { ...status, state: 'restarting', lastError: ended };
      await current.connection.close().catch(() => {});
      for (let delay = 1000; ; delay = Math.min(delay * 2, 15_000)) {
        log.error({ why: ended, delayMs: delay }, `worker stopped unexpectedly; starting it again in ${delay} ms`);
        await sleep(delay);
        if (stopping) return;
        try {
          current = await create();
        } catch (err) {
          status = { ...status, lastError: (err as Error).message };
          continue;
        }
        if (stopping) return void (current.worker.getState() === 'RUNNING' && current.worker.shutdown());
        status = { state: 'running', restarts: status.restarts + 1, lastError: status.lastError };
        log.warn({ restarts: status.restarts }, 'worker running again');
        break;
      }
    }
  })();

  return {
    get worker() {
      return current.worker;
    },
    status: () => (status.state === 'running' && current.worker.getState() !== 'RUNNING' ? { ...status, state: 'stopped' } : status),
    async stop() {
      stopping = true;
      (wake as (() => void) | null)?.();
      if (current.worker.getState() === 'RUNNING') current.worker.shutdown();
      await current.running.catch(() => {});
      await watching;
      await current.connection.close().catch(() => {});
      await pool.end();
      status = { ...status, state: 'stopped' };
    },
  };
}

/** gRPC calls from the API give up after this long unless they set their own deadline (e.g. a decision). */
export const TEMPORAL_CALL_DEADLINE_MS = 3_000;

/**
 * A gRPC client interceptor that gives every call without a deadline one `ms` from now, so that with
 * Temporal down a request answers 503 within seconds instead of waiting out ~20 s of retries.
 */
function defaultDeadline(ms: number) {
  return ((options: { deadline?: unknown }, nextCall: (o: unknown) => unknown) =>
    nextCall(options.deadline === undefined || options.deadline === Infinity ? { ...options, deadline: Date.now() + ms } : options)) as never;
}

export interface ApiOptions {
  /** The CLI named in the commands the API hands out (default: `temporal` on PATH). */
  temporalCliPath?: string;
  /** The worker of this process, when there is one, for readiness. */
  worker?: { status(): WorkerStatus };
  /** Supervisors of embedded servers, for readiness notes ("restarting", "restarted 2 times"). */
  supervised?: () => Partial<Record<string, SupervisorStatus>>;
  /** How often the alias cache reads every served model's aliases again besides notifications (default 30 s). */
  aliasResyncMs?: number;
}

/**
 * Starts the HTTP API; resolves once it listens. `temporalCliPath` is the CLI named in the commands the
 * API hands out (default: `temporal` on PATH).
 */
export async function startApi(
  ctx: AppContext,
  options: ApiOptions = {},
): Promise<{ app: FastifyInstance; url: string; predictor: Predictor; aliases: AliasCache; stop(): Promise<void> }> {
  const pool: pg.Pool = createPool(ctx.databaseUrl, ctx.log);
  const registry = new Registry(pool);
  const connection = await Connection.connect({
    address: ctx.temporalAddress,
    // A few quick retries within the default deadline, not the SDK's default of 10 attempts over ~20 s.
    interceptors: [defaultDeadline(TEMPORAL_CALL_DEADLINE_MS), makeGrpcRetryInterceptor(defaultGrpcRetryOptions({ maxAttempts: 4 }))],
  });
  const temporal = new Client({ connection, namespace: ctx.config.TEMPORAL_NAMESPACE });
  const store = createArtifactStore(ctx.config, ctx.log);
  // Aliases in memory, kept fresh by LISTEN/NOTIFY and a periodic resync: no query per prediction.
  const aliases = new AliasCache(registry, ctx.databaseUrl, ctx.log, { resyncMs: options.aliasResyncMs });
  // Predictions are written in batches on a pool of their own: logging never takes the API's connections.
  const logPool = createPool(ctx.databaseUrl, ctx.log);
  const predictionLog = new PredictionLog(logPool, ctx.log, {
    capacity: ctx.config.PREDICTION_LOG_BUFFER,
    flushIntervalMs: msToNumber(ctx.config.PREDICTION_LOG_FLUSH_INTERVAL),
    batchRows: ctx.config.PREDICTION_LOG_BATCH,
  });
  // A shadow's answers (or failures) go to the log as role `shadow`, beside the served answer's request id.
  const predictor = new Predictor(registry, store, ctx.log, {
    aliases,
    shadowSink: ({ predictions, error, ...answer }) => {
      predictionLog.record(predictions ? { ...answer, role: 'shadow', predictions } : { ...answer, role: 'shadow', error: error ?? 'Error: no answer' });
      if (predictions) metrics.shadowPredictions.inc({ model: answer.model, version: String(answer.version) }, predictions.length);
    },
    onShadowSkipped: (model) => metrics.shadowSkipped.inc({ model, reason: 'busy' }),
  });
  // Old log and feedback rows are deleted in small batches, one process at a time (src/serving/retention.ts).
  const retention = ctx.config.PREDICTION_LOG_RETENTION === 'off' ? null : new PredictionLogRetention(logPool, ctx.log, { retentionMs: durationMs(ctx.config.PREDICTION_LOG_RETENTION) });
  retention?.start();
  const note = (name: string) => {
    const s = options.supervised?.()[name];
    return s?.restarts ? `restarted ${s.restarts} time${s.restarts === 1 ? '' : 's'} by its supervisor` : undefined;
  };
  const supervisedCheck = (name: string, probe: () => Promise<unknown>): DependencyCheck => async () => {
    const s = options.supervised?.()[name];
    if (s && s.state !== 'up') throw new Error(`${s.state} by its supervisor (${s.lastError ?? 'stopped'})`);
    await probe();
    return note(name);
  };
  const readiness: Record<string, DependencyCheck> = {
    temporal: supervisedCheck('temporal', temporalCheck(temporal)),
    postgres: supervisedCheck('postgres', () => pool.query('select 1')),
    // Reading an absent named object exercises the store's reachability and credentials (S3) or its directory.
    'artifact store': async () => void (await store.getNamed('readiness-probe')),
  };
  if (options.worker) {
    const worker = options.worker;
    readiness.worker = async () => {
      const s = worker.status();
      if (s.state !== 'running') throw new Error(`${s.state}${s.lastError ? ` (${s.lastError})` : ''}`);
      return s.restarts ? `restarted ${s.restarts} times` : undefined;
    };
  }
  const app = await buildApi({
    temporal,
    taskQueue: ctx.config.TEMPORAL_TASK_QUEUE,
    registry,
    predictor,
    authenticator: new Authenticator(ctx.secrets.tokens),
    approvalSecret: ctx.secrets.approvalSecret,
    store,
    log: ctx.log,
    approvalTokenTtlMs: msToNumber(ctx.config.APPROVAL_TOKEN_TTL),
    reportLinks: reportLinkOptions(ctx),
    authFailuresPerMinute: ctx.config.AUTH_FAILURES_PER_MINUTE,
    temporalCli: { path: options.temporalCliPath ?? 'temporal', address: ctx.temporalAddress, namespace: ctx.config.TEMPORAL_NAMESPACE },
    readiness,
    sources: ctx.config.ingest,
    serving: { predictionLog, feedback: new FeedbackStore(pool) },
    monitoring: new MonitoringRegistry(pool),
    schedulesFile: ctx.config.SCHEDULES_FILE,
  });
  const url = await app.listen({ host: ctx.config.API_HOST, port: ctx.config.API_PORT });
  return {
    app,
    url,
    predictor,
    aliases,
    async stop() {
      await app.close();
      await retention?.close();
      await predictionLog.close(); // no request adds rows any more: write what is left
      await logPool.end();
      await aliases.close();
      await predictor.close();
      await connection.close();
      await pool.end();
    },
  };
}

/** Report links as approvers open them: through the API's public address, signed with the product's secret. */
function reportLinkOptions(ctx: AppContext): ReportLinkOptions {
  return { secret: ctx.secrets.approvalSecret, baseUrl: ctx.config.PUBLIC_API_URL ?? `http://${ctx.config.API_HOST}:${ctx.config.API_PORT}`, ttlMs: msToNumber(ctx.config.REPORT_LINK_TTL) };
}

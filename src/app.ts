import { Client, Connection } from '@temporalio/client';
import { msToNumber } from '@temporalio/common';
import { NativeConnection, type Worker, type WorkerOptions } from '@temporalio/worker';
import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import { Authenticator, parseTokenSpec, type ApiToken } from './auth/apiTokens';
import { buildApi } from './api/server';
import { LocalArtifactStore } from './artifacts/store';
import { loadOrCreateLocalSecrets } from './auth/localSecrets';
import type { Config } from './config';
import type { Logger } from './logger';
import { createPool } from './registry/db';
import { Registry } from './registry/registry';
import { Predictor } from './serving/predictor';
import { ensureSearchAttributes } from './workers/searchAttributes';
import { installTemporalRuntime } from './workers/temporalLogging';
import { createLifecycleWorker } from './workers/worker';

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

/** Starts a worker on the configured task queue; resolves once it polls. `stop()` drains and closes. */
export async function startWorker(ctx: AppContext, workflowBundle?: WorkerOptions['workflowBundle']): Promise<{ worker: Worker; stop(): Promise<void> }> {
  installTemporalRuntime(ctx.log);
  const admin = await Connection.connect({ address: ctx.temporalAddress });
  const added = await ensureSearchAttributes(admin, ctx.config.TEMPORAL_NAMESPACE).finally(() => admin.close());
  if (added.length) ctx.log.info({ added }, 'registered search attributes');

  const pool = createPool(ctx.databaseUrl);
  const connection = await NativeConnection.connect({ address: ctx.temporalAddress });
  const worker = await createLifecycleWorker({
    connection,
    namespace: ctx.config.TEMPORAL_NAMESPACE,
    taskQueue: ctx.config.TEMPORAL_TASK_QUEUE,
    deps: {
      store: new LocalArtifactStore(ctx.config.artifactDir),
      registry: new Registry(pool),
      ingest: ctx.config.ingest,
      approvalSecret: ctx.secrets.approvalSecret,
    },
    workflowBundle,
  });
  const running = worker.run();
  return {
    worker,
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
      await connection.close();
      await pool.end();
    },
  };
}

/**
 * Starts the HTTP API; resolves once it listens. `temporalCliPath` is the CLI named in the commands the
 * API hands out (default: `temporal` on PATH).
 */
export async function startApi(ctx: AppContext, options: { temporalCliPath?: string } = {}): Promise<{ app: FastifyInstance; url: string; stop(): Promise<void> }> {
  const pool: pg.Pool = createPool(ctx.databaseUrl);
  const registry = new Registry(pool);
  const connection = await Connection.connect({ address: ctx.temporalAddress });
  const predictor = new Predictor(registry, new LocalArtifactStore(ctx.config.artifactDir), ctx.log);
  const app = await buildApi({
    temporal: new Client({ connection, namespace: ctx.config.TEMPORAL_NAMESPACE }),
    taskQueue: ctx.config.TEMPORAL_TASK_QUEUE,
    registry,
    predictor,
    authenticator: new Authenticator(ctx.secrets.tokens),
    approvalSecret: ctx.secrets.approvalSecret,
    log: ctx.log,
    approvalTokenTtlMs: msToNumber(ctx.config.APPROVAL_TOKEN_TTL),
    authFailuresPerMinute: ctx.config.AUTH_FAILURES_PER_MINUTE,
    temporalCli: { path: options.temporalCliPath ?? 'temporal', address: ctx.temporalAddress, namespace: ctx.config.TEMPORAL_NAMESPACE },
  });
  const url = await app.listen({ host: ctx.config.API_HOST, port: ctx.config.API_PORT });
  return {
    app,
    url,
    async stop() {
      await app.close();
      await predictor.close();
      await connection.close();
      await pool.end();
    },
  };
}

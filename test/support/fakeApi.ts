import os from 'node:os';
import path from 'node:path';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { buildApi, type ApiDeps } from '../../src/api/server';
import { LocalArtifactStore } from '../../src/artifacts/store';
import { Authenticator } from '../../src/auth/apiTokens';
import { createLogger } from '../../src/logger';
import type { Predictor } from '../../src/serving/predictor';
import type { Registry } from '../../src/registry/registry';
import type { ReviewedDecision } from '../../src/workflows/definitions';
import { TEST_TOKENS } from './harness';

export interface FakeRun {
  runId: string;
  status: 'RUNNING' | 'COMPLETED' | 'FAILED';
  outcome?: string;
  /** The workflow's verdict on a `decide` update. */
  decide?: (update: { decision: string; approver: string; comment: string; token: string }) => ReviewedDecision;
}

/**
 * The API in process with a stand-in Temporal client, registry and predictor: for what the API decides
 * on its own (authentication, bounds, error shapes, the document), without servers.
 */
export async function fakeApi(options: { runs?: Record<string, FakeRun>; predict?: Predictor['predict']; deps?: Partial<ApiDeps> } = {}) {
  const runs = options.runs ?? {};
  const calls = { started: [] as unknown[], updates: [] as unknown[], predicted: 0 };
  const handle = (workflowId: string) => ({
    workflowId,
    async describe() {
      const run = runs[workflowId];
      if (!run) throw new WorkflowNotFoundError('not found', workflowId, undefined);
      return { runId: run.runId, status: { name: run.status }, memo: run.outcome ? { outcome: run.outcome } : {} };
    },
    async query() {
      return null;
    },
    async executeUpdate(_def: unknown, { args }: { args: [any] }) {
      calls.updates.push(args[0]);
      return runs[workflowId].decide!(args[0]);
    },
  });
  const temporal = {
    workflow: {
      getHandle: handle,
      async start(_type: string, opts: { workflowId: string; args: unknown[] }) {
        calls.started.push(opts.args[0]);
        return { firstExecutionRunId: 'run-1' };
      },
    },
    withDeadline: (_d: unknown, fn: () => Promise<unknown>) => fn(),
  } as unknown as Client;
  const registry = { approvalEvents: async () => [], listModels: async () => [], listVersions: async () => [], aliasHistory: async () => [] } as unknown as Registry;
  const predictor = {
    async predict(model: string, rows: Record<string, unknown>[]) {
      calls.predicted++;
      return options.predict ? options.predict(model, rows) : { model, version: 1, predictions: rows.map(() => 1) };
    },
  } as unknown as Predictor;
  const app = await buildApi({
    temporal,
    taskQueue: 'tq',
    registry,
    predictor,
    authenticator: new Authenticator(TEST_TOKENS),
    approvalSecret: 'unit-test-approval-secret-0123456789',
    store: new LocalArtifactStore(path.join(os.tmpdir(), 'lifecycle-fake-api-store')),
    log: createLogger('silent'),
    ...options.deps,
  });
  await app.ready();
  return { app, calls };
}

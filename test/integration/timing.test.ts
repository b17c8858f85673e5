import { randomUUID } from 'node:crypto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { LifecycleActivities } from '../../src/activities';
import type { DecisionReview } from '../../src/activities/approval';
import type { LifecycleInputRaw } from '../../src/schemas/lifecycle';
import { approveSignal, controlTaskQueue, statusQuery, WORKFLOW_TYPE, type LifecycleResult, type ReviewedDecision } from '../../src/workflows/definitions';
import { addLifecycleSearchAttributes, ensureTimeSkippingServer } from '../support/timeSkippingServer';

/**
 * The workflow's timing (approval timeouts of days) on Temporal's time-skipping test server, with stub
 * activities: what takes a week in production takes seconds here. The activities themselves are
 * tested against the real servers elsewhere.
 */
let env: TestWorkflowEnvironment;
const reviews: DecisionReview[] = [];
const outcomes: string[] = [];

const ref = { uri: 'file:///stub', sha256: 'a'.repeat(64), bytes: 1 };
const metrics = { rmse: 1, mae: 1, r2: 0.9, n: 20 };
const stubs: Partial<LifecycleActivities> = {
  async checkRequester() {
    return { requesterVerified: true, approvalsRequired: 1 };
  },
  async ingestDataset() {
    return { ...ref, sourceUri: '/stub.csv', format: 'csv', parts: 1, rows: 100, table: ref, profile: ref, delimiter: null };
  },
  async validateDataset() {
    return {
      rowCount: 100, usableRows: 100, schema: { columns: [] }, features: ['x'], warnings: [],
      report: ref, reportHtml: ref, reportUrl: 'http://127.0.0.1:3000/reports/view?stub',
    };
  },
  async trainModel() {
    return { versionId: 1, version: 1, artifact: ref, signature: { inputs: [], output: 'price' } as never, trainingMetrics: metrics };
  },
  async evaluateCandidate() {
    return {
      holdoutRows: 20,
      primaryMetric: 'rmse',
      candidate: { metrics, latencyMs: 1, version: 1, bytes: 1 },
      baseline: { metrics: { ...metrics, rmse: 2 }, latencyMs: 1 },
      champion: null,
      gate: { blessed: true, reasons: ['stub'] },
    } as never;
  },
  async recordOutcome(input: { status: string }) {
    outcomes.push(input.status);
  },
  async deployModel() {
    return { alias: 'production', version: 1, previousVersion: null };
  },
  /** Accepts whatever arrives while the run waits; the workflow decides what "waits" means. */
  async reviewDecision(input: DecisionReview): Promise<ReviewedDecision> {
    reviews.push(input);
    const open = input.notWaiting === null;
    return {
      decision: input.decision, approver: (input.payload as { approver: string }).approver, comment: '', accepted: open, final: open,
      state: open ? 'accepted' : 'not-waiting', reason: input.notWaiting ?? 'ok', receivedAt: input.receivedAt,
    };
  },
};

beforeAll(async () => {
  const path = await ensureTimeSkippingServer();
  env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path } } });
  await addLifecycleSearchAttributes(env.connection, env.namespace ?? 'default');
}, 10 * 60_000);
afterAll(async () => env?.teardown());

/** The main worker (workflows, long activities) and the control one (reviews, outcome, deploy), as in production. */
async function withWorker<T>(work: (taskQueue: string) => Promise<T>): Promise<T> {
  const taskQueue = `timing-${randomUUID().slice(0, 8)}`;
  const main = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: { codePath: inject('workflowBundlePath') }, activities: stubs });
  const control = await Worker.create({ connection: env.nativeConnection, taskQueue: controlTaskQueue(taskQueue), activities: stubs });
  return control.runUntil(main.runUntil(work(taskQueue)));
}

const input = (approvalTimeout: string): LifecycleInputRaw => ({
  modelName: 'timing', datasetUri: '/stub.csv', target: 'price', features: ['x'], approvers: ['alice'], requestedBy: 'eve', approvalTimeout,
});

describe('approval timing on the time-skipping server', () => {
  it('a run nobody decides on expires after its approval timeout of a week, in seconds of real time', async () => {
    const realStart = Date.now();
    const { result, skippedMs } = await withWorker(async (taskQueue) => {
      const startedAt = await env.currentTimeMs();
      const r = (await env.client.workflow.execute(WORKFLOW_TYPE, { taskQueue, workflowId: `expire-${randomUUID()}`, args: [input('7d')] })) as LifecycleResult;
      return { result: r, skippedMs: (await env.currentTimeMs()) - startedAt };
    });
    expect(result.outcome).toBe('expired');
    expect(skippedMs).toBeGreaterThanOrEqual(7 * 86_400_000);
    expect(outcomes).toContain('expired');
    expect(Date.now() - realStart).toBeLessThan(30_000);
  });

  it('a decision six days in is taken: the window is a week', async () => {
    const result = await withWorker(async (taskQueue) => {
      const handle = await env.client.workflow.start(WORKFLOW_TYPE, { taskQueue, workflowId: `decide-${randomUUID()}`, args: [input('7d')] });
      while ((await handle.query(statusQuery)).stage !== 'awaiting-approval') await env.sleep('1s');
      await env.sleep('6d');
      await handle.signal(approveSignal, { approver: 'alice', comment: '', token: 'stub' });
      return (await handle.result()) as LifecycleResult;
    });
    expect(result.outcome).toBe('deployed');
    expect(reviews.at(-1)).toMatchObject({ notWaiting: null, decision: 'approve' });
  });

  it('says in the status when the approval window closes: a week after the wait began', async () => {
    await withWorker(async (taskQueue) => {
      const handle = await env.client.workflow.start(WORKFLOW_TYPE, { taskQueue, workflowId: `deadline-${randomUUID()}`, args: [input('7d')] });
      let s = await handle.query(statusQuery);
      while (s.stage !== 'awaiting-approval') s = await handle.query(statusQuery);
      expect(Date.parse(s.approvalDeadline!) - Date.parse(s.since)).toBe(7 * 86_400_000);
      await handle.terminate('test done');
    });
  });
});

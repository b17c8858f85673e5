import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usedCarsCsv, USED_CAR_FEATURES, USED_CAR_TARGET } from '../../src/demo/usedCars';
import { applySchedules } from '../../src/schedules/apply';
import { parseSchedulesFile } from '../../src/schedules/file';
import { retrainingWorkflowId } from '../../src/schemas/monitoring';
import { approveSignal } from '../../src/workflows/definitions';
import { resultOf, startHarness, waitForStatus, until, type Harness } from '../support/harness';

/**
 * A schedules file applied to the real Temporal server, its retraining schedule triggered: the
 * `retrainModel` workflow it starts runs on the product's worker and starts a normal lifecycle with
 * `trigger: schedule` on the data its glob finds at that moment, through the usual approval.
 */
let h: Harness;
beforeAll(async () => {
  h = await startHarness('scheduled-retraining');
});
afterAll(async () => h?.stop());

describe('a triggered retraining schedule', () => {
  it('starts a lifecycle on the latest data, requested by the scheduler, and again with new data after the cool-down', async () => {
    const model = `sched-${randomUUID().slice(0, 8)}`;
    const first = await h.writeDataset(`${model}/2026-11-24.csv`, usedCarsCsv(500, 1));
    const glob = path.join(path.dirname(first), '*.csv');
    const file = (models: Record<string, unknown>) => parseSchedulesFile(JSON.stringify({ models }), 'test');
    const entry = { retraining: { calendar: { hour: 3 }, cooldown: '1s', lifecycle: { datasetUri: glob, target: USED_CAR_TARGET, features: USED_CAR_FEATURES, approvers: ['alice'] } } };
    const applied = await applySchedules(h.client.schedule, file({ [model]: entry }), { taskQueue: h.taskQueue });
    expect(applied.changes.map((c) => [c.id, c.change])).toEqual([[`lifecycle:${model}:retraining`, 'created']]);
    const schedule = h.client.schedule.getHandle(`lifecycle:${model}:retraining`);

    await schedule.trigger();
    const lifecycle = h.client.workflow.getHandle(retrainingWorkflowId(model));
    const waiting = await until('the scheduled lifecycle to wait for approval', async () =>
      waitForStatus(lifecycle, (s) => s.stage === 'awaiting-approval', 5_000).catch(() => null), 90_000);
    expect(waiting).toMatchObject({ trigger: 'schedule', requestedBy: 'scheduler', requesterVerified: true, approvalsRequired: 1 });
    expect(waiting.dataset).toMatchObject({ parts: 1, rowCount: 500 });
    await lifecycle.signal(approveSignal, await h.decision(lifecycle, 'alice'));
    expect((await resultOf(lifecycle)).outcome).toBe('deployed');

    // New data arrives; the next run reads both files.
    await h.writeDataset(`${model}/2026-11-25.csv`, usedCarsCsv(300, 2));
    await new Promise((r) => setTimeout(r, 1_100)); // the cool-down
    const { runId: firstRun } = await lifecycle.describe();
    await schedule.trigger();
    const second = await until('a second scheduled lifecycle', async () => {
      const d = await h.client.workflow.getHandle(retrainingWorkflowId(model)).describe();
      return d.runId !== firstRun ? d : null;
    }, 60_000);
    const again = await waitForStatus(h.client.workflow.getHandle(retrainingWorkflowId(model), second.runId), (s) => s.stage === 'awaiting-approval' || s.outcome !== null, 90_000);
    expect(again.dataset).toMatchObject({ parts: 2, rowCount: 800 });
    expect(again).toMatchObject({ trigger: 'schedule', requestedBy: 'scheduler' });
    if (again.outcome === null) await h.client.workflow.getHandle(retrainingWorkflowId(model)).terminate('test over');

    const removed = await applySchedules(h.client.schedule, file({}), { taskQueue: h.taskQueue });
    expect(removed.changes).toEqual([expect.objectContaining({ id: `lifecycle:${model}:retraining`, change: 'deleted' })]);
  }, 240_000);
});

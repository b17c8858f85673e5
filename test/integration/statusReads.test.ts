import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usedCarsCsv, USED_CAR_FEATURES, USED_CAR_TARGET } from '../../src/demo/usedCars';
import { startHarness, tokenOf, waitForStatus, type Harness } from '../support/harness';

/**
 * A status read must not depend on a worker: under load the status query waited up to 30–55 s for a
 * busy worker and the API then answered 200 with `status: null`, a failure disguised as an answer.
 */
let h: Harness;
beforeAll(async () => {
  h = await startHarness('status', { api: true });
});
afterAll(async () => h?.stop());

const get = async (id: string) => {
  const response = await fetch(`${h.api!.url}/lifecycles/${id}`, { headers: { authorization: `Bearer ${tokenOf('vic-viewer')}` } });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
};

describe('GET /lifecycles/{id}', () => {
  it('answers stage, model and evaluation from the server even with no worker, and says why the details are missing', async () => {
    const model = `status-${randomUUID().slice(0, 6)}`;
    const handle = await h.start({
      modelName: model,
      datasetUri: await h.writeDataset(`${model}.csv`, usedCarsCsv(300, 9)),
      target: USED_CAR_TARGET,
      features: USED_CAR_FEATURES,
      approvers: ['alice'],
      requestedBy: 'eve-engineer',
    });
    await waitForStatus(handle, (s) => s.stage === 'awaiting-approval');
    const live = await get(handle.workflowId);
    expect(live.status).toBe(200);
    expect(live.body).toMatchObject({ modelName: model, stage: 'awaiting-approval', outcome: null, statusUnavailable: null });
    expect(live.body.evaluation).toMatchObject({ blessed: true, metric: 'rmse' });
    expect(live.body.status.stage).toBe('awaiting-approval');

    await h.stopWorker(); // every worker gone (or too busy to answer a query)
    const started = Date.now();
    const read = await get(handle.workflowId);
    const ms = Date.now() - started;
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ temporalStatus: 'RUNNING', modelName: model, stage: 'awaiting-approval', status: null });
    expect(read.body.statusUnavailable).toMatch(/the status query did not answer/);
    expect(ms).toBeLessThan(5_000);

    // The summary view never waits for a worker at all.
    const t0 = Date.now();
    const summary = await get(`${handle.workflowId}?view=summary`);
    expect(summary.status).toBe(200);
    expect(summary.body).toMatchObject({ stage: 'awaiting-approval', status: null, statusUnavailable: 'not asked for (view=summary)' });
    expect(Date.now() - t0).toBeLessThan(1_000);
    expect((await get(`${handle.workflowId}?view=everything`)).status).toBe(400);
    await handle.terminate('test done');
  });
});

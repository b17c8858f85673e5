import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { usedCarsCsv, USED_CAR_FEATURES, USED_CAR_TARGET } from '../../src/demo/usedCars';
import type { DriftMonitorInputRaw, RetrainInputRaw } from '../../src/schemas/monitoring';
import { DRIFT_MONITOR_WORKFLOW, RETRAIN_WORKFLOW, retrainingWorkflowId } from '../../src/schemas/monitoring';
import type { DriftMonitorResult } from '../../src/workflows/driftMonitor';
import { DriftStatus } from '../../src/workflows/searchAttributes';
import { retrainingActivities, type RetrainingOutcome } from '../../src/activities/retraining';
import type { ActivityDeps } from '../../src/activities/deps';
import { MockActivityEnvironment } from '@temporalio/testing';
import { RetrainInput } from '../../src/schemas/monitoring';
import { MonitoringRegistry } from '../../src/registry/monitoring';
import { callApi, resultOf, startHarness, until, waitForStatus, type Harness } from '../support/harness';

/**
 * The drift monitor and retraining on the real Temporal server, PostgreSQL, artifact store and ONNX
 * Runtime: a model is deployed by a real lifecycle, predictions are served through the real API (so the
 * prediction log is written by serving itself), feedback arrives through the feedback route.
 */
let h: Harness;
let db: pg.Pool;
let monitoring: MonitoringRegistry;
let model: string;
let trainingUri: string;
const call = (method: string, route: string, as: string | null, body?: unknown) => callApi(h.api!.url, method, route, as, body);

type Car = Record<string, string | number | null>;
/** The used-car rows of a seed as predict rows (features) with their price. */
function cars(rows: number, seed: number): { row: Car; price: number }[] {
  const [header, ...lines] = usedCarsCsv(rows, seed).trimEnd().split('\n');
  const names = header.split(',');
  return lines.map((line) => {
    const cells = line.split(',').map((c) => c.replace(/^"|"$/g, ''));
    const row: Car = {};
    names.forEach((n, i) => {
      if (n === USED_CAR_TARGET) return;
      const v = cells[i];
      row[n] = v === '' ? null : n === 'year' || n === 'mileage_km' ? Number(v) : v;
    });
    return { row, price: Number(cells[names.indexOf(USED_CAR_TARGET)]) };
  });
}

/** Mean shift (mileage, year) and new categories (region, fuel): four of the six features move. */
const shifted = (c: Car, i: number): Car => ({
  ...c,
  mileage_km: c.mileage_km === null ? null : Number(c.mileage_km) * 1.6 + 40_000,
  year: Number(c.year) - 6,
  region: i % 3 === 0 ? c.region : 'orbit',
  fuel: i % 2 === 0 ? 'hydrogen' : c.fuel,
});

/** Serves the rows through the API (batches of 500) and waits until the log holds them; returns request ids per row. */
async function serve(rows: Car[]): Promise<{ requestId: string; row: number; prediction: number }[]> {
  const before = await logged();
  const out: { requestId: string; row: number; prediction: number }[] = [];
  for (let i = 0; i < rows.length; i += 500) {
    const r = await call('POST', `/models/${model}/predict`, 'vic-viewer', { rows: rows.slice(i, i + 500) });
    expect(r.status).toBe(200);
    r.body.predictions.forEach((p: number, k: number) => out.push({ requestId: r.body.requestId, row: k, prediction: p }));
  }
  await until('the predictions in the log', async () => (await logged()) === before + rows.length);
  return out;
}
const logged = async () => (await db.query('SELECT coalesce(sum(cardinality(predictions)), 0)::int AS n FROM prediction_log WHERE model_name = $1', [model])).rows[0].n as number;
/** Time passes: what was logged so far falls out of the next run's window. */
const age = () => db.query(`UPDATE prediction_log SET created_at = created_at - interval '2 days' WHERE model_name = $1`, [model]);

async function monitor(input: Omit<DriftMonitorInputRaw, 'modelName'>, modelName = model) {
  const handle = await h.client.workflow.start(DRIFT_MONITOR_WORKFLOW, { taskQueue: h.taskQueue, workflowId: `drift-${modelName}-${randomUUID().slice(0, 8)}`, args: [{ modelName, ...input }] });
  return { handle, result: (await handle.result()) as DriftMonitorResult };
}
const retrainTemplate = () => ({ lifecycle: { datasetUri: trainingUri, target: USED_CAR_TARGET, features: USED_CAR_FEATURES, approvers: ['alice'] } });

beforeAll(async () => {
  h = await startHarness('drift', { api: true, env: { PREDICTION_LOG_FLUSH_INTERVAL: '100ms' } });
  db = new pg.Pool({ connectionString: inject('databaseUrl'), max: 3 });
  monitoring = new MonitoringRegistry(db);
  model = `drift-${randomUUID().slice(0, 6)}`;
  trainingUri = await h.writeDataset(`${model}.csv`, usedCarsCsv(2000, 7));
  const handle = await h.start({ modelName: model, datasetUri: trainingUri, target: USED_CAR_TARGET, features: USED_CAR_FEATURES, approvers: ['alice'], requestedBy: 'eve-engineer' });
  await waitForStatus(handle, (s) => s.stage === 'awaiting-approval');
  await handle.signal('approve', await h.decision(handle, 'alice'));
  expect((await resultOf(handle)).outcome).toBe('deployed');
}, 240_000);
afterAll(async () => {
  await h?.stop();
  await db?.end();
});

describe('drift monitor', () => {
  it('does not flag served data from the training distribution (several seeds), and records each run', async () => {
    for (const seed of [101, 202, 303]) {
      await age();
      await serve(cars(1000, seed).map((c) => c.row));
      const { handle, result } = await monitor({ current: { window: '1h' }, retrain: retrainTemplate() });
      expect(result, `seed ${seed}: ${result.summary}`).toMatchObject({ verdict: 'ok', currentRows: 1000, driftedFeatures: [], retraining: null, version: 1 });
      expect((await handle.describe()).typedSearchAttributes.get(DriftStatus)).toBe('ok');
    }
    const history = await call('GET', `/models/${model}/drift`, 'vic-viewer');
    expect(history.status).toBe(200);
    expect(history.body.runs.slice(0, 3).map((r: { verdict: string }) => r.verdict)).toEqual(['ok', 'ok', 'ok']);
    expect((await monitoring.retrainingRequests(model))).toEqual([]);
  }, 180_000);

  it('says "not enough data" (not "no drift") below minCurrentRows', async () => {
    await age();
    await serve(cars(40, 404).map((c) => c.row));
    const { handle, result } = await monitor({ current: { window: '1h' }, retrain: retrainTemplate() });
    expect(result).toMatchObject({ verdict: 'not-enough-data', currentRows: 40, retraining: null });
    expect((await handle.describe()).typedSearchAttributes.get(DriftStatus)).toBe('not-enough-data');
  }, 60_000);

  it('detects a mean shift and new categories, starts exactly one retraining when fired twice, and reports it', async () => {
    await age();
    await serve(cars(1000, 505).map((c, i) => shifted(c.row, i)));
    const [first, second] = await Promise.all([monitor({ current: { window: '1h' }, retrain: retrainTemplate() }), monitor({ current: { window: '1h' }, retrain: retrainTemplate() })]);
    for (const run of [first, second]) {
      expect(run.result.verdict).toBe('drifted');
      expect(run.result.driftedFeatures).toEqual(expect.arrayContaining(['mileage_km', 'year', 'region']));
      expect((await run.handle.describe()).typedSearchAttributes.get(DriftStatus)).toBe('drifted');
    }
    const states = [first.result.retraining!.state, second.result.retraining!.state].sort();
    expect(states).toEqual(['cooling-down', 'started']);
    const started = [first, second].find((r) => r.result.retraining!.state === 'started')!.result.retraining!;
    expect(started).toMatchObject({ workflowId: retrainingWorkflowId(model), requestedBy: 'drift-monitor' });

    // A third request with no cool-down to speak of: the retraining still runs, so nothing starts and it says so.
    await new Promise((r) => setTimeout(r, 1100));
    const third = await monitor({ current: { window: '1h' }, retrain: { ...retrainTemplate(), cooldown: '1s' } });
    expect(third.result.retraining).toMatchObject({ state: 'already-running', runId: started.runId });

    // Exactly one retraining lifecycle exists, started by the service identity with a proof: one approver suffices.
    const runs = [];
    for await (const w of h.client.workflow.list({ query: `WorkflowId = '${retrainingWorkflowId(model)}'` })) runs.push(w);
    expect(runs).toHaveLength(1);
    const retraining = h.client.workflow.getHandle(retrainingWorkflowId(model));
    const status = await waitForStatus(retraining, (s) => s.stage === 'awaiting-approval', 120_000);
    expect(status).toMatchObject({ trigger: 'drift', requestedBy: 'drift-monitor', requesterVerified: true, approvalsRequired: 1 });
    await retraining.signal('approve', await h.decision(retraining, 'alice'));
    expect((await resultOf(retraining)).outcome).toBe('deployed');

    // The history and the report (HTML through the signed link: histograms per feature, no script).
    const history = await call('GET', `/models/${model}/drift?limit=3`, 'vic-viewer');
    const latest = history.body.runs[0];
    expect(latest).toMatchObject({ verdict: 'drifted', retraining: { state: 'already-running' } });
    expect(latest.driftShare).toBeGreaterThanOrEqual(0.5);
    // The link is absolute, through PUBLIC_API_URL (here API_PORT=0, so only its path and query are reached).
    const link = new URL(latest.reportUrl);
    expect(link.pathname).toBe('/reports/view');
    const page = await fetch(`${h.api!.url}${link.pathname}${link.search}`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    const html = await page.text();
    expect(html).toContain('Drifted');
    expect(html).toContain('mileage_km');
    expect(html).toContain('<svg');
    expect(html).not.toMatch(/<script/i);
    // The memo carries the summary and the report's link.
    const memo = (await first.handle.describe()).memo as Record<string, unknown>;
    expect(memo).toMatchObject({ verdict: 'drifted', summary: expect.stringContaining('features drifted') });
    expect(String(memo.report)).toContain('/reports/view?');

    // The Temporal UI's filter finds the drifted model's monitor runs.
    const query = `DriftStatus = "drifted" AND ModelName = "${model}" AND WorkflowType = "${DRIFT_MONITOR_WORKFLOW}"`;
    await until('the drifted runs in visibility', async () => {
      const found = [];
      for await (const w of h.client.workflow.list({ query })) found.push(w.workflowId);
      return found.length === 3 && found;
    });

    // Old histories keep replaying against the current workflow code.
    await Worker.runReplayHistory({ workflowBundle: { codePath: inject('workflowBundlePath') } }, await first.handle.fetchHistory(), first.handle.workflowId);
  }, 300_000);

  it('detects performance decay from feedback on unshifted data', async () => {
    await age();
    const served = cars(600, 606);
    const answers = await serve(served.map((c) => c.row));
    // Ground truth far from what the model says: twice the real price.
    const items = answers.map((a, i) => ({ requestId: a.requestId, row: a.row, actual: served[i].price * 2 }));
    for (let i = 0; i < items.length; i += 100) expect((await call('POST', `/models/${model}/feedback`, 'eve-engineer', { items: items.slice(i, i + 100) })).status).toBe(202);
    const { result } = await monitor({ current: { window: '1h' } });
    expect(result.verdict).toBe('drifted');
    expect(result.driftedFeatures).toEqual([]);
    const history = await call('GET', `/models/${model}/drift?limit=1`, 'vic-viewer');
    expect(history.body.runs[0].decay).toMatchObject({ metric: 'rmse', decayed: true, feedbackRows: 600 });
    expect(history.body.runs[0].decay.current).toBeGreaterThan(1.2 * history.body.runs[0].decay.evaluated);
  }, 120_000);

  it('judges a dataset given to the run, started through the API', async () => {
    const rows = cars(800, 707).map((c, i) => shifted(c.row, i));
    const header = USED_CAR_FEATURES.join(',');
    const csv = [header, ...rows.map((r) => USED_CAR_FEATURES.map((f) => (r[f] === null ? '' : String(r[f]))).join(','))].join('\n') + '\n';
    const uri = await h.writeDataset(`${model}-current.csv`, csv);
    expect((await call('POST', `/models/${model}/drift`, 'vic-viewer', { current: { datasetUri: uri } })).status).toBe(403);
    expect((await call('POST', `/models/no-such-model/drift`, 'eve-engineer', {})).status).toBe(404);
    expect((await call('POST', `/models/${model}/drift`, 'eve-engineer', { current: { window: 'soon' } })).status).toBe(400);
    const doc = await call('GET', '/openapi.json', null);
    expect(Object.keys(doc.body.paths['/models/{name}/drift'])).toEqual(['get', 'post']);
    const started = await call('POST', `/models/${model}/drift`, 'eve-engineer', { current: { datasetUri: uri } });
    expect(started.status).toBe(201);
    const result = (await h.client.workflow.getHandle(started.body.workflowId).result()) as DriftMonitorResult;
    expect(result).toMatchObject({ verdict: 'drifted', currentRows: 800, retraining: null });
    expect(result.driftedFeatures).toEqual(expect.arrayContaining(['mileage_km', 'year', 'region']));
  }, 120_000);
});

describe('retrainModel', () => {
  it('starts one lifecycle, none within the cool-down, and again after it once the previous one ended', async () => {
    const name = `retrain-${randomUUID().slice(0, 6)}`;
    const input = (cooldown: string): RetrainInputRaw => ({ modelName: name, trigger: 'schedule', reason: 'nightly', cooldown, ...retrainTemplate() });
    const run = async (cooldown: string) =>
      (await h.client.workflow.execute(RETRAIN_WORKFLOW, { taskQueue: h.taskQueue, workflowId: `nightly-${name}-${randomUUID().slice(0, 8)}`, args: [input(cooldown)] })) as RetrainingOutcome;

    const first = await run('1h');
    expect(first).toMatchObject({ state: 'started', requestedBy: 'scheduler', workflowId: retrainingWorkflowId(name) });
    const lifecycle = h.client.workflow.getHandle(retrainingWorkflowId(name));
    expect((await waitForStatus(lifecycle, () => true)).trigger).toBe('schedule');
    await lifecycle.terminate('test: the retraining is over');

    // Ended, but within the cool-down: nothing starts.
    expect(await run('1h')).toMatchObject({ state: 'cooling-down', runId: null });
    expect((await lifecycle.describe()).runId).toBe(first.runId);
    // Past a short cool-down, and with no retraining running: a new one starts.
    await new Promise((r) => setTimeout(r, 1100));
    const again = await run('1s');
    expect(again.state).toBe('started');
    expect(again.runId).not.toBe(first.runId);
    await lifecycle.terminate('test: done');
    expect((await monitoring.retrainingRequests(name)).map((r) => r.state)).toEqual(['started', 'cooling-down', 'started']);
  }, 120_000);

  it('is idempotent on activity retry: a retried request finds its own start, even after that lifecycle ended', async () => {
    const name = `retry-${randomUUID().slice(0, 6)}`;
    // The activity alone, as a worker runs it; only the parts it uses (the registry, the secret) are given.
    const { startRetraining } = retrainingActivities({ monitoring, approvalSecret: 'test-secret-of-this-activity-0123456789' } as ActivityDeps);
    const requester = { workflowId: `drift-${name}`, runId: randomUUID() };
    const attempt = (n: number, activityId = '7') =>
      new MockActivityEnvironment({ workflowExecution: requester, activityId, attempt: n, taskQueue: h.taskQueue }, { client: h.client }).run(
        startRetraining,
        RetrainInput.parse({ modelName: name, trigger: 'drift', cooldown: '1h', ...retrainTemplate() }),
      ) as Promise<RetrainingOutcome>;
    const first = await attempt(1);
    expect(first.state).toBe('started');
    const lifecycle = h.client.workflow.getHandle(retrainingWorkflowId(name));
    // The attempt crashed after the start, before recording it; the lifecycle has even ended since.
    await db.query(`UPDATE retraining_starts SET state = 'starting', run_id = NULL WHERE model_name = $1`, [name]);
    await lifecycle.terminate('test: ended before the retry');
    expect(await attempt(2)).toMatchObject({ state: 'started', runId: first.runId });
    expect(await attempt(3)).toMatchObject({ state: 'started', runId: first.runId });
    expect((await lifecycle.describe()).runId).toBe(first.runId);
    // Another request (another activity) within the cool-down starts nothing.
    expect(await attempt(1, '8')).toMatchObject({ state: 'cooling-down' });
    expect((await monitoring.retrainingRequests(name)).map((r) => r.state)).toEqual(['cooling-down', 'started']);
  }, 60_000);
});

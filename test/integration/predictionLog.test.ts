import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { usedCarsCsv, USED_CAR_FEATURES, USED_CAR_TARGET } from '../../src/demo/usedCars';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from '../../src/infra/embeddedPostgres';
import { createLogger } from '../../src/logger';
import { createPool, migrate } from '../../src/registry/db';
import { PredictionLog } from '../../src/serving/predictionLog';
import { callApi, resultOf, startHarness, until, waitForStatus, type Harness } from '../support/harness';

/** A real HTTP call to this file's API. */
const call = (method: string, route: string, as: string | null, body?: unknown) => callApi(h.api!.url, method, route, as, body);
/** Waits of this file are for work the log does within 10 s. */
const soon = <T>(what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs = 10_000) => until(what, probe, timeoutMs);

/**
 * Prediction logging, feedback and /metrics through the real API, worker and PostgreSQL: a model is
 * deployed by a real lifecycle, predictions are served over HTTP and land in `prediction_log`.
 */
const CAPACITY = 300;
let h: Harness;
let db: pg.Pool;
let model: string;
beforeAll(async () => {
  h = await startHarness('predlog', { api: true, env: { PREDICTION_LOG_BUFFER: String(CAPACITY), PREDICTION_LOG_FLUSH_INTERVAL: '100ms', PREDICTION_LOG_BATCH: '100' } });
  db = new pg.Pool({ connectionString: inject('databaseUrl'), max: 3 });
  model = `predlog-${randomUUID().slice(0, 6)}`;
  const handle = await h.start({
    modelName: model, datasetUri: await h.writeDataset(`${model}.csv`, usedCarsCsv(2000, 7)), target: USED_CAR_TARGET, features: USED_CAR_FEATURES,
    approvers: ['alice'], requestedBy: 'eve-engineer',
  });
  await waitForStatus(handle, (s) => s.stage === 'awaiting-approval');
  await handle.signal('approve', await h.decision(handle, 'alice'));
  expect((await resultOf(handle)).outcome).toBe('deployed');
}, 180_000);
afterAll(async () => {
  await h?.stop();
  await db?.end();
});

const car = (i: number) => ({ make: 'BMW', model: 'X3', year: 2015 + (i % 10), mileage_km: 10_000 + i * 100, fuel: i % 2 ? 'petrol' : null, region: 'north' });

/** One sample of /metrics: `name{labels}` → value. */
async function scrape(): Promise<Map<string, number>> {
  const r = await call('GET', '/metrics', 'vic-viewer');
  expect(r.status).toBe(200);
  const out = new Map<string, number>();
  for (const line of r.text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}
const loggedRows = async (requestId: string) =>
  (await db.query('SELECT * FROM prediction_log WHERE request_id = $1 ORDER BY row_index', [requestId])).rows;

describe('prediction log', () => {
  it('logs every row with its request id, model, version, inputs, output and latency', async () => {
    const rows = [car(1), car(2), car(3)];
    const r = await call('POST', `/models/${model}/predict`, 'vic-viewer', { rows });
    expect(r.status).toBe(200);
    expect(r.body.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(r.headers.get('x-request-id')).toBe(r.body.requestId);
    const logged = await soon('the rows in prediction_log', async () => ((await loggedRows(r.body.requestId)).length === 3 ? loggedRows(r.body.requestId) : null));
    logged.forEach((row, i) => {
      expect(row).toMatchObject({ request_id: r.body.requestId, row_index: i, model_name: model, version: 1, inputs: rows[i], prediction: r.body.predictions[i] });
      expect(row.latency_ms).toBeGreaterThan(0);
      expect(row.latency_ms).toBeLessThan(5_000);
    });

    // An error answer carries a request id too, and is counted by kind, not logged.
    const bad = await call('POST', `/models/${model}/predict`, 'vic-viewer', { rows: [{ ...car(1), year: 'old' }] });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(await loggedRows(bad.headers.get('x-request-id')!)).toEqual([]);
  });

  it('records feedback by request id, joined to its prediction; idempotent; 404 only for an unknown model', async () => {
    const p = await call('POST', `/models/${model}/predict`, 'vic-viewer', { rows: [car(4), car(5)] });
    expect(p.status).toBe(200);
    const id = p.body.requestId;
    const early = randomUUID(); // a prediction not flushed (or never logged): accepted all the same
    expect(await call('POST', `/models/${model}/feedback`, 'eve-engineer', { requestId: id, actual: 23_456.5 })).toMatchObject({ status: 202, body: { accepted: 1 } });
    const batch = { items: [{ requestId: id, row: 1, actual: 31_000 }, { requestId: early, actual: 1 }] };
    expect(await call('POST', `/models/${model}/feedback`, 'ada-admin', batch)).toMatchObject({ status: 202, body: { accepted: 2 } });
    expect((await call('POST', `/models/${model}/feedback`, 'ada-admin', batch)).status).toBe(202); // again: nothing changes

    await soon('the prediction flushed', async () => (await loggedRows(id)).length === 2);
    const joined = await db.query(
      `SELECT l.row_index, l.prediction, f.actual, f.recorded_by FROM prediction_log l JOIN prediction_feedback f USING (request_id, row_index)
       WHERE l.request_id = $1 ORDER BY l.row_index`,
      [id],
    );
    expect(joined.rows).toEqual([
      { row_index: 0, prediction: p.body.predictions[0], actual: 23_456.5, recorded_by: 'eve-engineer' },
      { row_index: 1, prediction: p.body.predictions[1], actual: 31_000, recorded_by: 'ada-admin' },
    ]);
    expect((await db.query('SELECT count(*)::int AS n FROM prediction_feedback WHERE request_id = ANY($1::uuid[])', [[id, early]])).rows[0].n).toBe(3);

    expect((await call('POST', '/models/no-such-model/feedback', 'eve-engineer', { requestId: id, actual: 1 })).status).toBe(404);
    expect((await call('POST', `/models/${model}/feedback`, 'vic-viewer', { requestId: id, actual: 1 })).status).toBe(403);
    expect((await call('POST', `/models/${model}/feedback`, 'alice', { requestId: id, actual: 1 })).status).toBe(403);
    const wrong = await call('POST', `/models/${model}/feedback`, 'eve-engineer', { items: [{ requestId: id, actual: 'high' }] });
    expect(wrong.status).toBe(400);
    expect(wrong.body.error).toMatch(/items\[0\]\.actual/);
    const noId = await call('POST', `/models/${model}/feedback`, 'eve-engineer', { requestId: 'nope', actual: 1 });
    expect(noId.status).toBe(400);
    expect(noId.body.error).toMatch(/requestId/);
  });

  it('PostgreSQL slow (the table locked): predict keeps answering, the buffer stays bounded, the newest are dropped and counted, then it drains', async () => {
    const before = await scrape();
    const droppedBefore = before.get('lifecycle_prediction_log_dropped_rows_total{reason="buffer_full"}') ?? 0;
    const locker = await db.connect();
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE prediction_log IN ACCESS EXCLUSIVE MODE');
    const ids: string[] = [];
    let slowest = 0;
    try {
      // 50 requests of 10 rows: 500 rows against a bound of 300.
      for (let i = 0; i < 50; i++) {
        const t0 = Date.now();
        const r = await call('POST', `/models/${model}/predict`, 'vic-viewer', { rows: Array.from({ length: 10 }, (_, k) => car(i * 10 + k)) });
        slowest = Math.max(slowest, Date.now() - t0);
        expect(r.status).toBe(200);
        ids.push(r.body.requestId);
      }
      const during = await scrape();
      expect(during.get('lifecycle_prediction_log_buffer_rows')).toBeLessThanOrEqual(CAPACITY);
      expect(during.get('lifecycle_prediction_log_buffer_rows')).toBeGreaterThan(CAPACITY - 10);
      expect(during.get('lifecycle_prediction_log_buffer_capacity_rows')).toBe(CAPACITY);
      expect(during.get('lifecycle_prediction_log_dropped_rows_total{reason="buffer_full"}')! - droppedBefore).toBe(500 - CAPACITY);
      console.log(`prediction log: table locked, 50 × 10-row predictions answered (slowest ${slowest} ms); buffer ${during.get('lifecycle_prediction_log_buffer_rows')} rows, ${500 - CAPACITY} dropped`);
    } finally {
      await locker.query('COMMIT');
      locker.release();
    }
    expect(slowest).toBeLessThan(1_000);
    await soon('the buffer drained', async () => (await scrape()).get('lifecycle_prediction_log_buffer_rows') === 0);
    // The first 300 rows were kept (the newest dropped), in order.
    const logged = await db.query('SELECT request_id, count(*)::int AS n FROM prediction_log WHERE request_id = ANY($1::uuid[]) GROUP BY request_id', [ids]);
    const byId = new Map(logged.rows.map((r) => [r.request_id, r.n]));
    expect(ids.map((id) => byId.get(id) ?? 0)).toEqual(ids.map((_, i) => (i < CAPACITY / 10 ? 10 : 0)));
    // And new predictions are logged again.
    const after = await call('POST', `/models/${model}/predict`, 'vic-viewer', { rows: [car(1)] });
    await soon('a new prediction logged', async () => (await loggedRows(after.body.requestId)).length === 1);
  });

  it('/metrics: latency per model and version, predictions, errors by kind, log and feedback counters, the worker\'s activities', async () => {
    const m = await scrape();
    const labels = `model="${model}",version="1"`;
    expect(m.get(`lifecycle_predict_duration_seconds_count{${labels}}`)).toBeGreaterThanOrEqual(53);
    expect(m.get(`lifecycle_predict_duration_seconds_bucket{le="+Inf",${labels}}`)).toBe(m.get(`lifecycle_predict_duration_seconds_count{${labels}}`));
    expect(m.get(`lifecycle_predictions_total{${labels}}`)).toBeGreaterThanOrEqual(3 + 2 + 500 + 1);
    expect(m.get('lifecycle_predict_errors_total{kind="invalid_request"}')).toBeGreaterThanOrEqual(1);
    expect(m.get('lifecycle_prediction_log_written_rows_total')).toBeGreaterThanOrEqual(3 + 2 + CAPACITY + 1);
    expect(m.get(`lifecycle_feedback_received_total{model="${model}"}`)).toBe(5);
    for (const activity of ['ingestDataset', 'validateDataset', 'trainModel', 'evaluateCandidate', 'deployModel']) {
      expect(m.get(`lifecycle_worker_activities_started_total{activity="${activity}"}`), activity).toBeGreaterThanOrEqual(1);
      expect(m.get(`lifecycle_worker_activities_completed_total{activity="${activity}"}`), activity).toBeGreaterThanOrEqual(1);
    }
    expect(m.get('lifecycle_model_loads_total{outcome="ok"}')).toBeGreaterThanOrEqual(1);
    // Not public, not in the API document.
    expect((await call('GET', '/metrics', null)).status).toBe(401);
    const doc = await call('GET', '/openapi.json', null);
    expect(doc.body.paths['/metrics']).toBeUndefined();
    expect(doc.body.paths['/models/{name}/feedback'].post.responses['202']).toBeDefined();
    expect(doc.body.paths['/models/{name}/predict'].post.responses['200'].content['application/json'].schema.required).toContain('requestId');
  });
});

describe('prediction log against a PostgreSQL that stops and comes back', () => {
  let dir: string;
  let postgres: EmbeddedPostgresHandle;
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lifecycle-predlog-'));
    await fs.chmod(dir, 0o755); // as root, PostgreSQL runs as `postgres` and must traverse it
    postgres = await startEmbeddedPostgres({ dataDir: path.join(dir, 'postgres') });
    await migrate(postgres.connectionString, createLogger('fatal'));
  }, 120_000);
  afterAll(async () => {
    await postgres?.stop();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('never blocks, never holds more than its bound, counts drops, and writes what it kept once PostgreSQL is back', async () => {
    const pool = createPool(postgres.connectionString);
    const log = new PredictionLog(pool, createLogger('fatal'), { capacity: 1_000, flushIntervalMs: 50, batchRows: 200 });
    const served = (n: number) => ({ requestId: randomUUID(), model: 'm', version: 2, rows: Array.from({ length: n }, (_, i) => ({ x: i })), predictions: Array.from({ length: n }, (_, i) => i / 2), latencyMs: 1.5, at: new Date() });
    try {
      expect(log.record(served(10))).toBe(true);
      await log.flush();
      expect(log.totals.written).toBe(10);

      await postgres.stop();
      let slowest = 0;
      let largest = 0;
      for (let i = 0; i < 300; i++) {
        const t0 = performance.now();
        log.record(served(5));
        slowest = Math.max(slowest, performance.now() - t0);
        largest = Math.max(largest, log.size);
        if (i % 20 === 0) await new Promise((r) => setTimeout(r, 20)); // let the failing flushes run
      }
      expect(largest).toBeLessThanOrEqual(1_000);
      expect(log.size).toBe(1_000);
      expect(log.totals.dropped).toBe(1_500 - 1_000);
      expect(slowest).toBeLessThan(5);

      const port = Number(new URL(postgres.connectionString).port);
      postgres = await startEmbeddedPostgres({ dataDir: path.join(dir, 'postgres'), port });
      await soon('the kept rows written', async () => log.size === 0, 20_000);
      expect(log.totals.written).toBe(10 + 1_000);
      const fresh = served(3);
      log.record(fresh);
      await log.flush();
      const check = createPool(postgres.connectionString);
      const { rows } = await check.query('SELECT count(*)::int AS n, count(*) FILTER (WHERE request_id = $1)::int AS fresh FROM prediction_log', [fresh.requestId]);
      await check.end();
      expect(rows[0]).toEqual({ n: 10 + 1_000 + 3, fresh: 3 });
    } finally {
      await log.close();
      await pool.end();
    }
  }, 120_000);
});

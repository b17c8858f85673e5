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
import { MonitoringRegistry } from '../../src/registry/monitoring';
import { FeedbackStore } from '../../src/serving/feedback';
import { PredictionLog } from '../../src/serving/predictionLog';
import { PredictionLogRetention, RETENTION_LOCK_KEY } from '../../src/serving/retention';
import { callApi, resultOf, startHarness, tokenOf, until, waitForStatus, type Harness } from '../support/harness';

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
/** The request's rows in prediction_log: one per role that answered it. */
const loggedRows = async (requestId: string) =>
  (await db.query('SELECT * FROM prediction_log WHERE request_id = $1 ORDER BY role', [requestId])).rows;

describe('prediction log', () => {
  it('logs every request as one row: its request id, model, version, rows, predictions and latency', async () => {
    const rows = [car(1), car(2), car(3)];
    const r = await call('POST', `/models/${model}/predict`, 'vic-viewer', { rows });
    expect(r.status).toBe(200);
    expect(r.body.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(r.headers.get('x-request-id')).toBe(r.body.requestId);
    const [row, ...more] = await soon('the request in prediction_log', async () => ((await loggedRows(r.body.requestId)).length > 0 ? loggedRows(r.body.requestId) : null));
    expect(more).toEqual([]);
    expect(row).toMatchObject({ request_id: r.body.requestId, role: 'serve', model_name: model, version: 1, inputs: rows, predictions: r.body.predictions, error: null });
    expect(row.latency_ms).toBeGreaterThan(0);
    expect(row.latency_ms).toBeLessThan(5_000);
    // Version 7 ids: time first, so the log's key grows at its end.
    expect(r.body.requestId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7/);
    expect(Math.abs(parseInt(r.body.requestId.replace('-', '').slice(0, 12), 16) - Date.now())).toBeLessThan(60_000);

    // An error answer before any version was chosen (the body is not a predict body) carries a request id too, and is counted by kind, not logged.
    const bad = await call('POST', `/models/${model}/predict`, 'vic-viewer', { rows: [] });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const unknown = await call('POST', '/models/no-such-model/predict', 'vic-viewer', { rows: [car(1)] });
    expect(unknown.status).toBe(404);
    await call('POST', `/models/${model}/predict`, 'vic-viewer', { rows: [car(1)] }).then((r) => soon('a later prediction flushed', async () => (await loggedRows(r.body.requestId)).length === 1));
    expect(await loggedRows(bad.headers.get('x-request-id')!)).toEqual([]);
    expect(await loggedRows(unknown.headers.get('x-request-id')!)).toEqual([]);
  });

  it('logs the rows as the client wrote them (spacing and number spelling kept), and the parsed rows when the text is ambiguous', async () => {
    const send = async (text: string) => {
      const r = await fetch(`${h.api!.url}/models/${model}/predict`, { method: 'POST', headers: { authorization: `Bearer ${tokenOf('vic-viewer')}`, 'content-type': 'application/json' }, body: text });
      expect(r.status).toBe(200);
      const id = r.headers.get('x-request-id')!;
      return soon('the request in prediction_log', async () => (await db.query('SELECT inputs::text AS text, inputs FROM prediction_log WHERE request_id = $1', [id])).rows[0]);
    };
    const rows = '[ {"make": "BMW", "model": "X3", "year": 2018.0, "mileage_km": 6.4e4, "fuel": null, "region": "north"} ]';
    expect((await send(`{ "rows" :\n ${rows} }`)).text).toBe(rows);
    // A repeated key: JSON.parse (and so the answer) took the last rows; so does the log.
    const repeated = await send(`{"rows": [{"make": "Fiat"}], "rows": ${rows}}`);
    expect(repeated.inputs).toEqual(JSON.parse(rows));
  });

  it('logs a request the chosen version failed as one error row: its version, latency, inputs and the error, no prediction', async () => {
    const failures = [
      // Rows that do not fit the model's signature (a text where it takes a number; a feature missing): 400.
      { rows: [car(1), { ...car(2), year: 'old' }], status: 400, error: /^RowsError: rows\[1\]\.year: expected a number or null, got "old"$/ },
      { rows: [{ make: 'BMW' }], status: 400, error: /^RowsError: rows\[0\]\.\w+: missing/ },
      // A value so large the model's arithmetic overflows: no finite prediction, 422.
      { rows: [car(3), { ...car(3), year: 1e308 }], status: 422, error: /^PredictionError: rows\[1\]: the model's prediction is not a finite number/ },
    ];
    for (const f of failures) {
      const r = await call('POST', `/models/${model}/predict${f === failures[0] ? '' : '?version=1'}`, 'vic-viewer', { rows: f.rows }); // by alias, and pinned
      expect(r.status, JSON.stringify(r.body)).toBe(f.status);
      const id = r.headers.get('x-request-id')!;
      const [row, ...more] = await soon('the error row in prediction_log', async () => ((await loggedRows(id)).length > 0 ? loggedRows(id) : null));
      expect(more).toEqual([]);
      expect(row).toMatchObject({ request_id: id, role: 'serve', model_name: model, version: 1, predictions: null, inputs: f.rows });
      expect(row.error).toMatch(f.error);
      expect(row.latency_ms).toBeGreaterThan(0);
      expect(row.latency_ms).toBeLessThan(5_000);
    }
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

    await soon('the prediction flushed', async () => (await loggedRows(id)).length === 1);
    const joined = await db.query(
      `SELECT f.row_index, l.predictions[f.row_index + 1] AS prediction, f.actual, f.recorded_by FROM prediction_log l JOIN prediction_feedback f USING (request_id)
       WHERE l.request_id = $1 ORDER BY f.row_index`,
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
    const logged = await db.query('SELECT request_id, cardinality(predictions) AS n FROM prediction_log WHERE request_id = ANY($1::uuid[])', [ids]);
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
    expect(m.get(`lifecycle_model_loads_total{model="${model}",version="1",outcome="ok"}`)).toBe(1);
    // Defined for shadow scoring: exposed with their help text even before anything counted.
    const text = (await call('GET', '/metrics', 'vic-viewer')).text;
    expect(text).toContain('# TYPE lifecycle_shadow_predictions_total counter');
    expect(text).toContain('# TYPE lifecycle_shadow_skipped_total counter');
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
      const { rows } = await check.query('SELECT sum(cardinality(predictions))::int AS n, sum(cardinality(predictions)) FILTER (WHERE request_id = $1)::int AS fresh FROM prediction_log', [fresh.requestId]);
      await check.end();
      expect(rows[0]).toEqual({ n: 10 + 1_000 + 3, fresh: 3 });
    } finally {
      await log.close();
      await pool.end();
    }
  }, 120_000);

  it('keeps what a shadow version answered (same request id, role shadow) and a failed shadow answer beside the served one', async () => {
    const pool = createPool(postgres.connectionString);
    const log = new PredictionLog(pool, createLogger('fatal'), { capacity: 100, flushIntervalMs: 50, batchRows: 10 });
    try {
      const requestId = randomUUID();
      const rows = [{ x: 1 }, { x: 2 }];
      const at = new Date();
      expect(log.record({ requestId, model: 'm', version: 2, rows, predictions: [10, 20], latencyMs: 1.25, at })).toBe(true);
      expect(log.record({ requestId, model: 'm', version: 3, role: 'shadow', rows, predictions: [11, 19], latencyMs: 2.5, at })).toBe(true);
      const failed = randomUUID();
      expect(log.record({ requestId: failed, model: 'm', version: 2, rows, predictions: [1, 2], latencyMs: 1, at })).toBe(true);
      expect(log.record({ requestId: failed, model: 'm', version: 3, role: 'shadow', rows, error: `PredictionError: ${'x'.repeat(2_000)}`, latencyMs: 3, at })).toBe(true);
      expect(log.size).toBe(4 * 2); // a failed answer counts its request's rows
      await log.flush();
      const { rows: logged } = await pool.query(
        'SELECT request_id, role, version, inputs, predictions, error, latency_ms, created_at FROM prediction_log WHERE request_id = ANY($1::uuid[]) ORDER BY request_id = $2 DESC, role',
        [[requestId, failed], requestId],
      );
      expect(logged.map((r) => [r.request_id === requestId ? 'first' : 'failed', r.role, r.version, r.predictions, r.error?.length ?? null])).toEqual([
        ['first', 'serve', 2, [10, 20], null],
        ['first', 'shadow', 3, [11, 19], null],
        ['failed', 'serve', 2, [1, 2], null],
        ['failed', 'shadow', 3, null, 500], // the message cut to 500 characters
      ]);
      expect(logged[1]).toMatchObject({ inputs: rows, latency_ms: 2.5, created_at: at });
      expect(logged[3]).toMatchObject({ inputs: rows, latency_ms: 3 });
      expect(logged[3].error).toMatch(/^PredictionError: x+$/);
    } finally {
      await log.close();
      await pool.end();
    }
  });

  it('stores any text a request sends as sent (a NUL in an error made storable), and rewrites a batch that meets a request already written without duplicating or losing one', async () => {
    const pool = createPool(postgres.connectionString);
    const log = new PredictionLog(pool, createLogger('fatal'), { capacity: 100, flushIntervalMs: 50, batchRows: 50 });
    try {
      const at = new Date();
      // COPY's own escapes, JSON's, a NUL and a lone surrogate (jsonb refuses both, and the whole batch was lost).
      const hostile = { 'tab\tkey': 'a\\b\tc\nd\re', 'nul\u0000key': 'x\u0000y', lone: 'p\ud800q', quote: '"\'{}[],', car: '🚗', '\\N': '\\N' };
      const first = { requestId: randomUUID(), model: 'm', version: 1, rows: [hostile], predictions: [1.5], latencyMs: 1, at };
      expect(log.record(first)).toBe(true);
      await log.flush();
      // The same request again (an earlier try committed though its answer was lost) in one batch with a new one.
      const second = { requestId: randomUUID(), model: 'm', version: 1, rows: [{ x: 1 }], error: 'RowsError: a\\b\twith\ttabs\nand \u0000', latencyMs: 2, at };
      log.record(first);
      log.record(second);
      await log.flush();
      expect(log.totals).toMatchObject({ written: 3, dropped: 0, failedFlushes: 0 });
      const { rows } = await pool.query('SELECT request_id, inputs, predictions, error FROM prediction_log WHERE request_id = ANY($1::uuid[]) ORDER BY latency_ms', [[first.requestId, second.requestId]]);
      expect(rows).toEqual([
        { request_id: first.requestId, inputs: [hostile], predictions: [1.5], error: null },
        { request_id: second.requestId, inputs: [{ x: 1 }], predictions: null, error: 'RowsError: a\\b\twith\ttabs\nand \ufffd' },
      ]);
    } finally {
      await log.close();
      await pool.end();
    }
  });

  it('a COPY whose PostgreSQL process is terminated mid-batch: the batch goes back and is written once, nothing lost or doubled', async () => {
    const pool = createPool(postgres.connectionString);
    const admin = createPool(postgres.connectionString);
    const requests = 2_000;
    const log = new PredictionLog(pool, createLogger('fatal'), { capacity: requests * 100, flushIntervalMs: 60_000, batchRows: requests * 100 });
    try {
      const rows = Array.from({ length: 100 }, (_, i) => car(i));
      const ids = Array.from({ length: requests }, () => randomUUID());
      for (const requestId of ids) expect(log.record({ requestId, model: 'killed', version: 1, rows, predictions: rows.map((_, i) => i), latencyMs: 1, at: new Date() })).toBe(true);
      const writing = log.flush(); // one COPY of 200,000 predicted rows (~20 MB)
      const terminated = await soon('the COPY running, then terminated', async () => {
        const { rows: found } = await admin.query<{ ok: boolean }>("SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE query LIKE 'COPY prediction_log %' AND state = 'active'");
        return found[0]?.ok;
      });
      expect(terminated).toBe(true);
      await writing; // the failed try: its batch back in the buffer
      expect(log.totals.failedFlushes).toBe(1);
      expect(log.size).toBe(requests * 100);
      await log.flush();
      expect(log.totals).toMatchObject({ written: requests * 100, dropped: 0, failedFlushes: 1 });
      const { rows: counted } = await admin.query<{ n: number; predicted: number }>('SELECT count(*)::int AS n, sum(cardinality(predictions))::int AS predicted FROM prediction_log WHERE request_id = ANY($1::uuid[])', [ids]);
      expect(counted[0]).toEqual({ n: requests, predicted: requests * 100 });
    } finally {
      await log.close();
      await pool.end();
      await admin.end();
    }
  });

  it('reads served predictions back row by row, in pages that split requests, each row once and in order; feedback meets its row', async () => {
    const pool = createPool(postgres.connectionString);
    const log = new PredictionLog(pool, createLogger('fatal'), { capacity: 100, flushIntervalMs: 50, batchRows: 50 });
    const monitoring = new MonitoringRegistry(pool);
    try {
      const t0 = Date.now();
      const request = (n: number, k: number, extra: object = {}) => ({
        requestId: randomUUID(), model: 'pages', version: 4, rows: Array.from({ length: n }, (_, i) => ({ k, i })),
        predictions: Array.from({ length: n }, (_, i) => k * 10 + i), latencyMs: 1, at: new Date(t0 + k), ...extra,
      });
      const served = [request(1, 1), request(3, 2), request(2, 3), request(4, 4)];
      for (const r of served) log.record(r);
      // Neither a failed request nor a shadow's answer is served data.
      log.record({ ...request(2, 5), predictions: undefined, error: 'RowsError: no' });
      log.record({ ...served[1], role: 'shadow', predictions: [0, 0, 0] });
      await log.flush();
      const pages: { inputs: Record<string, unknown>; prediction: number }[][] = [];
      for await (const page of monitoring.predictionLogPages('pages', new Date(t0).toISOString(), new Date(t0 + 60_000).toISOString(), 3)) pages.push(page);
      expect(pages.map((p) => p.length)).toEqual([3, 3, 3, 1]);
      expect(pages.flat()).toEqual(served.flatMap((r) => r.rows.map((row, i) => ({ inputs: row, prediction: r.predictions[i] }))));

      await new FeedbackStore(pool).record('pages', [
        { requestId: served[1].requestId, row: 2, actual: 99 },
        { requestId: served[3].requestId, row: 0, actual: 7 },
        { requestId: served[3].requestId, row: 4, actual: 1 }, // no such row: nothing to pair it with
      ], 'test');
      const pairs = await monitoring.feedbackPairs('pages', 4, new Date(t0).toISOString(), new Date(t0 + 60_000).toISOString());
      expect([...pairs.predicted].map((p, i) => [p, pairs.actual[i]]).sort((a, b) => a[0] - b[0])).toEqual([[22, 99], [40, 7]]);
    } finally {
      await log.close();
      await pool.end();
    }
  });

  it('retention deletes rows older than the setting in bounded batches, one process at a time, and keeps the rest', async () => {
    const pool = createPool(postgres.connectionString);
    const day = 86_400_000;
    const now = new Date();
    const models = ['ret-a', 'ret-b'];
    try {
      await pool.query('INSERT INTO models (name) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING', [models]);
      // Per model: 23 log rows and 5 feedback rows 31-40 days old, 4 log rows and 2 feedback rows 1-29 days old.
      const ages = (n: number, fromDays: number) => Array.from({ length: n }, (_, i) => new Date(now.getTime() - (fromDays + (i % 9)) * day - i * 1000));
      const rows: unknown[][] = [];
      const feedback: unknown[][] = [];
      for (const m of models) {
        for (const at of [...ages(23, 31), ...ages(4, 1)]) rows.push([randomUUID(), m, at]);
        for (const at of [...ages(5, 31), ...ages(2, 20)]) feedback.push([randomUUID(), m, at]);
      }
      await pool.query(
        `INSERT INTO prediction_log (request_id, model_name, version, inputs, predictions, latency_ms, created_at)
         SELECT id, m, 1, '[{}]', '{0}', 1, t FROM unnest($1::uuid[], $2::text[], $3::timestamptz[]) AS u(id, m, t)`,
        [rows.map((r) => r[0]), rows.map((r) => r[1]), rows.map((r) => r[2])],
      );
      await pool.query(
        `INSERT INTO prediction_feedback (request_id, model_name, actual, recorded_by, received_at)
         SELECT id, m, 1, 'test', t FROM unnest($1::uuid[], $2::text[], $3::timestamptz[]) AS u(id, m, t)`,
        [feedback.map((r) => r[0]), feedback.map((r) => r[1]), feedback.map((r) => r[2])],
      );
      const count = async () =>
        (await pool.query(
          `SELECT (SELECT count(*)::int FROM prediction_log WHERE model_name = ANY($1)) AS log, (SELECT count(*)::int FROM prediction_log WHERE model_name = ANY($1) AND created_at < $2) AS old_log,
                  (SELECT count(*)::int FROM prediction_feedback WHERE model_name = ANY($1)) AS feedback, (SELECT count(*)::int FROM prediction_feedback WHERE model_name = ANY($1) AND received_at < $2) AS old_feedback`,
          [models, new Date(now.getTime() - 30 * day)],
        )).rows[0];
      expect(await count()).toEqual({ log: 54, old_log: 46, feedback: 14, old_feedback: 10 });

      const retention = new PredictionLogRetention(pool, createLogger('fatal'), { retentionMs: 30 * day, batchRows: 10, pauseMs: 1 });
      // Another process sweeping (holding the lock): this one does nothing.
      const other = await pool.connect();
      await other.query('SELECT pg_advisory_lock($1)', [RETENTION_LOCK_KEY]);
      try {
        expect(await retention.sweep(now)).toEqual({ skipped: true, predictions: 0, feedback: 0, batches: 0 });
        expect((await count()).old_log).toBe(46);
      } finally {
        await other.query('SELECT pg_advisory_unlock($1)', [RETENTION_LOCK_KEY]);
        other.release();
      }

      const swept = await retention.sweep(now);
      // 23 old rows per model in batches of 10: 10, 10, 3; feedback 5 per model: one batch each (other models: one empty batch each).
      expect(swept).toMatchObject({ skipped: false, predictions: 46, feedback: 10 });
      const otherModels = (await pool.query('SELECT count(*)::int AS n FROM models')).rows[0].n - models.length;
      expect(swept.batches).toBe(3 * 2 + 1 * 2 + 2 * otherModels);
      expect(await count()).toEqual({ log: 8, old_log: 0, feedback: 4, old_feedback: 0 });
      expect(await retention.sweep(now)).toMatchObject({ predictions: 0, feedback: 0 });
      await retention.close();
    } finally {
      await pool.end();
    }
  });
});

import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runner } from 'node-pg-migrate';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from '../../src/infra/embeddedPostgres';
import { MIGRATIONS_DIR } from '../../src/registry/db';

/**
 * The prediction log's move to one row per request keeps what a running deployment logged before it:
 * up, every request is one row with its rows and predictions in order; down, they are rows again.
 */
describe('prediction log migration to one row per request', () => {
  let dir: string;
  let postgres: EmbeddedPostgresHandle;
  let db: pg.Client;
  const migrations = (direction: 'up' | 'down', count?: number) =>
    runner({ databaseUrl: postgres.connectionString, dir: MIGRATIONS_DIR, direction, count, migrationsTable: 'pgmigrations', checkOrder: true, log: () => {} });

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lifecycle-logmig-'));
    await fs.chmod(dir, 0o755);
    postgres = await startEmbeddedPostgres({ dataDir: path.join(dir, 'postgres') });
    db = new pg.Client({ connectionString: postgres.connectionString });
    await db.connect();
  }, 120_000);
  afterAll(async () => {
    await db?.end();
    await postgres?.stop();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('turns each request\'s rows into one row (rows and predictions in order, errors and shadows kept) and back', async () => {
    const all = (await fs.readdir(MIGRATIONS_DIR)).filter((f) => f.endsWith('.sql')).sort();
    const before = all.indexOf('1764800000000_prediction-log-per-request.sql');
    await migrations('up', before);
    const [served, failed] = [randomUUID(), randomUUID()];
    const at = '2026-11-20T10:00:00.123456Z';
    await db.query(
      `INSERT INTO prediction_log (request_id, row_index, role, model_name, version, inputs, prediction, error, latency_ms, created_at) VALUES
        ($1, 2, 'serve', 'cars', 3, '{"year": 2012}', 30.5, NULL, 1.5, $3),
        ($1, 0, 'serve', 'cars', 3, '{"year": 2010}', 10.5, NULL, 1.5, $3),
        ($1, 1, 'serve', 'cars', 3, '{"year": 2011}', 20.5, NULL, 1.5, $3),
        ($1, 0, 'shadow', 'cars', 4, '{"year": 2010}', 11, NULL, 2, $3),
        ($1, 1, 'shadow', 'cars', 4, '{"year": 2011}', 21, NULL, 2, $3),
        ($1, 2, 'shadow', 'cars', 4, '{"year": 2012}', 31, NULL, 2, $3),
        ($2, 0, 'serve', 'cars', 3, '[{"year": "old"}]', NULL, 'RowsError: rows[0].year: expected a number', 0.5, $3)`,
      [served, failed, at],
    );
    await migrations('up');
    const up = await db.query('SELECT request_id, role, version, inputs, predictions, error, latency_ms, created_at FROM prediction_log ORDER BY request_id = $1 DESC, role', [served]);
    expect(up.rows).toEqual([
      { request_id: served, role: 'serve', version: 3, inputs: [{ year: 2010 }, { year: 2011 }, { year: 2012 }], predictions: [10.5, 20.5, 30.5], error: null, latency_ms: 1.5, created_at: new Date(at) },
      { request_id: served, role: 'shadow', version: 4, inputs: [{ year: 2010 }, { year: 2011 }, { year: 2012 }], predictions: [11, 21, 31], error: null, latency_ms: 2, created_at: new Date(at) },
      { request_id: failed, role: 'serve', version: 3, inputs: [{ year: 'old' }], predictions: null, error: 'RowsError: rows[0].year: expected a number', latency_ms: 0.5, created_at: new Date(at) },
    ]);

    await migrations('down', 1);
    const down = await db.query('SELECT request_id, row_index, role, inputs, prediction, error FROM prediction_log ORDER BY request_id = $1 DESC, role, row_index', [served]);
    expect(down.rows.map((r) => [r.request_id === served ? 'served' : 'failed', r.role, r.row_index, r.inputs, r.prediction, r.error])).toEqual([
      ['served', 'serve', 0, { year: 2010 }, 10.5, null],
      ['served', 'serve', 1, { year: 2011 }, 20.5, null],
      ['served', 'serve', 2, { year: 2012 }, 30.5, null],
      ['served', 'shadow', 0, { year: 2010 }, 11, null],
      ['served', 'shadow', 1, { year: 2011 }, 21, null],
      ['served', 'shadow', 2, { year: 2012 }, 31, null],
      ['failed', 'serve', 0, [{ year: 'old' }], null, 'RowsError: rows[0].year: expected a number'],
    ]);
    await migrations('up');
    expect((await db.query('SELECT count(*)::int AS n FROM prediction_log')).rows[0].n).toBe(3);
  }, 120_000);
});

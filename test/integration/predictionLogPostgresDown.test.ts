import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startApi, startWorker, type AppContext } from '../../src/app';
import { issueApprovalToken, requesterProof } from '../../src/auth/approvalToken';
import { loadConfig } from '../../src/config';
import { usedCarsCsv, USED_CAR_FEATURES, USED_CAR_TARGET } from '../../src/demo/usedCars';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from '../../src/infra/embeddedPostgres';
import { createLogger } from '../../src/logger';
import { migrate } from '../../src/registry/db';
import { WORKFLOW_TYPE, type LifecycleResult } from '../../src/workflows/definitions';
import { TEST_TOKENS, tokenOf, waitForStatus } from '../support/harness';

/**
 * The API and worker on a PostgreSQL of their own (the shared Temporal dev server), which the test stops
 * and starts again: predict keeps answering from the served model while PostgreSQL is down, the log's
 * drops are counted in /metrics, and once PostgreSQL is back new predictions are logged again.
 */
let dir: string;
let postgres: EmbeddedPostgresHandle;
let api: Awaited<ReturnType<typeof startApi>>;
let worker: Awaited<ReturnType<typeof startWorker>>;
const CAPACITY = 200;
const model = `pgdown-${randomUUID().slice(0, 6)}`;

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lifecycle-predlog-down-'));
  await fs.chmod(dir, 0o755); // as root, PostgreSQL runs as `postgres` and must traverse it
  postgres = await startEmbeddedPostgres({ dataDir: path.join(dir, 'postgres') });
  const log = createLogger('fatal');
  await migrate(postgres.connectionString, log);
  const config = loadConfig({
    DATA_DIR: path.join(dir, 'data'), TEMPORAL_TASK_QUEUE: `predlog-down-${randomUUID().slice(0, 8)}`, API_PORT: '0', LOG_LEVEL: 'fatal',
    PREDICTION_LOG_BUFFER: String(CAPACITY), PREDICTION_LOG_FLUSH_INTERVAL: '100ms',
  });
  const ctx: AppContext = { config, log, temporalAddress: inject('temporalAddress'), databaseUrl: postgres.connectionString, secrets: { approvalSecret: 'y'.repeat(40), tokens: TEST_TOKENS } };
  worker = await startWorker(ctx, { codePath: inject('workflowBundlePath') });
  api = await startApi(ctx, { worker });

  const file = path.join(config.dataDir, 'datasets', `${model}.csv`);
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, usedCarsCsv(1500, 11));
  const connection = await Connection.connect({ address: ctx.temporalAddress });
  try {
    const client = new Client({ connection });
    const workflowId = `${model}-run`;
    const handle = await client.workflow.start(WORKFLOW_TYPE, {
      taskQueue: config.TEMPORAL_TASK_QUEUE, workflowId,
      args: [{ modelName: model, datasetUri: file, target: USED_CAR_TARGET, features: USED_CAR_FEATURES, approvers: ['alice'], requestedBy: 'eve-engineer', requesterProof: requesterProof(ctx.secrets.approvalSecret, workflowId, 'eve-engineer') }],
    });
    await waitForStatus(handle, (s) => s.stage === 'awaiting-approval');
    const { runId } = await handle.describe();
    const token = issueApprovalToken(ctx.secrets.approvalSecret, { workflowId, runId, approver: 'alice', decision: 'approve' }, 3_600_000).token;
    await handle.signal('approve', { approver: 'alice', comment: '', token });
    expect(((await handle.result()) as LifecycleResult).outcome).toBe('deployed');
  } finally {
    await connection.close();
  }
}, 180_000);

afterAll(async () => {
  await api?.stop().catch(() => {});
  await worker?.stop().catch(() => {});
  await postgres?.stop();
  if (dir) await fs.rm(dir, { recursive: true, force: true });
});

const car = (i: number) => ({ make: 'Dacia', model: 'Sandero', year: 2010 + (i % 12), mileage_km: 50_000 + i, fuel: 'petrol', region: 'north' });
async function call(method: string, route: string, body?: unknown) {
  const r = await fetch(`${api.url}${route}`, {
    method,
    headers: { authorization: `Bearer ${tokenOf('ada-admin')}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await r.text();
  return { status: r.status, text, body: r.headers.get('content-type')?.includes('json') ? JSON.parse(text) : null };
}
async function metric(name: string): Promise<number> {
  const { text } = await call('GET', '/metrics');
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.slice(name.length + 1)) : 0;
}
async function logged(requestId: string): Promise<number> {
  const db = new pg.Client({ connectionString: postgres.connectionString });
  await db.connect();
  try {
    return (await db.query('SELECT count(*)::int AS n FROM prediction_log WHERE request_id = $1', [requestId])).rows[0].n;
  } finally {
    await db.end();
  }
}

describe('prediction log with PostgreSQL stopped', () => {
  it('predict keeps answering, drops are counted, and after PostgreSQL is back new predictions are logged', async () => {
    const first = await call('POST', `/models/${model}/predict`, { rows: [car(0)] });
    expect(first.status).toBe(200);
    for (let t = Date.now(); (await logged(first.body.requestId)) === 0; ) if (Date.now() - t > 10_000) throw new Error('first prediction never logged');

    await postgres.stop();
    const dropsBefore = await metric('lifecycle_prediction_log_dropped_rows_total{reason="buffer_full"}');
    let slowest = 0;
    for (let i = 0; i < 30; i++) {
      const t0 = Date.now();
      const r = await call('POST', `/models/${model}/predict`, { rows: Array.from({ length: 10 }, (_, k) => car(i * 10 + k)) });
      slowest = Math.max(slowest, Date.now() - t0);
      expect(r.status, r.text).toBe(200);
    }
    expect(await metric('lifecycle_prediction_log_buffer_rows')).toBe(CAPACITY);
    expect((await metric('lifecycle_prediction_log_dropped_rows_total{reason="buffer_full"}')) - dropsBefore).toBe(300 - CAPACITY);
    console.log(`prediction log, PostgreSQL stopped: 30 × 10-row predictions answered, slowest ${slowest} ms; ${CAPACITY} rows kept, ${300 - CAPACITY} dropped`);

    const port = Number(new URL(postgres.connectionString).port);
    postgres = await startEmbeddedPostgres({ dataDir: path.join(dir, 'postgres'), port });
    const back = Date.now();
    while ((await metric('lifecycle_prediction_log_buffer_rows')) > 0) {
      if (Date.now() - back > 20_000) throw new Error('the buffer did not drain after PostgreSQL came back');
      await new Promise((r) => setTimeout(r, 100));
    }
    const after = await call('POST', `/models/${model}/predict`, { rows: [car(1)] });
    expect(after.status).toBe(200);
    for (let t = Date.now(); (await logged(after.body.requestId)) === 0; ) if (Date.now() - t > 10_000) throw new Error('prediction after the restart never logged');
    console.log(`prediction log: drained ${CAPACITY} kept rows ${((Date.now() - back) / 1000).toFixed(1)} s after PostgreSQL came back`);
  }, 120_000);
});

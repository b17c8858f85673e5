import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { inject } from 'vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi, startWorker } from '../../src/app';
import { loadConfig } from '../../src/config';
import { startTemporalDevServer, type DevServerHandle } from '../../src/infra/devServer';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from '../../src/infra/embeddedPostgres';
import { createLogger } from '../../src/logger';
import { migrate } from '../../src/registry/db';
import { SEARCH_ATTRIBUTES } from '../../src/workflows/searchAttributes';
import { TEST_TOKENS, tokenOf } from '../support/harness';

/**
 * The worker and the API in process against a Temporal dev server and a PostgreSQL of their own, which
 * the test stops for good (no supervisor here): every request still answers within seconds, 503 with
 * the dependency's name, readiness names it, and nothing crashes.
 */
let dir: string;
let temporal: DevServerHandle;
let postgres: EmbeddedPostgresHandle;
let api: Awaited<ReturnType<typeof startApi>>;
let worker: Awaited<ReturnType<typeof startWorker>>;

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lifecycle-down-'));
  await fs.chmod(dir, 0o755); // as root, PostgreSQL runs as `postgres` and must traverse it
  [temporal, postgres] = await Promise.all([
    startTemporalDevServer({ port: 0, uiPort: false, searchAttributes: SEARCH_ATTRIBUTES }),
    startEmbeddedPostgres({ dataDir: path.join(dir, 'postgres') }),
  ]);
  const log = createLogger('fatal');
  await migrate(postgres.connectionString, log);
  const config = loadConfig({ DATA_DIR: path.join(dir, 'data'), TEMPORAL_TASK_QUEUE: 'down', API_PORT: '0', LOG_LEVEL: 'fatal' });
  const ctx = { config, log, temporalAddress: temporal.address, databaseUrl: postgres.connectionString, secrets: { approvalSecret: 'x'.repeat(40), tokens: TEST_TOKENS } };
  worker = await startWorker(ctx, { codePath: inject('workflowBundlePath') });
  api = await startApi(ctx, { worker });
}, 120_000);

afterAll(async () => {
  await api?.stop().catch(() => {});
  await worker?.stop().catch(() => {});
  await temporal?.stop();
  await postgres?.stop();
  if (dir) await fs.rm(dir, { recursive: true, force: true });
});

async function call(method: string, url: string, body?: unknown) {
  const t0 = Date.now();
  const res = await fetch(`${api.url}${url}`, {
    method,
    headers: { authorization: `Bearer ${tokenOf('ada-admin')}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  return { status: res.status, body: (await res.json()) as any, ms: Date.now() - t0 };
}

describe('dependencies that stay down', () => {
  it('all up: ready', async () => {
    const r = await call('GET', '/health/ready');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ ready: true, down: [], dependencies: { temporal: { state: 'up' }, postgres: { state: 'up' }, worker: { state: 'up' } } });
  });

  it('PostgreSQL stopped: 503 naming postgres, fast; readiness says so; liveness does not', async () => {
    expect((await call('GET', '/models')).status).toBe(200); // leaves an idle pooled connection behind
    await postgres.stop();
    for (const url of ['/models', '/models/x/versions', '/lifecycles/x/decisions']) {
      const r = await call('GET', url);
      expect(r.status, `${url}: ${JSON.stringify(r.body)}`).toBe(503);
      expect(r.body.error).toMatch(/^postgres unavailable: /);
      expect(r.ms).toBeLessThan(5_000);
    }
    const ready = await call('GET', '/health/ready');
    expect(ready.status).toBe(503);
    expect(ready.body.down).toEqual(['postgres']);
    expect(ready.body.error).toMatch(/^postgres unavailable: /);
    expect((await call('GET', '/health')).status).toBe(200);
    expect((await call('GET', '/health/live')).status).toBe(200);
  });

  it('Temporal stopped: 503 naming temporal within 5 s (not 500 after 20 s) for status, start and decisions', async () => {
    await temporal.stop();
    const requests: [string, string, unknown?][] = [
      ['GET', '/lifecycles/some-run'],
      ['POST', '/lifecycles/some-run/approve', { comment: '' }],
      ['POST', '/lifecycles/some-run/approval-token', {}],
    ];
    for (const [method, url, body] of requests) {
      const r = await call(method, url, body);
      console.log(`dependencyDown: ${method} ${url} with Temporal down: ${r.status} in ${r.ms} ms: ${r.body.error}`);
      expect(r.status, `${method} ${url}: ${JSON.stringify(r.body)}`).toBe(503);
      expect(r.body.error).toMatch(/^temporal unavailable: /);
      expect(r.ms).toBeLessThan(5_000);
    }
    const ready = await call('GET', '/health/ready');
    expect(ready.status).toBe(503);
    expect(ready.body.down).toEqual(expect.arrayContaining(['temporal', 'postgres']));
    expect(ready.ms).toBeLessThan(5_000);
  }, 60_000);
});

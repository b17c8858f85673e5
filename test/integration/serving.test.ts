import { createHash, randomUUID } from 'node:crypto';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { startApi, type AppContext } from '../../src/app';
import { createLogger } from '../../src/logger';
import { createPool } from '../../src/registry/db';
import { usedCarsCsv, USED_CAR_FEATURES, USED_CAR_TARGET } from '../../src/demo/usedCars';
import { approveSignal } from '../../src/workflows/definitions';
import { resultOf, startHarness, TEST_TOKENS, tokenOf, waitForStatus, type Harness } from '../support/harness';

let h: Harness;
/** A second API process's worth of serving (its own pool, LISTEN connection and cache), resyncing every 300 ms. */
let other: Awaited<ReturnType<typeof startApi>>;
const pool = createPool(inject('databaseUrl'));
const otherCtx = (): AppContext => ({
  config: h.config,
  log: createLogger(h.config.LOG_LEVEL),
  temporalAddress: inject('temporalAddress'),
  databaseUrl: inject('databaseUrl'),
  secrets: { approvalSecret: `other-${randomUUID()}`, tokens: TEST_TOKENS },
});
const model = `serve-${randomUUID().slice(0, 8)}`;
const car = { make: 'Toyota', model: 'Corolla', year: 2018, mileage_km: 64000, fuel: 'petrol', region: 'north' };

beforeAll(async () => {
  h = await startHarness('serving', { api: true });
  await deploy(1);
}, 120_000);
afterAll(async () => {
  await other?.stop();
  await pool.end();
  await h?.stop();
});

/** One whole lifecycle of `model`, approved at once; resolves when deployed. */
async function deploy(seed: number) {
  const file = await h.writeDataset(`${model}-${seed}.csv`, usedCarsCsv(1500, 100 + seed));
  const handle = await h.start({ modelName: model, datasetUri: file, target: USED_CAR_TARGET, features: USED_CAR_FEATURES, approvers: ['alice'], requestedBy: 'eve-engineer' });
  await waitForStatus(handle, (s) => s.stage === 'awaiting-approval');
  await handle.signal(approveSignal, await h.decision(handle, 'alice'));
  const result = await resultOf(handle);
  expect(result.outcome).toBe('deployed');
  return result.version!;
}

async function predict(url: string, query = '') {
  const response = await fetch(`${url}/models/${model}/predict${query}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${tokenOf('vic-viewer')}`, 'content-type': 'application/json' },
    body: JSON.stringify({ rows: [car] }),
  });
  return { status: response.status, body: (await response.json()) as any };
}

async function move(alias: string, version: number) {
  const target = (await h.registry.listVersions(model)).find((v) => v.version === version)!;
  await h.registry.moveAlias({ modelName: model, alias, versionId: target.id, movedBy: 'test', reason: 'test', moveKey: `test-${randomUUID()}` });
}

/** Polls until `check` holds; returns the milliseconds it took. */
async function within(ms: number, check: () => Promise<boolean>): Promise<number> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > ms) throw new Error(`not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return Date.now() - started;
}

describe('serving: aliases in memory, pinned versions, deploys under load', () => {
  it('pins a version or an alias; an unknown one is a 404 that names it; bad pins are 400s naming the field', async () => {
    expect((await predict(h.api!.url)).body).toMatchObject({ model, version: 1 });
    expect((await predict(h.api!.url, '?version=1')).body).toMatchObject({ version: 1 });
    expect(await predict(h.api!.url, '?version=9')).toMatchObject({ status: 404, body: { error: `model "${model}" has no version 9` } });
    expect(await predict(h.api!.url, '?alias=staging')).toMatchObject({ status: 404, body: { error: `model "${model}" has no alias "staging"` } });
    await move('staging', 1);
    await within(2_000, async () => (await predict(h.api!.url, '?alias=staging')).status === 200);
    expect((await predict(h.api!.url, '?alias=staging')).body).toMatchObject({ version: 1 });

    const zero = await predict(h.api!.url, '?version=0');
    expect(zero.status).toBe(400);
    expect(zero.body.error).toMatch(/version/);
    const both = await predict(h.api!.url, '?version=1&alias=staging');
    expect(both.status).toBe(400);
    expect(both.body.error).toMatch(/alias: give either version or alias, not both/);
    const badAlias = await predict(h.api!.url, '?alias=-x');
    expect(badAlias.status).toBe(400);
    expect(badAlias.body.error).toMatch(/alias/);
    expect((await predict(h.api!.url, '?colour=red')).status).toBe(400);
  });

  it('a version whose model file is gone answers 503 naming the version, not a 500, and other versions still serve', async () => {
    const [v1] = await h.registry.listVersions(model);
    const sha = createHash('sha256').update(randomUUID()).digest('hex');
    const lost = await h.registry.registerModelVersion({
      ...v1, modelName: model, runKey: `lost-${randomUUID()}`, params: {}, trainingMetrics: {}, createdBy: 'test',
      artifact: { uri: pathToFileURL(path.join(h.config.artifactDir, 'models', sha.slice(0, 2), `${sha}.onnx`)).href, sha256: sha, bytes: 10 },
    });
    const answer = await predict(h.api!.url, `?version=${lost.version}`);
    expect(answer).toMatchObject({ status: 503, body: { error: expect.stringContaining(`version ${lost.version} of model "${model}" cannot be loaded`) } });
    expect((await predict(h.api!.url, '?version=1')).status).toBe(200);
  });

  it('a move by another connection reaches the cache within a second through NOTIFY, with no query per request', async () => {
    other = await startApi(otherCtx(), { aliasResyncMs: 3_600_000 });
    await within(5_000, async () => other.aliases.listening);
    expect((await predict(other.url)).body.version).toBe(1);
    const loads = other.aliases.stats.loads;
    for (let i = 0; i < 50; i++) expect((await predict(other.url)).status).toBe(200);
    expect(other.aliases.stats.loads).toBe(loads); // served from memory

    await move('canary', 1);
    const ms = await within(1_000, async () => (await predict(other.url, '?alias=canary')).status === 200);
    expect(ms).toBeLessThan(1_000);
    expect(other.aliases.stats.notifications).toBeGreaterThan(0);
  });

  it('heals without a notification: a dropped LISTEN connection reconnects and resyncs, and the periodic resync catches a lost one', async () => {
    await other.stop();
    other = await startApi(otherCtx(), { aliasResyncMs: 300 });
    await within(5_000, async () => other.aliases.listening);
    expect((await predict(other.url, '?alias=shadow')).status).toBe(404);
    // A move nobody is told about: the trigger is bypassed for this transaction.
    const v1 = (await h.registry.listVersions(model)).find((v) => v.version === 1)!;
    const notifications = other.aliases.stats.notifications;
    const resyncs = other.aliases.stats.resyncs;
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query("SET LOCAL session_replication_role = 'replica'"); // triggers do not fire
      await client.query("INSERT INTO aliases (model_name, alias, version_id) VALUES ($1, 'shadow', $2)", [model, v1.id]);
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    await within(2_000, async () => (await predict(other.url, '?alias=shadow')).status === 200);
    expect(other.aliases.stats.notifications).toBe(notifications); // healed by the resync, not told
    expect(other.aliases.stats.resyncs).toBeGreaterThan(resyncs);

    // The LISTEN connection killed by the server: it reconnects and reads everything again.
    const connects = other.aliases.stats.connects;
    await pool.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = 'LISTEN lifecycle_aliases' AND pid <> pg_backend_pid()");
    await within(5_000, async () => other.aliases.stats.connects > connects && other.aliases.listening);
    expect((await predict(other.url)).status).toBe(200);
  });

  it('a deploy during sustained concurrent requests fails none and ends serving the new version', async () => {
    let running = true;
    const seen: number[] = [];
    const failures: string[] = [];
    const clients = Array.from({ length: 32 }, async () => {
      while (running) {
        const r = await predict(h.api!.url).catch((e: Error) => ({ status: 0, body: { error: e.message } }));
        if (r.status === 200) seen.push(r.body.version);
        else failures.push(`${r.status}: ${r.body.error}`);
      }
    });
    await within(5_000, async () => seen.length > 200);
    const version = await deploy(2); // a real lifecycle: its deploy activity moves production
    await within(2_000, async () => seen.at(-1) === version);
    const after = seen.length;
    await within(5_000, async () => seen.length > after + 200);
    running = false;
    await Promise.all(clients);
    expect(failures).toEqual([]);
    expect(seen.length).toBeGreaterThan(400);
    expect(seen.slice(-100)).toEqual(seen.slice(-100).map(() => version)); // the new version serves from then on
    expect(new Set(seen)).toEqual(new Set([1, version]));
  }, 120_000);
});

import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ActivityDeps } from '../../src/activities';
import { dataActivities, type DatasetVersion, type ValidationSummary } from '../../src/activities/data';
import { trainingActivities, type CandidateModel, type TrainInput } from '../../src/activities/training';
import { LocalArtifactStore } from '../../src/artifacts/store';
import { ComputePool } from '../../src/compute/pool';
import { usedCarsCsv, USED_CAR_FEATURES, USED_CAR_TARGET } from '../../src/demo/usedCars';
import { createPool } from '../../src/registry/db';
import { MonitoringRegistry } from '../../src/registry/monitoring';
import { Registry } from '../../src/registry/registry';
import { DataPolicy } from '../../src/schemas/lifecycle';

/**
 * The lost run: PostgreSQL down while training, every retry trained again from scratch. Here the
 * real trainModel activity trains, fails at the registry write (nothing listens on the database port),
 * and its retry, with the database back, registers the kept model without training again.
 */
let dataDir: string;
let store: LocalArtifactStore;
const compute = new ComputePool(1);
const livePool = createPool(inject('databaseUrl'));
const deadPool = createPool('postgres://lifecycle:nope@127.0.0.1:1/lifecycle');

beforeAll(async () => {
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'lifecycle-resume-'));
  store = new LocalArtifactStore(path.join(dataDir, 'artifacts'));
});
afterAll(async () => {
  await compute.close();
  await livePool.end();
  await deadPool.end().catch(() => {});
  await fs.rm(dataDir, { recursive: true, force: true });
});

const quiet = { logger: new DefaultLogger('WARN') };
const deps = (registry: Registry): ActivityDeps => ({
  store,
  registry,
  monitoring: new MonitoringRegistry(livePool),
  compute,
  ingest: { roots: [path.join(dataDir, 'datasets')], protectedDirs: [] },
  approvalSecret: 'unused-here-0123456789abcdef0123456789',
  engine: { spillDir: path.join(dataDir, 'scratch', 'duckdb') },
  scratchDir: path.join(dataDir, 'scratch'),
  reportLinks: { secret: 'unused-here-0123456789abcdef0123456789', baseUrl: 'http://127.0.0.1:3000', ttlMs: 60_000 },
});

describe('trainModel retried after the registry failed', () => {
  it('registers the model trained by the failed attempt, and trains only once', async () => {
    const modelName = `resume-${randomUUID().slice(0, 8)}`;
    // The dataset as the lifecycle hands it to training: ingested (its typed Parquet form) and validated (registered, with its schema).
    const file = path.join(dataDir, 'datasets', 'used-cars.csv');
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, usedCarsCsv(3000, 41));
    const run = { workflowId: `resume-data-${randomUUID().slice(0, 8)}`, runId: randomUUID() };
    const data = dataActivities(deps(new Registry(livePool)));
    const dataset = (await new MockActivityEnvironment({ workflowExecution: run, activityId: '1', activityType: 'ingestDataset' }, quiet).run(data.ingestDataset, {
      modelName,
      sourceUri: file,
    })) as DatasetVersion;
    const validation = (await new MockActivityEnvironment({ workflowExecution: run, activityId: '2', activityType: 'validateDataset' }, quiet).run(data.validateDataset, {
      modelName,
      dataset,
      target: USED_CAR_TARGET,
      features: USED_CAR_FEATURES,
      policy: DataPolicy.parse({}),
    })) as ValidationSummary;
    expect(dataset.table.uri).toMatch(/\.parquet$/);
    const input: TrainInput = {
      modelName,
      dataset,
      schema: validation.schema,
      target: USED_CAR_TARGET,
      features: validation.features,
      trainer: { name: 'ridge', params: { alpha: 1, maxCategories: 50, minCategoryCount: 1 } },
      split: { seed: 42, holdoutFraction: 0.2 },
      requestedBy: 'eve',
    };
    const workflowExecution = { workflowId: `resume-${randomUUID().slice(0, 8)}`, runId: randomUUID() };
    const attempt = (n: number) => new MockActivityEnvironment({ workflowExecution, activityId: '5', activityType: 'trainModel', attempt: n }, quiet);

    const failed = await attempt(1).run(trainingActivities(deps(new Registry(deadPool))).trainModel, input).catch((e) => e);
    expect(failed).toBeInstanceOf(Error);
    expect(failed).not.toBeInstanceOf(ApplicationFailure); // an infrastructure error: Temporal retries it
    expect(compute.completed.train).toBe(1);

    const live = trainingActivities(deps(new Registry(livePool)));
    const candidate = (await attempt(2).run(live.trainModel, input)) as CandidateModel;
    expect(compute.completed.train).toBe(1); // not trained again
    expect(candidate).toMatchObject({ version: 1 });
    expect((await fs.stat(store.localPath(candidate.artifact))).size).toBe(candidate.artifact.bytes);

    // A third attempt (say the completion was lost) finds both the kept model and the registered version.
    const again = (await attempt(3).run(live.trainModel, input)) as CandidateModel;
    expect(again.versionId).toBe(candidate.versionId);
    expect(compute.completed.train).toBe(1);
    expect(await new Registry(livePool).listVersions(modelName)).toHaveLength(1);

    // The kept model belongs to that run and activity: another run trains its own.
    const other = new MockActivityEnvironment({ workflowExecution: { ...workflowExecution, runId: randomUUID() }, activityId: '5', activityType: 'trainModel' }, quiet);
    const second = (await other.run(live.trainModel, input)) as CandidateModel;
    expect(compute.completed.train).toBe(2);
    expect(second.version).toBe(2);
  });
});

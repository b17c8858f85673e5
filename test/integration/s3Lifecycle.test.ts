import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usedCarsCsv, USED_CAR_FEATURES, USED_CAR_TARGET } from '../../src/demo/usedCars';
import { callApi, startHarness, waitForStatus, type Harness } from '../support/harness';
import { adminS3 } from '../support/s3';

/** A real HTTP call to this file's API. */
const call = (method: string, route: string, as: string | null, body?: unknown) => callApi(h.api!.url, method, route, as, body);

/**
 * The whole lifecycle with S3 on both ends: the dataset read from s3://, and every artifact (dataset
 * copy, typed table, reports, model, checkpoints) kept in an S3 artifact store, on the run's MinIO.
 */
let h: Harness;
beforeAll(async () => {
  h = await startHarness('s3-lifecycle', { api: true, s3: true });
});
afterAll(async () => h?.stop());

const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');

describe('a lifecycle on S3: dataset from s3://, artifacts in an S3 store', () => {
  it('ingests from S3, stores everything in the bucket, deploys, and serves predictions from the S3 model', async () => {
    const model = `s3-cars-${randomUUID().slice(0, 6)}`;
    const csv = usedCarsCsv(2000, 51);
    const datasetUri = await h.writeS3Dataset(`${model}/cars.csv`, csv);
    const started = await call('POST', '/lifecycles', 'eve-engineer', { modelName: model, datasetUri, target: USED_CAR_TARGET, features: USED_CAR_FEATURES, approvers: ['alice'] });
    expect(started.status).toBe(201);
    const handle = h.client.workflow.getHandle(started.body.workflowId);

    const waiting = await waitForStatus(handle, (s) => s.stage === 'awaiting-approval' || s.outcome !== null, 90_000);
    expect(waiting.stage).toBe('awaiting-approval');
    expect(waiting.dataset?.sha256).toBe(sha256(csv));
    expect(waiting.evaluation!.gate.blessed).toBe(true);

    const approved = await call('POST', `/lifecycles/${handle.workflowId}/approve`, 'alice', { comment: 'from the lake' });
    expect(approved.status).toBe(200);
    const done = await waitForStatus(handle, (s) => s.stage === 'done', 60_000);
    expect(done.outcome).toBe('deployed');

    // The model version points into the bucket, and the object there has the recorded hash.
    const production = (await h.registry.resolveAlias(model, 'production'))!;
    const prefix = `s3://${h.bucket}/artifacts/`;
    expect(production.artifact.uri.startsWith(`${prefix}models/`)).toBe(true);
    const key = production.artifact.uri.slice(`s3://${h.bucket}/`.length);
    const object = await adminS3().send(new GetObjectCommand({ Bucket: h.bucket!, Key: key }));
    expect(sha256(await object.Body!.transformToByteArray())).toBe(production.artifact.sha256);

    // Every artifact went to S3: datasets, reports, models and the checkpoints; none to DATA_DIR/artifacts.
    const listed = await adminS3().send(new ListObjectsV2Command({ Bucket: h.bucket!, Prefix: 'artifacts/' }));
    const kinds = new Set((listed.Contents ?? []).map((o) => o.Key!.split('/')[1]));
    expect([...kinds]).toEqual(expect.arrayContaining(['datasets', 'models', 'reports', 'named']));
    expect((listed.Contents ?? []).some((o) => o.Key === `artifacts/datasets/${sha256(csv).slice(0, 2)}/${sha256(csv)}.csv`)).toBe(true);
    await expect(fs.stat(path.join(h.config.dataDir, 'artifacts'))).rejects.toMatchObject({ code: 'ENOENT' });

    // The API's predictor loads the deployed model from S3.
    const row = { make: 'BMW', model: 'X3', year: 2025, mileage_km: 8000, fuel: 'hybrid', region: 'london' };
    const predicted = await call('POST', `/models/${model}/predict`, 'vic-viewer', { rows: [row] });
    expect(predicted.status).toBe(200);
    expect(predicted.body.predictions[0]).toBeGreaterThan(30_000);
  });

  it('the API refuses, with 400 naming datasetUri, S3 URIs the worker would refuse', async () => {
    const base = { modelName: `s3-refused-${randomUUID().slice(0, 6)}`, target: USED_CAR_TARGET, features: USED_CAR_FEATURES, approvers: ['alice'] };
    for (const [datasetUri, message] of [
      [`s3://${h.bucket}/incoming/nothing-here-*.csv`, 'no objects match'],
      [`s3://${h.bucket}/artifacts/`, 'is in the artifact store'],
      [`s3://${h.bucket}/incoming/../artifacts/x.csv`, '".." segment'],
      [`s3://${h.bucket}`, 'names a bucket but no object'],
    ] as const) {
      const answer = await call('POST', '/lifecycles', 'eve-engineer', { ...base, datasetUri });
      expect(answer.status, datasetUri).toBe(400);
      expect(answer.body.error, datasetUri).toMatch(/^invalid body: datasetUri: /);
      expect(answer.body.error, datasetUri).toContain(message);
    }
  });
});

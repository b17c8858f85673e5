import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SourcePolicy } from '../../src/data/source';
import { freePort } from '../../src/infra/net';
import { fakeApi } from '../support/fakeApi';
import { tokenOf } from '../support/harness';

/** POST /lifecycles checks dataset URIs with the worker's source policy before starting anything. */
let base: string;
let root: string;
let policy: SourcePolicy;
const headers = { 'content-type': 'application/json', authorization: `Bearer ${tokenOf('eve-engineer')}` };
const start = (datasetUri: string, extra: Record<string, unknown> = {}) => ({ modelName: 'cars', datasetUri, target: 'price', features: ['year'], approvers: ['alice'], ...extra });

beforeAll(async () => {
  base = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), 'lifecycle-api-uris-')));
  root = path.join(base, 'data');
  await fs.mkdir(path.join(root, '.hidden'), { recursive: true });
  await fs.writeFile(path.join(root, 'cars.csv'), 'year,price\n2020,1\n');
  await fs.writeFile(path.join(root, '.env'), 'APPROVAL_SECRET=s3cr3t');
  await fs.writeFile(path.join(root, '.hidden', 'cars.csv'), 'year,price\n');
  await fs.writeFile(path.join(base, 'outside.csv'), 'year,price\n');
  policy = {
    roots: [root],
    protectedDirs: [],
    s3: { endpoint: `http://127.0.0.1:${await freePort()}`, region: 'us-east-1', accessKeyId: 'k', secretAccessKey: 'not-the-real-secret', forcePathStyle: true, anonymous: false },
    s3Buckets: ['lake'],
  };
});
afterAll(async () => {
  if (base) await fs.rm(base, { recursive: true, force: true });
});

describe('POST /lifecycles refuses dataset URIs the worker would refuse', () => {
  it.each([
    ['outside the roots', () => path.join(base, 'outside.csv'), 'outside the allowed data directories'],
    ['a hidden file', () => path.join(root, '.env'), 'hidden file'],
    ['a file in a hidden directory', () => path.join(root, '.hidden', 'cars.csv'), 'hidden file'],
    ['an unsupported scheme', () => 'https://example.com/cars.csv', 'unsupported URI scheme'],
    ['parent references', () => `${root}/../outside.csv`, 'contains ".."'],
    ['a missing file', () => path.join(root, 'nope.csv'), 'does not exist'],
    ['a glob matching nothing', () => path.join(root, 'sales-*.csv'), 'no files match'],
    ['a bucket outside INGEST_S3_BUCKETS', () => 's3://other-bucket/cars.csv', 'INGEST_S3_BUCKETS'],
  ])('%s: 400 naming datasetUri, and no run started', async (_what, uri, message) => {
    const { app, calls } = await fakeApi({ deps: { sources: policy } });
    const r = await app.inject({ method: 'POST', url: '/lifecycles', headers, payload: start(uri()) });
    expect(r.statusCode).toBe(400);
    expect(r.json().error).toMatch(/^invalid body: datasetUri: /);
    expect(r.json().error).toContain(message);
    expect(r.json().error).not.toContain('s3cr3t');
    expect(calls.started).toHaveLength(0);
  });

  it('checks data.schemaUri the same way', async () => {
    const { app, calls } = await fakeApi({ deps: { sources: policy } });
    const r = await app.inject({ method: 'POST', url: '/lifecycles', headers, payload: start(path.join(root, 'cars.csv'), { data: { schemaUri: '/etc/passwd' } }) });
    expect(r.statusCode).toBe(400);
    expect(r.json().error).toMatch(/^invalid body: data\.schemaUri: .*outside the allowed data directories/);
    expect(calls.started).toHaveLength(0);
  });

  it('starts the run for a dataset the policy allows', async () => {
    const { app, calls } = await fakeApi({ deps: { sources: policy } });
    const r = await app.inject({ method: 'POST', url: '/lifecycles', headers, payload: start(path.join(root, 'cars.csv')) });
    expect(r.statusCode).toBe(201);
    expect(calls.started).toHaveLength(1);
  });

  it('answers 503 naming S3 when S3 cannot be reached, never the secret', async () => {
    const { app, calls } = await fakeApi({ deps: { sources: policy } });
    const r = await app.inject({ method: 'POST', url: '/lifecycles', headers, payload: start('s3://lake/sales/2026-11-*.parquet') });
    expect(r.statusCode).toBe(503);
    expect(r.json().error).toMatch(/^s3 unavailable: datasetUri: S3 at http:\/\/127\.0\.0\.1:\d+ failed while reading "s3:\/\/lake\/sales\/2026-11-\*\.parquet" .*ECONNREFUSED.*retry later/);
    expect(r.json().error).not.toContain('not-the-real-secret');
    expect(calls.started).toHaveLength(0);
  });
});

import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { usedCarsCsv, USED_CAR_FEATURES, USED_CAR_TARGET } from '../../src/demo/usedCars';
import { callApi, startHarness, tokenOf, type Harness } from '../support/harness';

/** A real HTTP call to this file's API. */
const call = (method: string, route: string, as: string | null, body?: unknown) => callApi(h.api!.url, method, route, as, body);

let h: Harness;
beforeAll(async () => {
  h = await startHarness('api', { api: true });
});
afterAll(async () => h?.stop());

/** A call with a raw JSON text body (for what JSON.stringify cannot produce: 1e309, a __proto__ key). */
async function rawCall(method: string, route: string, as: string, body: string) {
  const response = await fetch(`${h.api!.url}${route}`, { method, headers: { authorization: `Bearer ${tokenOf(as)}`, 'content-type': 'application/json' }, body });
  return { status: response.status, body: (await response.json()) as any };
}

async function waitForStage(id: string, stage: string) {
  for (let i = 0; i < 300; i++) {
    const run = await call('GET', `/lifecycles/${id}`, 'vic-viewer');
    expect(run.body.failure).toBeNull();
    if (run.body.status?.stage === stage) return run.body;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`run ${id} never reached ${stage}`);
}

describe('HTTP API end to end', () => {
  it('start → status → approve → predict returns a sensible price', async () => {
    const model = `api-cars-${randomUUID().slice(0, 6)}`;
    const file = await h.writeDataset(`${model}.csv`, usedCarsCsv(3000, 31));
    const started = await call('POST', '/lifecycles', 'eve-engineer', {
      modelName: model, datasetUri: file, target: USED_CAR_TARGET, features: USED_CAR_FEATURES, approvers: ['alice'],
    });
    expect(started.status).toBe(201);
    const id = started.body.workflowId;

    const waiting = await waitForStage(id, 'awaiting-approval');
    expect(waiting.status.requestedBy).toBe('eve-engineer');
    expect(waiting.status.evaluation.gate.blessed).toBe(true);

    const approved = await call('POST', `/lifecycles/${id}/approve`, 'alice', { comment: 'metrics look right' });
    expect(approved).toMatchObject({ status: 200, body: { accepted: true, approver: 'alice' } });
    const done = await waitForStage(id, 'done');
    expect(done.status.outcome).toBe('deployed');
    expect(done.temporalStatus).toBe('COMPLETED');

    const cheapOld = { make: 'Dacia', model: 'Sandero', year: 2010, mileage_km: 180000, fuel: 'petrol', region: 'north' };
    const newBmw = { make: 'BMW', model: 'X3', year: 2025, mileage_km: 8000, fuel: 'hybrid', region: 'london' };
    const missingMileage = { ...newBmw, mileage_km: null };
    const predicted = await call('POST', `/models/${model}/predict`, 'vic-viewer', { rows: [cheapOld, newBmw, missingMileage] });
    expect(predicted.status).toBe(200);
    expect(predicted.body).toMatchObject({ model, version: 1 });
    const [old, fresh, imputed] = predicted.body.predictions;
    expect(fresh).toBeGreaterThan(30_000);
    expect(fresh).toBeLessThan(80_000);
    expect(old).toBeLessThan(fresh / 3);
    expect(Number.isFinite(imputed)).toBe(true);

    const versions = await call('GET', `/models/${model}/versions`, 'vic-viewer');
    expect(versions.body.versions[0]).toMatchObject({ version: 1, status: 'deployed', approvedBy: ['alice'] });
    const audit = await call('GET', `/lifecycles/${id}/decisions`, 'vic-viewer');
    expect(audit.body.decisions).toMatchObject([{ approver: 'alice', accepted: true, comment: 'metrics look right' }]);
  });

  it('authenticates callers and enforces roles and the four-eyes rule', async () => {
    const model = `api-auth-${randomUUID().slice(0, 6)}`;
    const body = { modelName: model, datasetUri: await h.writeDataset(`${model}.csv`, usedCarsCsv(300, 32)), target: 'price', features: USED_CAR_FEATURES, approvers: ['alice', 'ada-admin'] };
    expect((await call('POST', '/lifecycles', null, body)).status).toBe(401);
    expect((await call('GET', '/models', null)).status).toBe(401);
    expect((await call('POST', '/lifecycles', 'vic-viewer', body)).status).toBe(403);
    expect((await call('POST', '/lifecycles', 'alice', body)).status).toBe(403);
    expect((await call('POST', '/lifecycles', 'eve-engineer', { ...body, requestedBy: 'alice' })).status).toBe(400);

    const started = await call('POST', '/lifecycles', 'ada-admin', body);
    expect(started.status).toBe(201);
    const id = started.body.workflowId;
    await waitForStage(id, 'awaiting-approval');
    expect((await call('POST', `/lifecycles/${id}/approve`, 'eve-engineer', {})).status).toBe(403);
    const self = await call('POST', `/lifecycles/${id}/approve`, 'ada-admin', {});
    expect(self.status).toBe(403);
    expect(self.body.error).toMatch(/four-eyes/);
    expect(self.body.verdict).toMatchObject({ approver: 'ada-admin', state: 'refused' });
    const bob = await call('POST', `/lifecycles/${id}/approve`, 'bob', {});
    expect(bob.status).toBe(403);
    expect(bob.body.error).toMatch(/"bob" is not an approver/);
    const rejected = await call('POST', `/lifecycles/${id}/reject`, 'alice', { comment: 'not this week' });
    expect(rejected).toMatchObject({ status: 200, body: { accepted: true, state: 'accepted', approver: 'alice' } });
    expect((await waitForStage(id, 'done')).status.outcome).toBe('rejected');
    // A closed run answers 409 with its outcome (it used to be 404 while GET answered 200).
    const late = await call('POST', `/lifecycles/${id}/approve`, 'alice', {});
    expect(late.status).toBe(409);
    expect(late.body.error).toMatch(/outcome "rejected"/);
    expect((await call('POST', `/lifecycles/${id}/approval-token`, 'alice')).status).toBe(409);
  });

  it('gives each of two approvers deciding at the same moment the verdict on their own decision', async () => {
    const model = `api-pair-${randomUUID().slice(0, 6)}`;
    // Started with the plain client and no requester proof: the requester is unverified, two approvals are needed.
    const handle = await h.start(
      { modelName: model, datasetUri: await h.writeDataset(`${model}.csv`, usedCarsCsv(400, 33)), target: USED_CAR_TARGET, features: USED_CAR_FEATURES, approvers: ['alice', 'bob'], requestedBy: 'eve-engineer' },
      undefined,
      { verified: false },
    );
    const waiting = await waitForStage(handle.workflowId, 'awaiting-approval');
    expect(waiting.status).toMatchObject({ requesterVerified: false, approvalsRequired: 2 });
    const [a, b] = await Promise.all([
      call('POST', `/lifecycles/${handle.workflowId}/approve`, 'alice', { comment: 'from alice' }),
      call('POST', `/lifecycles/${handle.workflowId}/approve`, 'bob', { comment: 'from bob' }),
    ]);
    expect(a).toMatchObject({ status: 200, body: { approver: 'alice', comment: 'from alice', accepted: true } });
    expect(b).toMatchObject({ status: 200, body: { approver: 'bob', comment: 'from bob', accepted: true } });
    expect([a.body.final, b.body.final].sort()).toEqual([false, true]);
    expect((await waitForStage(handle.workflowId, 'done')).status.outcome).toBe('deployed');
  });

  it('issues an approval token whose Temporal CLI command decides the run', async () => {
    const cli = inject('temporalCliPath');
    if (!cli) return; // no CLI binary on this machine (the SDK downloaded the dev server)
    const model = `api-cli-${randomUUID().slice(0, 6)}`;
    const started = await call('POST', '/lifecycles', 'eve-engineer', {
      modelName: model, datasetUri: await h.writeDataset(`${model}.csv`, usedCarsCsv(400, 34)), target: USED_CAR_TARGET, features: USED_CAR_FEATURES, approvers: ['alice'],
    });
    const id = started.body.workflowId;
    await waitForStage(id, 'awaiting-approval');
    const issued = await call('POST', `/lifecycles/${id}/approval-token`, 'alice', { decision: 'reject' });
    expect(issued).toMatchObject({ status: 200, body: { approver: 'alice', decision: 'reject', runId: started.body.runId, signalName: 'reject' } });
    expect(issued.body.temporalCli.startsWith(`${cli} workflow signal `)).toBe(true);
    await promisify(execFile)('sh', ['-c', issued.body.temporalCli]);
    expect((await waitForStage(id, 'done')).status.outcome).toBe('rejected');
  });

  it('authenticates before reading the body, over real HTTP', async () => {
    const huge = await fetch(`${h.api!.url}/models/any/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: `{"rows":[${'1,'.repeat(600_000)}` });
    expect(huge.status).toBe(401);
    const invalid = await call('POST', '/lifecycles', null, { features: 'not a list' });
    expect(invalid.status).toBe(401);
  });

  it('refuses, with 400 naming datasetUri, a dataset the worker would refuse: outside the roots, hidden, another scheme', async () => {
    const base = { modelName: `api-uri-${randomUUID().slice(0, 6)}`, target: USED_CAR_TARGET, features: USED_CAR_FEATURES, approvers: ['alice'] };
    for (const [datasetUri, message] of [
      ['/etc/passwd', 'outside the allowed data directories'],
      [`${h.config.dataDir}/secrets.json`, 'outside the allowed data directories'],
      [`${process.cwd()}/.git/HEAD`, /hidden file|does not exist/],
      [`file://${process.cwd()}/.npmrc`, 'hidden file'],
      ['https://example.com/cars.csv', 'unsupported URI scheme'],
      ['ftp://host/cars.csv', 'unsupported URI scheme'],
    ] as const) {
      const refused = await call('POST', '/lifecycles', 'eve-engineer', { ...base, datasetUri });
      expect(refused.status, datasetUri).toBe(400);
      expect(refused.body.error, datasetUri).toMatch(/^invalid body: datasetUri: /);
      expect(refused.body.error, datasetUri).toMatch(message);
    }
    expect((await call('GET', `/models/${base.modelName}/versions`, 'vic-viewer')).body.versions ?? []).toEqual([]);
  });

  it('answers bad requests with 400s that name the field', async () => {
    const invalid = await call('POST', '/lifecycles', 'eve-engineer', { modelName: 'x', datasetUri: 'a.csv', target: 'price', features: [], approvers: ['alice'] });
    expect(invalid.status).toBe(400);
    expect(invalid.body.error).toMatch(/features/);
    const noModel = await call('POST', '/models/never-deployed/predict', 'vic-viewer', { rows: [{ a: 1 }] });
    expect(noModel.status).toBe(404);
    expect((await call('GET', '/lifecycles/does-not-exist', 'vic-viewer')).status).toBe(404);

    const model = (await call('GET', '/models', 'vic-viewer')).body.models.find((m: any) => m.aliases.production)?.name;
    expect(model).toBeDefined();
    const wrongType = await call('POST', `/models/${model}/predict`, 'vic-viewer', { rows: [{ make: 'BMW', model: 'X3', year: '2020', mileage_km: 1, fuel: 'petrol', region: 'north' }] });
    expect(wrongType.status).toBe(400);
    expect(wrongType.body.error).toBe('rows[0].year: expected a number or null, got "2020"');
    const missing = await call('POST', `/models/${model}/predict`, 'vic-viewer', { rows: [{ make: 'BMW' }] });
    expect(missing.body.error).toMatch(/rows\[0\]\.model: missing/);

    const row = { make: 'BMW', model: 'X3', year: 2020, mileage_km: 1, fuel: 'petrol', region: 'north' };
    // A huge but finite input overflows the model's arithmetic: an error naming the row, never `null`.
    const overflow = await call('POST', `/models/${model}/predict`, 'vic-viewer', { rows: [row, { ...row, year: 1e308 }] });
    expect(overflow.status).toBe(422);
    expect(overflow.body.error).toMatch(/^rows\[1\]: the model's prediction is not a finite number/);
    const infinite = await rawCall('POST', `/models/${model}/predict`, 'vic-viewer', '{"rows":[{"make":"BMW","model":"X3","year":1e309,"mileage_km":1,"fuel":"petrol","region":"north"}]}');
    expect(infinite).toEqual({ status: 400, body: { error: 'invalid body: rows[0].year: not a finite number (Infinity)' } });
    const proto = await rawCall('POST', `/models/${model}/predict`, 'vic-viewer', '{"rows":[{"__proto__":{"year":1}}]}');
    expect(proto).toEqual({ status: 400, body: { error: 'rows[0].__proto__: keys named "__proto__" (or constructor.prototype) are not accepted' } });
  });

  it('serves an OpenAPI description of the routes', async () => {
    const response = await fetch(`${h.api!.url}/openapi.json`);
    const spec = (await response.json()) as any;
    expect(spec.openapi).toMatch(/^3\./);
    expect(Object.keys(spec.paths)).toEqual(expect.arrayContaining(['/lifecycles', '/lifecycles/{id}', '/lifecycles/{id}/approve', '/models/{name}/predict']));
    expect(spec.paths['/lifecycles'].post.requestBody.content['application/json'].schema.required).toEqual(expect.arrayContaining(['modelName', 'datasetUri', 'target', 'features', 'approvers']));
  });
});

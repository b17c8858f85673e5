import { createHash, randomUUID } from 'node:crypto';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createPool } from '../../src/registry/db';
import { Registry, type NewModelVersion, type RegisteredDataset } from '../../src/registry/registry';

const pool = createPool(inject('databaseUrl'));
const registry = new Registry(pool);
afterAll(() => pool.end());

const sha = (c: string) => c.repeat(64);
const dataset = (sha256: string): RegisteredDataset => ({
  uri: 'file:///tmp/d.csv', sha256, bytes: 10, sourceUri: '/tmp/d.csv', format: 'csv', parts: 1, rows: 3,
  schema: { columns: [{ name: 'x', type: 'numeric', nullable: false }] },
  table: { uri: 'file:///tmp/d.parquet', sha256: sha('d'), bytes: 20 },
  profile: { uri: 'file:///tmp/p.json', sha256: sha('e'), bytes: 30 },
});
async function candidate(modelName: string, runKey: string): Promise<NewModelVersion> {
  const { sha256 } = dataset(sha(runKey.at(-1) === '1' ? 'a' : 'b'));
  await registry.registerDataset(modelName, dataset(sha256));
  return {
    modelName, runKey, trainer: 'ridge', params: { alpha: 1 }, trainingMetrics: { rmse: 1 },
    signature: { inputs: [{ name: 'x', kind: 'numeric' }], output: 'prediction' },
    artifact: { uri: 'file:///tmp/m.onnx', sha256: sha('c'), bytes: 5 }, datasetSha256: sha256,
    workflowId: runKey, runId: 'r', createdBy: 'eve',
  };
}

// Activities are retried after crashes: every registry write must be safe to repeat.
describe('registry writes on real PostgreSQL are idempotent', () => {
  it('registering the same run twice returns the same version; concurrent runs get distinct numbers', async () => {
    const model = `reg-${randomUUID().slice(0, 8)}`;
    const first = await registry.registerModelVersion(await candidate(model, 'run-1'));
    const again = await registry.registerModelVersion(await candidate(model, 'run-1'));
    expect(again.id).toBe(first.id);
    const [a, b] = await Promise.all([registry.registerModelVersion(await candidate(model, 'run-2')), registry.registerModelVersion(await candidate(model, 'run-3'))]);
    expect([first.version, a.version, b.version].sort()).toEqual([1, 2, 3]);
  });

  it('a dataset registered twice is registered once, with its forms; a schema recorded twice is one version', async () => {
    const model = `reg-${randomUUID().slice(0, 8)}`;
    const sha256 = createHash('sha256').update(model).digest('hex');
    await registry.registerDataset(model, dataset(sha256));
    await registry.registerDataset(model, dataset(sha256));
    expect(await registry.isDatasetRegistered(sha256)).toBe(true);
    expect(await registry.datasetForms(model, sha256)).toEqual({ table: dataset(sha256).table, profile: dataset(sha256).profile });
    const { rows } = await pool.query('SELECT count(*)::int AS n FROM model_datasets WHERE model_name = $1', [model]);
    expect(rows[0].n).toBe(1);

    const schema = dataset(sha256).schema;
    expect(await registry.recordSchema(model, 'inferred', schema)).toBe(1);
    expect(await registry.recordSchema(model, 'inferred', schema)).toBe(1);
    expect(await registry.recordSchema(model, 'file', schema)).toBe(2);
    expect(await registry.latestSchema(model)).toEqual({ version: 2, source: 'file', schema });
  });

  it('a repeated alias move changes nothing and keeps one history row', async () => {
    const model = `reg-${randomUUID().slice(0, 8)}`;
    const v1 = await registry.registerModelVersion(await candidate(model, 'run-1'));
    const v2 = await registry.registerModelVersion(await candidate(model, 'run-2'));
    const move = (versionId: number, moveKey: string) => registry.moveAlias({ modelName: model, alias: 'production', versionId, movedBy: 'alice', reason: 'test', moveKey });
    await move(v1.id, 'deploy-1');
    expect(await move(v2.id, 'deploy-2')).toEqual({ moved: true, fromVersionId: v1.id, toVersionId: v2.id, replayed: false });
    // deploy-1 retried late (e.g. a worker that crashed after committing) must not move production back.
    expect(await move(v1.id, 'deploy-1')).toMatchObject({ toVersionId: v1.id, replayed: true });
    expect((await registry.resolveAlias(model, 'production'))!.id).toBe(v2.id);
    expect((await registry.aliasHistory(model)).map((h) => [h.fromVersion, h.toVersion])).toEqual([[1, 2], [null, 1]]);
  });

  it('moves production compare-and-set on the champion, with statuses and history in the same transaction', async () => {
    const model = `reg-${randomUUID().slice(0, 8)}`;
    const versions: Awaited<ReturnType<typeof registry.registerModelVersion>>[] = [];
    for (const run of ['run-1', 'run-2', 'run-3']) versions.push(await registry.registerModelVersion(await candidate(model, `${model}/${run}`)));
    const deploy = (i: number, expected: number | null) =>
      registry.moveAlias({ modelName: model, alias: 'production', versionId: versions[i].id, movedBy: 'alice', reason: 'test', moveKey: `${model}/cas-${i}`, expectedVersionId: expected, statuses: { to: 'deployed', from: 'superseded' } });
    expect(await deploy(0, null)).toMatchObject({ moved: true, fromVersionId: null });
    // v2 and v3 were both evaluated against v1: the first to deploy wins, the other is told where production is now.
    const [a, b] = await Promise.all([deploy(1, versions[0].id), deploy(2, versions[0].id)]);
    const winner = a.moved ? 1 : 2;
    expect([a.moved, b.moved].sort()).toEqual([false, true]);
    expect((a.moved ? b : a)).toEqual({ moved: false, currentVersionId: versions[winner].id });
    const statuses = (await registry.listVersions(model)).map((v) => [v.version, v.status]);
    expect(statuses).toEqual([[3, winner === 2 ? 'deployed' : 'candidate'], [2, winner === 1 ? 'deployed' : 'candidate'], [1, 'superseded']]);
    // A canary alias with its share, removed only by its own version.
    await registry.moveAlias({ modelName: model, alias: 'canary', versionId: versions[3 - winner].id, trafficShare: 0.25, movedBy: 'alice', reason: 'canary', moveKey: `${model}/canary-1`, statuses: { to: 'canary' } });
    expect((await registry.aliasesOf([model])).get(model)!.get('canary')).toMatchObject({ trafficShare: 0.25, status: 'canary' });
    expect(await registry.removeAlias({ modelName: model, alias: 'canary', expectedVersionId: versions[winner].id, movedBy: 'x', reason: 'not its own', moveKey: `${model}/canary-end-wrong` })).toEqual({ removedVersionId: null, replayed: false });
    expect(await registry.removeAlias({ modelName: model, alias: 'canary', expectedVersionId: versions[3 - winner].id, movedBy: 'x', reason: 'failed', moveKey: `${model}/canary-end`, status: 'rolled-back' })).toEqual({ removedVersionId: versions[3 - winner].id, replayed: false });
    expect(await registry.removeAlias({ modelName: model, alias: 'canary', movedBy: 'x', reason: 'failed', moveKey: `${model}/canary-end` })).toMatchObject({ replayed: true });
    const history = await registry.aliasHistory(model);
    expect(history.map((m) => [m.alias, m.fromVersion, m.toVersion, m.trafficShare])).toEqual([
      ['canary', 3 - winner + 1, null, null], ['canary', null, 3 - winner + 1, 0.25], ['production', 1, winner + 1, null], ['production', null, 1, null],
    ]);
    // Times follow the order of the moves, even for transactions that waited on each other.
    const times = history.map((m) => m.movedAt as string).reverse();
    expect(new Set(times).size).toBe(times.length);
    expect([...times].sort()).toEqual(times);
    expect(await registry.previousInAlias(model, 'production')).toBe(versions[0].id);
    expect(await registry.wasInAlias(model, 'production', versions[0].id)).toBe(true);
    expect(await registry.wasInAlias(model, 'production', versions[3 - winner].id)).toBe(false);
  });

  it('an audit event written twice is stored once', async () => {
    const workflowId = `wf-${randomUUID()}`;
    const event = { eventKey: `${workflowId}/r/0`, workflowId, runId: 'r', modelName: 'm', versionId: null, decision: 'approve' as const, approver: 'alice', accepted: true, state: 'accepted' as const, reason: 'ok', comment: '', receivedAt: new Date().toISOString() };
    await registry.recordApprovalEvent(event);
    await registry.recordApprovalEvent(event);
    expect(await registry.approvalEvents(workflowId)).toHaveLength(1);
  });
});

// Two runs of the same file: the one whose dataset fails validation must not delete files the other still needs.
describe('dataset leases', () => {
  it('deletes a rejected dataset only when no other run holds a lease on it and no model registered it', async () => {
    const key = createHash('sha256').update(randomUUID()).digest('hex');
    let deleted = 0;
    const discard = async () => void deleted++;
    await registry.leaseDataset(key, 'run-a');
    await registry.leaseDataset(key, 'run-b');
    expect(await registry.releaseDataset(key, 'run-a', key, discard)).toBe(false);
    expect(deleted).toBe(0);
    expect(await registry.releaseDataset(key, 'run-b', key, discard)).toBe(true);
    expect(deleted).toBe(1);
    // Released twice: nothing more happens to another run's files that may have come back since.
    await registry.leaseDataset(key, 'run-c');
    expect(await registry.releaseDataset(key, 'run-b', key, discard)).toBe(false);
    expect(deleted).toBe(1);
  });

  it('keeps a registered dataset, and ignores leases of runs that died (expired)', async () => {
    const key = createHash('sha256').update(randomUUID()).digest('hex');
    let deleted = 0;
    await registry.leaseDataset(key, 'dead-run', -1);
    await registry.leaseDataset(key, 'run-a');
    expect(await registry.releaseDataset(key, 'run-a', key, async () => void deleted++)).toBe(true);
    const registered = createHash('sha256').update(randomUUID()).digest('hex');
    await registry.registerDataset(`reg-${randomUUID().slice(0, 8)}`, dataset(registered));
    await registry.leaseDataset(registered, 'run-a');
    expect(await registry.releaseDataset(registered, 'run-a', registered, async () => void deleted++)).toBe(false);
    expect(deleted).toBe(1);
  });

  it('serialises a lease taken while a release is deciding: the release sees it, or the files are stored after', async () => {
    const key = createHash('sha256').update(randomUUID()).digest('hex');
    await registry.leaseDataset(key, 'run-a');
    let leasedDuringDiscard = false;
    const leasing = { done: false };
    const release = registry.releaseDataset(key, 'run-a', key, async () => {
      // A lease requested now waits for this release's lock: it cannot slip in between the check and the delete.
      const lease = registry.leaseDataset(key, 'run-b').then(() => (leasing.done = true));
      await new Promise((r) => setTimeout(r, 200));
      leasedDuringDiscard = leasing.done;
      void lease;
    });
    expect(await release).toBe(true);
    expect(leasedDuringDiscard).toBe(false);
    await expect.poll(() => leasing.done).toBe(true);
  });
});

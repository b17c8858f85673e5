import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createPool } from '../../src/registry/db';
import { Registry, type NewModelVersion } from '../../src/registry/registry';

const pool = createPool(inject('databaseUrl'));
const registry = new Registry(pool);
afterAll(() => pool.end());

const sha = (c: string) => c.repeat(64);
async function candidate(modelName: string, runKey: string): Promise<NewModelVersion> {
  const dataset = { uri: 'file:///tmp/d.csv', sha256: sha(runKey.at(-1) === '1' ? 'a' : 'b'), bytes: 10 };
  await registry.registerDataset(modelName, dataset, '/tmp/d.csv');
  return {
    modelName, runKey, trainer: 'ridge', params: { alpha: 1 }, trainingMetrics: { rmse: 1 },
    signature: { inputs: [{ name: 'x', kind: 'numeric' }], output: 'prediction' },
    artifact: { uri: 'file:///tmp/m.onnx', sha256: sha('c'), bytes: 5 }, datasetSha256: dataset.sha256,
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

  it('a repeated alias move changes nothing and keeps one history row', async () => {
    const model = `reg-${randomUUID().slice(0, 8)}`;
    const v1 = await registry.registerModelVersion(await candidate(model, 'run-1'));
    const v2 = await registry.registerModelVersion(await candidate(model, 'run-2'));
    const move = (versionId: number, moveKey: string) => registry.moveAlias({ modelName: model, alias: 'production', versionId, movedBy: 'alice', reason: 'test', moveKey });
    await move(v1.id, 'deploy-1');
    expect(await move(v2.id, 'deploy-2')).toEqual({ fromVersionId: v1.id, toVersionId: v2.id, replayed: false });
    // deploy-1 retried late (e.g. a worker that crashed after committing) must not move production back.
    expect(await move(v1.id, 'deploy-1')).toMatchObject({ toVersionId: v1.id, replayed: true });
    expect((await registry.resolveAlias(model, 'production'))!.id).toBe(v2.id);
    expect((await registry.aliasHistory(model)).map((h) => [h.fromVersion, h.toVersion])).toEqual([[1, 2], [null, 1]]);
  });

  it('an audit event written twice is stored once', async () => {
    const workflowId = `wf-${randomUUID()}`;
    const event = { eventKey: `${workflowId}/r/0`, workflowId, runId: 'r', modelName: 'm', versionId: null, decision: 'approve' as const, approver: 'alice', accepted: true, state: 'accepted' as const, reason: 'ok', comment: '', receivedAt: new Date().toISOString() };
    await registry.recordApprovalEvent(event);
    await registry.recordApprovalEvent(event);
    expect(await registry.approvalEvents(workflowId)).toHaveLength(1);
  });
});

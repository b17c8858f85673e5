import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { usedCarsCsv, USED_CAR_FEATURES, USED_CAR_TARGET } from '../../src/demo/usedCars';
import { approveSignal, rejectSignal } from '../../src/workflows/definitions';
import { failureOf, resultOf, startHarness, usedCarsInput, waitForStatus, type Harness } from '../support/harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness('lifecycle');
});
afterAll(async () => h?.stop());

const uniqueModel = () => `cars-${randomUUID().slice(0, 8)}`;
const input = usedCarsInput;

/** The failure at the root of a failed workflow: the activity's ApplicationFailure. */
describe('modelLifecycle on the real Temporal server and PostgreSQL', () => {
  it('ingests, validates, trains, evaluates, waits for approval and deploys', async () => {
    const model = uniqueModel();
    const csv = usedCarsCsv(2000, 11);
    const file = await h.writeDataset(`${model}.csv`, csv);
    const handle = await h.start(input(model, file));

    const waiting = await waitForStatus(handle, (s) => s.stage === 'awaiting-approval');
    expect(waiting.waitingFor).toMatch(/alice, bob/);
    expect(waiting.dataset?.sha256).toBe(createHash('sha256').update(csv).digest('hex'));
    expect(waiting.dataset?.rowCount).toBe(2000);
    const evaluation = waiting.evaluation!;
    expect(evaluation.holdoutRows).toBe(400);
    expect(evaluation.candidate.metrics.r2).toBeGreaterThan(0.7);
    expect(evaluation.candidate.metrics.rmse).toBeLessThan(0.6 * evaluation.baseline.metrics.rmse);
    expect(evaluation.champion).toBeNull();
    expect(evaluation.gate.blessed).toBe(true);

    await handle.signal(approveSignal, await h.decision(handle, 'alice', { comment: 'ship it' }));
    const result = await resultOf(handle);
    expect(result).toMatchObject({ outcome: 'deployed', modelName: model, version: 1, decidedBy: ['alice'] });

    const production = await h.registry.resolveAlias(model, 'production');
    expect(production).toMatchObject({ version: 1, status: 'deployed', approvedBy: ['alice'], createdBy: 'eve-engineer', workflowId: handle.workflowId });
    expect(production!.datasetSha256).toBe(waiting.dataset!.sha256);
    expect(production!.params).toMatchObject({ alpha: 1, seed: 42 });
    const onnx = await fs.readFile(new URL(production!.artifact.uri));
    expect(createHash('sha256').update(onnx).digest('hex')).toBe(production!.artifact.sha256);

    // The recorded history must replay against the current workflow code (determinism guard).
    const history = await handle.fetchHistory();
    await Worker.runReplayHistory({ workflowBundle: { codePath: inject('workflowBundlePath') } }, history, handle.workflowId);
  });

  it('ends as rejected when an approver rejects, and production does not move', async () => {
    const model = uniqueModel();
    const handle = await h.start(input(model, await h.writeDataset(`${model}.csv`, usedCarsCsv(500, 3))));
    await waitForStatus(handle, (s) => s.stage === 'awaiting-approval');
    await handle.signal(rejectSignal, await h.decision(handle, 'bob', { decision: 'reject', comment: 'mileage looks off' }));
    expect(await resultOf(handle)).toMatchObject({ outcome: 'rejected', decidedBy: ['bob'] });
    expect(await h.registry.resolveAlias(model, 'production')).toBeNull();
    expect((await h.registry.listVersions(model))[0].status).toBe('rejected');
  });

  it('refuses decisions from non-approvers, the requester and forged tokens, and audits every attempt', async () => {
    const model = uniqueModel();
    const handle = await h.start(input(model, await h.writeDataset(`${model}.csv`, usedCarsCsv(500, 4)), { approvers: ['alice', 'eve-engineer'] }));
    await waitForStatus(handle, (s) => s.stage === 'awaiting-approval');
    await handle.signal(approveSignal, await h.decision(handle, 'mallory'));
    await handle.signal(approveSignal, await h.decision(handle, 'eve-engineer'));
    await handle.signal(approveSignal, { approver: 'alice', comment: '', token: (await h.decision(h.client.workflow.getHandle('another-run'), 'alice').catch(() => ({ token: 'v1.approve.9999999999.AAAAAAAAAAAAAAAAAAAAAA.' + 'A'.repeat(43) }))).token });
    await handle.signal(approveSignal, { approver: 'alice' });
    const refused = await waitForStatus(handle, (s) => s.decisions.length === 4);
    expect(refused.stage).toBe('awaiting-approval');
    expect(refused.decisions.map((d) => d.accepted)).toEqual([false, false, false, false]);
    expect(refused.decisions[0].reason).toMatch(/"mallory" is not an approver/);
    expect(refused.decisions[1].reason).toMatch(/four-eyes/);
    expect(refused.decisions[2].reason).toMatch(/token does not prove/);
    expect(refused.decisions[3].reason).toMatch(/token/);

    await handle.signal(approveSignal, await h.decision(handle, 'alice'));
    expect(await resultOf(handle)).toMatchObject({ outcome: 'deployed', decidedBy: ['alice'] });
    const audit = await h.registry.approvalEvents(handle.workflowId);
    expect(audit.map((e) => [e.approver, e.accepted])).toEqual([
      ['mallory', false], ['eve-engineer', false], ['alice', false], ['alice', false], ['alice', true],
    ]);
  });

  it('expires when nobody decides before the approval timeout', async () => {
    const model = uniqueModel();
    const handle = await h.start(input(model, await h.writeDataset(`${model}.csv`, usedCarsCsv(300, 5)), { approvalTimeout: '2s' }));
    expect(await resultOf(handle)).toMatchObject({ outcome: 'expired', decidedBy: [] });
    expect((await h.registry.listVersions(model))[0].status).toBe('expired');
  });

  it('fails at validation with a non-retryable error naming the column, rows and values', async () => {
    const model = uniqueModel();
    const lines = usedCarsCsv(300, 6).trimEnd().split('\n');
    // Row 17 and 204 (data rows, counted from 1) get mileages typed by a human.
    for (const [row, value] of [[17, '12k'], [204, 'unknown km']] as const) {
      const cells = lines[row].split(',');
      const mileageIndex = cells.length - 4; // make, model (may be quoted without commas), year, mileage, fuel, region, price
      cells[mileageIndex] = value;
      lines[row] = cells.join(',');
    }
    const handle = await h.start(input(model, await h.writeDataset(`${model}.csv`, lines.join('\n') + '\n')));
    const failure = await failureOf(handle.result());
    expect(failure.type).toBe('DatasetInvalid');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('feature "mileage_km": 2 value(s) are not numbers');
    expect(failure.message).toContain('row 17: "12k"');
    expect(failure.message).toContain('row 204: "unknown km"');
    expect(await h.registry.listVersions(model)).toEqual([]);
    // The run's own status says it failed, where and why (it once still said stage validate, outcome null).
    const status = await waitForStatus(handle, () => true);
    expect(status).toMatchObject({ stage: 'validate', outcome: 'failed', failure: { stage: 'validate', type: 'DatasetInvalid' } });
    expect(status.failure!.message).toContain('feature "mileage_km": 2 value(s) are not numbers');
    expect((await handle.describe()).memo).toMatchObject({ outcome: 'failed', failure: { type: 'DatasetInvalid' } });
  });

  it('fails clearly when the target column does not exist or the file is missing', async () => {
    const model = uniqueModel();
    const file = await h.writeDataset(`${model}.csv`, usedCarsCsv(100, 8));
    const noTarget = await failureOf(h.start(input(model, file, { target: 'sale_price' })).then((w) => w.result()));
    expect(noTarget.type).toBe('DatasetInvalid');
    expect(noTarget.message).toMatch(/target column "sale_price" is not in the file \(columns: make, model, year/);

    const missing = await failureOf(h.start(input(model, file.replace('.csv', '-nope.csv'))).then((w) => w.result()));
    expect(missing.type).toBe('DatasetUnavailable');
    expect(missing.message).toMatch(/does not exist/);

    const outside = await failureOf(h.start(input(model, '/etc/passwd')).then((w) => w.result()));
    expect(outside.message).toMatch(/outside the allowed data directories/);
  });

  it('never ingests the product own files (secrets, database password), nor echoes them', async () => {
    const model = uniqueModel();
    const secrets = path.join(h.config.dataDir, 'secrets.json');
    await fs.writeFile(secrets, '{"approvalSecret":"TOP-SECRET-VALUE"}');
    for (const uri of [secrets, `file://${secrets}`]) {
      const failure = await failureOf(h.start(input(model, uri)).then((w) => w.result()));
      expect(failure.type).toBe('DatasetUnavailable');
      expect(failure.message).toMatch(/product's own files|outside the allowed data directories/);
      expect(JSON.stringify(failure)).not.toContain('TOP-SECRET-VALUE');
    }
    expect(await h.registry.listVersions(model)).toEqual([]);
  });

  it('rejects an invalid input before doing any work, naming the fields', async () => {
    const handle = await h.start({ modelName: 'bad name!', datasetUri: 'x.csv', target: 'price', features: ['price'], approvers: [] } as never);
    const failure = await failureOf(handle.result());
    expect(failure.type).toBe('InvalidInput');
    expect(failure.message).toMatch(/modelName: .*approvers: must name at least one approver/);
    expect(failure.message).toMatch(/features: must not contain the target column "price"/);
    // Once accepted, these made every workflow task fail ("Invalid time value") or an activity result outgrow Temporal's payload limit.
    const huge = await h.start({ ...input(uniqueModel(), 'x.csv'), approvalTimeout: '99999999999999d', features: Array.from({ length: 12_000 }, (_, i) => `f${i}`) });
    const refused = await failureOf(huge.result());
    expect(refused.type).toBe('InvalidInput');
    expect(refused.message).toMatch(/features: must list at most 1000 feature columns; approvalTimeout: must be a duration/);
  });

  it('compares a second candidate with the deployed champion on the same holdout', async () => {
    const model = uniqueModel();
    const first = await h.start(input(model, await h.writeDataset(`${model}-1.csv`, usedCarsCsv(1500, 21))));
    await waitForStatus(first, (s) => s.stage === 'awaiting-approval');
    await first.signal(approveSignal, await h.decision(first, 'alice'));
    expect((await resultOf(first)).outcome).toBe('deployed');

    // A stronger regulariser makes a worse candidate on new data: the gate must catch it against the champion.
    const worse = await h.start(input(model, await h.writeDataset(`${model}-2.csv`, usedCarsCsv(1500, 22)), { trainer: { name: 'ridge', params: { alpha: 5000 } } }));
    const worseResult = await resultOf(worse);
    expect(worseResult.outcome).toBe('not-blessed');
    const worseStatus = await waitForStatus(worse, () => true);
    const champion = worseStatus.evaluation!.champion!;
    expect(champion).toMatchObject({ version: 1 });
    expect('metrics' in champion && champion.metrics.rmse).toBeLessThan(worseStatus.evaluation!.candidate.metrics.rmse);
    expect(worseStatus.evaluation!.gate.reasons.join(' ')).toMatch(/misses the required improvement over champion v1/);

    const better = await h.start(input(model, await h.writeDataset(`${model}-3.csv`, usedCarsCsv(1500, 22))));
    const waiting = await waitForStatus(better, (s) => s.stage === 'awaiting-approval');
    expect(waiting.evaluation!.gate.reasons.join(' ')).toMatch(/meets the required improvement over champion v1/);
    await better.signal(approveSignal, await h.decision(better, 'bob'));
    expect(await resultOf(better)).toMatchObject({ outcome: 'deployed', version: 3 });
    expect((await h.registry.resolveAlias(model, 'production'))!.version).toBe(3);
    const moves = await h.registry.aliasHistory(model);
    expect(moves.map((m) => [m.fromVersion, m.toVersion])).toEqual([[1, 3], [null, 1]]);
  });
});

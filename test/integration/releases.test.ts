import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import type { WorkflowHandle } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { usedCarsCsv, USED_CAR_FEATURES } from '../../src/demo/usedCars';
import { approveSignal } from '../../src/workflows/definitions';
import { callApi, resultOf, startHarness, tokenOf, until, usedCarsInput, waitForStatus, type Harness } from '../support/harness';

/**
 * Releases through whole lifecycles on the real Temporal server, PostgreSQL, API and ONNX Runtime:
 * compare-and-set deploys, rollbacks, team aliases, canaries promoted and rolled back, shadows.
 */
let h: Harness;
beforeAll(async () => {
  h = await startHarness('releases', { api: true });
});
afterAll(async () => h?.stop());

const uniqueModel = () => `rel-${randomUUID().slice(0, 8)}`;
const input = usedCarsInput;
const ROW = { make: 'Toyota', model: 'Corolla', year: 2018, mileage_km: 60000, fuel: 'petrol', region: 'north' };
const api = (method: string, route: string, as: string | null, body?: unknown) => callApi(h.api!.url, method, route, as, body);
const predict = (model: string, row: Record<string, unknown> = ROW) => api('POST', `/models/${model}/predict`, 'eve-engineer', { rows: [row] });

/** Deploys a deliberately weak v1 (heavy regularisation), so any normal candidate beats it. */
async function deployWeakChampion(model: string): Promise<void> {
  const first = await h.start(input(model, await h.writeDataset(`${model}-v1.csv`, usedCarsCsv(800, 1)), { trainer: { name: 'ridge', params: { alpha: 1e6 } }, evaluation: { mustBeatBaseline: false } }));
  await waitForStatus(first, (s) => s.stage === 'awaiting-approval');
  await first.signal(approveSignal, await h.decision(first, 'alice'));
  expect((await resultOf(first)).outcome).toBe('deployed');
}

/** Sends predictions until `stop` says so; returns the statuses answered. */
async function traffic(model: string, stop: () => boolean, row: Record<string, unknown> = ROW): Promise<Map<number, number>> {
  const statuses = new Map<number, number>();
  while (!stop()) {
    const r = await predict(model, row);
    statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return statuses;
}

async function replays(handle: WorkflowHandle): Promise<void> {
  await Worker.runReplayHistory({ workflowBundle: { codePath: inject('workflowBundlePath') } }, await handle.fetchHistory(), handle.workflowId);
}

describe('an approval is given for a comparison with one champion (compare-and-set deploys)', () => {
  it('deploys one of several runs approved at once; the others are evaluated again against the new champion and asked again', async () => {
    const model = uniqueModel();
    await deployWeakChampion(model);
    const runs = await Promise.all(
      [11, 12, 13, 14].map(async (seed) => h.start(input(model, await h.writeDataset(`${model}-${seed}.csv`, usedCarsCsv(1000, seed))))),
    );
    for (const run of runs) expect((await waitForStatus(run, (s) => s.stage === 'awaiting-approval')).release.champion).toBe(1);
    await Promise.all(runs.map(async (run) => run.signal(approveSignal, await h.decision(run, 'alice'))));

    // Each run either deployed in round 1, or found production moved and started round 2.
    const settled = await Promise.all(runs.map((run) => waitForStatus(run, (s) => s.outcome === 'deployed' || s.release.round === 2 && (s.stage === 'awaiting-approval' || s.outcome !== null), 90_000)));
    const winners = settled.filter((s) => s.outcome === 'deployed');
    expect(winners).toHaveLength(1);
    const winner = winners[0].candidate!.version;
    for (const s of settled.filter((s) => s.outcome !== 'deployed')) {
      expect(s.release.superseded).toEqual([{ round: 1, champion: 1, by: winner }]);
      expect(s.release.champion).toBe(winner);
      expect(s.approvedBy).toEqual([]); // the round-1 approval was for champion v1: it no longer counts
      expect(s.evaluation!.champion).toMatchObject({ version: winner });
    }
    expect((await h.registry.resolveAlias(model, 'production'))!.version).toBe(winner);
    const statuses = new Map((await h.registry.listVersions(model)).map((v) => [v.version, v.status]));
    expect(statuses.get(1)).toBe('superseded');
    expect([...statuses.values()].filter((s) => s === 'deployed')).toHaveLength(1);

    // A second-round approval deploys over the new champion, which is then superseded in turn.
    const again = runs.find((_, i) => settled[i].stage === 'awaiting-approval' && settled[i].outcome === null);
    if (again) {
      await again.signal(approveSignal, await h.decision(again, 'bob'));
      const result = await resultOf(again);
      expect(result.outcome).toBe('deployed');
      expect((await h.registry.listVersions(model)).find((v) => v.version === winner)!.status).toBe('superseded');
      await replays(again);
    }
    // History timestamps follow the order of the moves.
    const { rows } = await h.registry.pool.query('SELECT moved_at FROM alias_history WHERE model_name = $1 ORDER BY id', [model]);
    for (let i = 1; i < rows.length; i++) expect(rows[i].moved_at.getTime()).toBeGreaterThan(rows[i - 1].moved_at.getTime() - 0.001);
    const times = rows.map((r: { moved_at: Date }) => r.moved_at.toISOString());
    expect([...times].sort()).toEqual(times);
    await Promise.all(runs.map((run) => run.terminate('test over').catch(() => {})));
  }, 240_000);
});

describe('rollbacks and team aliases', () => {
  it('rolls production back through the API and the CLI, audited and idempotent, only to versions that served there', async () => {
    const model = uniqueModel();
    await deployWeakChampion(model);
    const second = await h.start(input(model, await h.writeDataset(`${model}-2.csv`, usedCarsCsv(1000, 2))));
    await waitForStatus(second, (s) => s.stage === 'awaiting-approval');
    await second.signal(approveSignal, await h.decision(second, 'alice'));
    expect((await resultOf(second)).outcome).toBe('deployed');
    const third = await h.start(input(model, await h.writeDataset(`${model}-3.csv`, usedCarsCsv(300, 3)), { trainer: { name: 'ridge', params: { alpha: 1e7 } } }));
    expect((await resultOf(third)).outcome).toBe('not-blessed'); // v3 never served

    expect((await api('POST', `/models/${model}/rollback`, 'vic-viewer', { reason: 'x' })).status).toBe(403);
    expect((await api('POST', `/models/${model}/rollback`, 'eve-engineer', {})).body.error).toMatch(/reason/);
    const refused = await api('POST', `/models/${model}/rollback`, 'eve-engineer', { reason: 'try v3', toVersion: 3 });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatch(/v3 of "rel-.*" never served in production/);

    const back = await api('POST', `/models/${model}/rollback`, 'eve-engineer', { reason: 'v2 overprices vans', idempotencyKey: 'incident-42' });
    expect(back.status).toBe(200);
    expect(back.body.result).toMatchObject({ alias: 'production', fromVersion: 2, toVersion: 1, moved: true, movedBy: 'eve-engineer' });
    expect((await h.registry.resolveAlias(model, 'production'))!.version).toBe(1);
    await until('the API serving v1', async () => (await predict(model)).body?.version === 1, 5_000);
    const versions = new Map((await h.registry.listVersions(model)).map((v) => [v.version, v.status]));
    expect([versions.get(1), versions.get(2)]).toEqual(['deployed', 'rolled-back']);
    const [latest] = await h.registry.aliasHistory(model);
    expect(latest).toMatchObject({ alias: 'production', fromVersion: 2, toVersion: 1, movedBy: 'eve-engineer' });
    expect(latest.reason).toMatch(/v2 overprices vans/);

    // The same key again (a retried request) moves nothing.
    const repeated = await api('POST', `/models/${model}/rollback`, 'eve-engineer', { reason: 'v2 overprices vans', idempotencyKey: 'incident-42' });
    expect(repeated.body.result).toMatchObject({ moved: false });
    expect(await h.registry.aliasHistory(model)).toHaveLength(3);

    // The project CLI, back to v2 (it served in production before).
    const cli = await promisify(execFile)('npx', ['tsx', 'src/cli/main.ts', '--api', h.api!.url, '--token', tokenOf('alice'), 'rollback', model, '--to', '2', '--reason', 'fixed upstream'], { cwd: process.cwd() });
    expect(JSON.parse(cli.stdout).result).toMatchObject({ fromVersion: 1, toVersion: 2, moved: true, movedBy: 'alice' });
    expect((await h.registry.resolveAlias(model, 'production'))!.version).toBe(2);
  }, 180_000);

  it('points team aliases at versions; production, canary and shadow are not the team\'s to move', async () => {
    const model = uniqueModel();
    await deployWeakChampion(model);
    expect((await api('PUT', `/models/${model}/aliases/production`, 'eve-engineer', { version: 1, reason: 'x' })).status).toBe(400);
    expect((await api('PUT', `/models/${model}/aliases/staging`, 'vic-viewer', { version: 1, reason: 'x' })).status).toBe(403);
    expect((await api('PUT', `/models/${model}/aliases/staging`, 'eve-engineer', { version: 9, reason: 'x' })).status).toBe(404);
    expect((await api('PUT', `/models/${model}/aliases/staging`, 'eve-engineer', { version: 1, reason: 'try it' })).body).toMatchObject({ alias: 'staging', version: 1 });
    await until('staging served', async () => (await api('POST', `/models/${model}/predict?alias=staging`, 'eve-engineer', { rows: [ROW] })).body?.version === 1, 5_000);
    expect((await api('DELETE', `/models/${model}/aliases/staging?reason=done`, 'eve-engineer')).status).toBe(200);
    await until('staging gone', async () => (await api('POST', `/models/${model}/predict?alias=staging`, 'eve-engineer', { rows: [ROW] })).status === 404, 5_000);
  }, 120_000);
});

describe('canary and shadow releases inside the lifecycle', () => {
  const canary = { strategy: 'canary', share: 0.5, duration: '8s', checkEvery: '2s', minRequests: 10 };

  /** Starts a canary run, approves it, and sends predictions from the canary's start until the run ends. */
  async function canaryUnderTraffic(model: string, csv: string, extra: Record<string, unknown>) {
    const run = await h.start(input(model, await h.writeDataset(`${model}-2.csv`, csv), extra));
    await waitForStatus(run, (s) => s.stage === 'awaiting-approval');
    await run.signal(approveSignal, await h.decision(run, 'alice'));
    await waitForStatus(run, (s) => s.stage === 'canary');
    let done = false;
    const served = traffic(model, () => done);
    const result = await resultOf(run).finally(() => (done = true));
    return { run, result, answered: await served };
  }

  it('promotes a healthy canary after its period', async () => {
    const model = uniqueModel();
    await deployWeakChampion(model);
    const { run, result, answered } = await canaryUnderTraffic(model, usedCarsCsv(1000, 5), { release: canary });
    const status = await waitForStatus(run, () => true);
    expect(result.outcome, JSON.stringify(status.release.canary?.checks.at(-1))).toBe('deployed');
    expect([...answered.keys()]).toEqual([200]);
    expect(status.release.canary).toMatchObject({ share: 0.5, verdict: 'promoted' });
    const last = status.release.canary!.checks.at(-1)!;
    expect(last.verdict).toBe('healthy');
    expect(last.canary.requests).toBeGreaterThanOrEqual(10);
    expect(last.champion.requests).toBeGreaterThan(0);
    expect(last.canary.errors).toBe(0);
    expect((await h.registry.resolveAlias(model, 'production'))!.version).toBe(2);
    expect(await h.registry.resolveAlias(model, 'canary')).toBeNull();
    const moves = (await h.registry.aliasHistory(model)).map((m) => [m.alias, m.fromVersion, m.toVersion]);
    expect(moves).toEqual([['canary', 2, null], ['production', 1, 2], ['canary', null, 2], ['production', null, 1]]);
    await replays(run);
  }, 180_000);

  it('rolls a canary back, saying why, when its errors rise', async () => {
    const model = uniqueModel();
    await deployWeakChampion(model);
    // The candidate needs a column the callers do not send yet: every request routed to it fails.
    const withExtra = usedCarsCsv(1000, 6).split('\n').map((line, i) => (line ? `${line},${i === 0 ? 'seats' : 2 + (i % 5)}` : line)).join('\n');
    const { run, result, answered } = await canaryUnderTraffic(model, withExtra, { features: [...USED_CAR_FEATURES, 'seats'], release: { ...canary, duration: '20s' } });
    expect(result.outcome).toBe('rolled-back');
    expect(answered.get(400)).toBeGreaterThan(0);
    const status = await waitForStatus(run, () => true);
    expect(status.release.canary!.verdict).toBe('rolled-back');
    expect(status.release.canary!.reasons[0]).toMatch(/errors rose: error rate 100\.0%/);
    expect(status.release.canary!.checks.length).toBeLessThan(10); // rolled back at the first failing check, not at the end
    expect((await h.registry.resolveAlias(model, 'production'))!.version).toBe(1);
    expect(await h.registry.resolveAlias(model, 'canary')).toBeNull();
    expect((await h.registry.listVersions(model)).find((v) => v.version === 2)!.status).toBe('rolled-back');
    const [removal] = await h.registry.aliasHistory(model);
    expect(removal).toMatchObject({ alias: 'canary', fromVersion: 2, toVersion: null });
    expect(removal.reason).toMatch(/canary rolled back: errors rose/);
    await until('only v1 answering', async () => (await predict(model)).body?.version === 1, 5_000);
  }, 180_000);

  it('scores a shadow on a copy of the traffic and reports its agreement before the approval', async () => {
    const model = uniqueModel();
    await deployWeakChampion(model);
    const run = await h.start(input(model, await h.writeDataset(`${model}-2.csv`, usedCarsCsv(1000, 7)), { release: { strategy: 'shadow', duration: '6s', minRequests: 10, tolerance: 0.5 } }));
    await waitForStatus(run, (s) => s.stage === 'shadow');
    let done = false;
    const served = traffic(model, () => done);
    const waiting = await waitForStatus(run, (s) => s.stage === 'awaiting-approval').finally(() => (done = true));
    const answered = await served;
    expect([...answered.keys()]).toEqual([200]);
    const report = waiting.release.shadow!;
    expect(report).toMatchObject({ championVersion: 1, candidateVersion: 2, verdict: 'measured', shadowErrors: 0 });
    expect(report.compared).toBeGreaterThanOrEqual(10);
    expect(report.agreement).toBeGreaterThanOrEqual(0);
    expect(report.meanAbsoluteDifference).toBeGreaterThan(0); // a different model: not a copy of the champion's answers
    expect(report.summary).toMatch(/v2 agreed with v1 within 50\.0% on/);
    // Callers only ever saw the champion; the shadow alias is gone.
    const { rows } = await h.registry.pool.query(`SELECT DISTINCT version FROM prediction_log WHERE model_name = $1 AND role = 'serve'`, [model]);
    expect(rows.map((r: { version: number }) => r.version)).toEqual([1]);
    expect(await h.registry.resolveAlias(model, 'shadow')).toBeNull();
    await run.signal(approveSignal, await h.decision(run, 'bob'));
    expect((await resultOf(run)).outcome).toBe('deployed');
    await replays(run);
  }, 180_000);
  it('removes its shadow alias when the run is cancelled during the shadow period', async () => {
    const model = uniqueModel();
    await deployWeakChampion(model);
    const run = await h.start(input(model, await h.writeDataset(`${model}-2.csv`, usedCarsCsv(600, 8)), { release: { strategy: 'shadow', duration: '1h' } }));
    await waitForStatus(run, (s) => s.stage === 'shadow');
    expect((await h.registry.resolveAlias(model, 'shadow'))!.version).toBe(2);
    await run.cancel();
    await expect(run.result()).rejects.toThrow();
    await until('the shadow alias removed', async () => (await h.registry.resolveAlias(model, 'shadow')) === null, 10_000);
    expect((await h.registry.listVersions(model)).find((v) => v.version === 2)!.status).toBe('candidate');
    expect((await waitForStatus(run, () => true)).outcome).toBe('cancelled');
  }, 120_000);
});

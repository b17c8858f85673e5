/**
 * Many runs of one model approved at the same moment, all evaluated against the same champion: the
 * situation that once left an arbitrary one of them in production over champions it was never compared
 * with. Measures what happens now: how many deploy in the first round, which version ends in production,
 * how many runs were sent back to be evaluated and approved again, the statuses left in the registry,
 * and whether the alias history's times follow the order of its moves.
 *   npm run bench -- approvals [--runs 30] [--rows 1000]
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { z } from 'zod';
import { startWorker } from '../src/app';
import { issueApprovalToken, requesterProof } from '../src/auth/approvalToken';
import { loadConfig } from '../src/config';
import { usedCarsCsv, USED_CAR_FEATURES, USED_CAR_TARGET } from '../src/demo/usedCars';
import { createLogger } from '../src/logger';
import { createPool } from '../src/registry/db';
import { Registry } from '../src/registry/registry';
import type { LifecycleInputRaw } from '../src/schemas/lifecycle';
import { startServices } from '../src/services';
import { approveSignal, statusQuery, WORKFLOW_TYPE, type LifecycleStatus } from '../src/workflows/definitions';

const Options = z.strictObject({
  runs: z.coerce.number().int().min(2).max(100).default(30),
  rows: z.coerce.number().int().min(200).max(100_000).default(1000),
});

export default async function approvalsBench(raw: Record<string, string>) {
  const options = Options.parse(raw);
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'lifecycle-bench-'));
  await fs.chmod(dataDir, 0o755);
  const config = loadConfig({ DATA_DIR: dataDir, TEMPORAL_PORT: '0', TEMPORAL_UI_PORT: '0', POSTGRES_PORT: '0', LOG_LEVEL: 'error' });
  const log = createLogger('error');
  console.error(`starting embedded services in ${dataDir} ...`);
  const services = await startServices(config, log);
  const secret = randomUUID() + randomUUID();
  const worker = await startWorker({ config, log, temporalAddress: services.temporalAddress, databaseUrl: services.databaseUrl, secrets: { approvalSecret: secret, tokens: [] } });
  const connection = await Connection.connect({ address: services.temporalAddress });
  const client = new Client({ connection });
  const pool = createPool(services.databaseUrl);
  const registry = new Registry(pool);
  const model = 'bench-approvals';

  const start = async (name: string, seed: number, extra: Partial<LifecycleInputRaw> = {}): Promise<WorkflowHandle> => {
    const file = path.join(dataDir, 'datasets', `${name}.csv`);
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, usedCarsCsv(options.rows, seed));
    const workflowId = `bench-${name}`;
    const input: LifecycleInputRaw = { modelName: model, datasetUri: file, target: USED_CAR_TARGET, features: USED_CAR_FEATURES, approvers: ['alice'], requestedBy: 'bench', requesterProof: requesterProof(secret, workflowId, 'bench'), ...extra };
    return client.workflow.start(WORKFLOW_TYPE, { taskQueue: config.TEMPORAL_TASK_QUEUE, workflowId, args: [input] });
  };
  const status = (h: WorkflowHandle) => h.query(statusQuery);
  const until = async (h: WorkflowHandle, done: (s: LifecycleStatus) => boolean): Promise<LifecycleStatus> => {
    for (;;) {
      const s = await status(h).catch(() => null);
      if (s && done(s)) return s;
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const approve = async (h: WorkflowHandle) => {
    const { runId } = await h.describe();
    const token = issueApprovalToken(secret, { workflowId: h.workflowId, runId, approver: 'alice', decision: 'approve' }, 3_600_000).token;
    await h.signal(approveSignal, { approver: 'alice', comment: 'bench', token });
  };

  try {
    // A weak champion v1, so every run's candidate beats it in the first round.
    const champion = await start('champion', 1, { trainer: { name: 'ridge', params: { alpha: 1e6 } }, evaluation: { mustBeatBaseline: false } });
    await until(champion, (s) => s.stage === 'awaiting-approval');
    await approve(champion);
    await champion.result();

    console.error(`starting ${options.runs} runs against champion v1 ...`);
    const runs = await Promise.all(Array.from({ length: options.runs }, (_, i) => start(`run-${i}`, 100 + i)));
    await Promise.all(runs.map((h) => until(h, (s) => s.stage === 'awaiting-approval')));
    console.error('approving all of them at once ...');
    const approvedAt = Date.now();
    await Promise.all(runs.map(approve));
    const settled = await Promise.all(runs.map((h) => until(h, (s) => s.outcome !== null || (s.release.round === 2 && s.stage === 'awaiting-approval'))));
    const settleS = (Date.now() - approvedAt) / 1000;

    const deployed = settled.filter((s) => s.outcome === 'deployed');
    const production = await registry.resolveAlias(model, 'production');
    const statuses: Record<string, number> = {};
    for (const v of await registry.listVersions(model)) statuses[v.status] = (statuses[v.status] ?? 0) + 1;
    const { rows } = await pool.query('SELECT moved_at FROM alias_history WHERE model_name = $1 ORDER BY id', [model]);
    const times = rows.map((r: { moved_at: Date }) => r.moved_at.getTime());
    const monotonic = times.every((t: number, i: number) => i === 0 || t >= times[i - 1]);
    const secondRound = settled.filter((s) => s.release.round === 2);
    await Promise.all(runs.map((h) => h.terminate('bench over').catch(() => {})));
    return {
      runs: options.runs,
      deployed_in_round_1: deployed.length,
      production_version: production?.version ?? null,
      winner_version: deployed[0]?.candidate?.version ?? null,
      sent_to_round_2: secondRound.length,
      round_2_awaiting_approval: secondRound.filter((s) => s.stage === 'awaiting-approval').length,
      round_2_not_blessed: secondRound.filter((s) => s.outcome === 'not-blessed').length,
      round_2_compared_with: [...new Set(secondRound.map((s) => s.release.champion))],
      statuses,
      history_moves: times.length,
      history_times_monotonic: monotonic,
      settle_s: settleS,
    };
  } finally {
    await pool.end();
    await connection.close();
    await worker.stop();
    await services.stop();
    await fs.rm(dataDir, { recursive: true, force: true });
  }
}

/**
 * `npm run record-histories`: runs the lifecycle through its main endings on embedded servers and
 * writes each run's event history to test/histories/. Those files are what runs that are waiting today
 * look like: test/integration/replay.test.ts replays them against the current workflow code on every
 * change, so a change that would break a waiting run fails CI. Record new ones when the workflow
 * gains a path; never re-record old ones to make a change pass (see README, "Changing the workflow").
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { startWorker } from '../src/app';
import { issueApprovalToken, requesterProof } from '../src/auth/approvalToken';
import { loadConfig } from '../src/config';
import { usedCarsCsv, USED_CAR_FEATURES, USED_CAR_TARGET } from '../src/demo/usedCars';
import { createLogger } from '../src/logger';
import type { LifecycleInputRaw } from '../src/schemas/lifecycle';
import { startServices } from '../src/services';
import { approveSignal, rejectSignal, statusQuery, WORKFLOW_TYPE } from '../src/workflows/definitions';

const OUT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../test/histories');
const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'lifecycle-histories-'));
await fs.chmod(dataDir, 0o755);
const config = loadConfig({ DATA_DIR: dataDir, TEMPORAL_PORT: '0', TEMPORAL_UI_PORT: '0', POSTGRES_PORT: '0', LOG_LEVEL: 'warn' });
const log = createLogger('warn');
const services = await startServices(config, log);
const secret = randomUUID() + randomUUID();
const worker = await startWorker({ config, log, temporalAddress: services.temporalAddress, databaseUrl: services.databaseUrl, secrets: { approvalSecret: secret, tokens: [] } });
const connection = await Connection.connect({ address: services.temporalAddress });
const client = new Client({ connection });

async function dataset(name: string, csv: string): Promise<string> {
  const file = path.join(dataDir, 'datasets', `${name}.csv`);
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, csv);
  return file;
}

async function start(name: string, input: Partial<LifecycleInputRaw>, verified = true): Promise<WorkflowHandle> {
  const workflowId = `history-${name}`;
  const full: LifecycleInputRaw = {
    modelName: 'history-cars',
    datasetUri: await dataset(name, usedCarsCsv(400, 3)),
    target: USED_CAR_TARGET,
    features: USED_CAR_FEATURES,
    approvers: ['alice', 'bob'],
    requestedBy: 'eve',
    ...input,
  };
  if (verified) full.requesterProof = requesterProof(secret, workflowId, full.requestedBy!);
  return client.workflow.start(WORKFLOW_TYPE, { taskQueue: config.TEMPORAL_TASK_QUEUE, workflowId, args: [full] });
}

async function awaitingApproval(handle: WorkflowHandle): Promise<void> {
  for (;;) {
    const s = await handle.query(statusQuery).catch(() => null);
    if (s?.stage === 'awaiting-approval') return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function decide(handle: WorkflowHandle, approver: string, decision: 'approve' | 'reject') {
  const { runId } = await handle.describe();
  const token = issueApprovalToken(secret, { workflowId: handle.workflowId, runId, approver, decision }, 3_600_000).token;
  await handle.signal(decision === 'approve' ? approveSignal : rejectSignal, { approver, comment: `${decision} (recorded)`, token });
}

async function record(name: string, handle: WorkflowHandle): Promise<void> {
  await handle.result().catch(() => undefined);
  const history = await handle.fetchHistory();
  await fs.writeFile(path.join(OUT, `${name}.json`), `${historyToJSON(history)}\n`);
  console.error(`recorded ${name}: ${history.events?.length} events`);
}

const scenarios: Record<string, () => Promise<WorkflowHandle>> = {
  // Approved after a refused attempt (wrong approver), then deployed.
  async approved() {
    const h = await start('approved', {});
    await decide(h, 'eve', 'approve'); // too early: audited as not-waiting
    await awaitingApproval(h);
    await decide(h, 'mallory', 'approve');
    await decide(h, 'alice', 'approve');
    return h;
  },
  async rejected() {
    const h = await start('rejected', {});
    await awaitingApproval(h);
    await decide(h, 'bob', 'reject');
    return h;
  },
  async expired() {
    return start('expired', { approvalTimeout: '2s' });
  },
  // An unverified requester: two approvals needed.
  async 'two-approvals'() {
    const h = await start('two-approvals', {}, false);
    await awaitingApproval(h);
    await decide(h, 'alice', 'approve');
    await decide(h, 'bob', 'approve');
    return h;
  },
  async 'failed-validation'() {
    return start('failed-validation', { target: 'no_such_column' });
  },
  // Since the status-says-failed patch: the status and memo of a failed run say so.
  async 'failed-validation-status'() {
    return start('failed-validation-status', { target: 'no_such_column' });
  },
};

/** A first version in production for `modelName`, so a release has a champion to compare with. */
async function champion(modelName: string): Promise<void> {
  const h = await start(`${modelName}-champion`, { modelName, trainer: { name: 'ridge', params: { alpha: 1e6 } }, evaluation: { mustBeatBaseline: false } });
  await awaitingApproval(h);
  await decide(h, 'alice', 'approve');
  await h.result();
}

Object.assign(scenarios, {
  // Two runs approved against the same champion: the second finds production moved, is evaluated again and approved again.
  async superseded() {
    await champion('history-superseded');
    const [a, b] = [await start('superseded-a', { modelName: 'history-superseded' }), await start('superseded', { modelName: 'history-superseded' })];
    await Promise.all([awaitingApproval(a), awaitingApproval(b)]);
    await decide(a, 'alice', 'approve');
    await a.result();
    await decide(b, 'alice', 'approve');
    for (;;) {
      const s = await b.query(statusQuery);
      if (s.release.round === 2 && s.stage === 'awaiting-approval') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    await decide(b, 'bob', 'approve');
    return b;
  },
  // A canary nobody sends traffic to: rolled back for too little traffic.
  async 'canary-rolled-back'() {
    await champion('history-canary');
    const h = await start('canary-rolled-back', { modelName: 'history-canary', release: { strategy: 'canary', duration: '3s', checkEvery: '1s' } });
    await awaitingApproval(h);
    await decide(h, 'alice', 'approve');
    return h;
  },
  // A shadow period (no traffic: too little to report agreement), then approved and deployed.
  async shadow() {
    await champion('history-shadow');
    const h = await start('shadow', { modelName: 'history-shadow', release: { strategy: 'shadow', duration: '2s' } });
    await awaitingApproval(h);
    await decide(h, 'alice', 'approve');
    return h;
  },
} satisfies Record<string, () => Promise<WorkflowHandle>>);

try {
  await fs.mkdir(OUT, { recursive: true });
  const only = process.argv.slice(2);
  for (const [name, run] of Object.entries(scenarios)) {
    if (only.length === 0 || only.includes(name)) await record(name, await run());
  }
} finally {
  await connection.close();
  await worker.stop();
  await services.stop();
  await fs.rm(dataDir, { recursive: true, force: true });
}

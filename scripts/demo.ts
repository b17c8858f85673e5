/**
 * `npm run demo [-- --rows N --approve]`: one complete lifecycle on a generated used-car pricing dataset,
 * against the product started by `npm start`. It stops at the approval step and prints the three ways to
 * approve (Temporal UI, Temporal CLI, API); with --approve it approves through the API itself. Once the
 * model is deployed it asks the API for a price.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ApiClient, defaultApiUrl, localToken } from '../src/cli/apiClient';
import { loadConfig } from '../src/config';
import { usedCarsCsv, USED_CAR_FEATURES, USED_CAR_TARGET } from '../src/demo/usedCars';

const { values: args } = parseArgs({ options: { rows: { type: 'string', default: '20000' }, approve: { type: 'boolean', default: false } } });
const rows = Number(args.rows);
if (!Number.isInteger(rows) || rows < 100) throw new Error('--rows must be an integer >= 100');

const config = loadConfig();
const apiUrl = defaultApiUrl();
const engineer = new ApiClient(apiUrl, process.env.LIFECYCLE_TOKEN ?? localToken('local-engineer', config.dataDir));
const approver = new ApiClient(apiUrl, process.env.LIFECYCLE_APPROVER_TOKEN ?? localToken('local-approver', config.dataDir));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// DATA_DIR/datasets is the default drop zone for datasets (the rest of DATA_DIR is never ingestible).
const file = path.join(config.dataDir, 'datasets', 'demo', `used-cars-${rows}.csv`);
await fs.mkdir(path.dirname(file), { recursive: true });
await fs.writeFile(file, usedCarsCsv(rows));
console.log(`dataset: ${file} (${rows} used cars: ${USED_CAR_FEATURES.join(', ')} → ${USED_CAR_TARGET})`);

const started = await engineer.call('POST', '/lifecycles', {
  modelName: 'used-car-price',
  datasetUri: file,
  target: USED_CAR_TARGET,
  features: USED_CAR_FEATURES,
  trainer: { name: 'ridge', params: { alpha: 1 } },
  approvers: ['local-approver'],
  approvalTimeout: '1d',
});
const id: string = started.workflowId;
console.log(`lifecycle started: ${id}`);

async function waitFor(done: (s: any) => boolean) {
  let last = '';
  for (;;) {
    const run = await engineer.call('GET', `/lifecycles/${id}`);
    if (run.failure) throw new Error(`lifecycle failed: ${run.failure}`);
    const stage = run.status?.stage ?? run.temporalStatus;
    if (stage !== last) console.log(`  stage: ${stage}`);
    last = stage;
    if (run.status && done(run.status)) return run.status;
    await sleep(500);
  }
}

const waiting = await waitFor((s) => s.stage === 'awaiting-approval' || s.stage === 'done');
const e = waiting.evaluation;
if (e) {
  const champion = e.champion?.metrics ? `, champion v${e.champion.version} ${e.champion.metrics.rmse.toFixed(0)}` : '';
  console.log(`\nevaluation on ${e.holdoutRows} holdout rows: RMSE candidate ${e.candidate.metrics.rmse.toFixed(0)}, baseline ${e.baseline.metrics.rmse.toFixed(0)}${champion}; R² ${e.candidate.metrics.r2.toFixed(3)}`);
  for (const reason of e.gate.reasons) console.log(`  gate: ${reason}`);
}
if (waiting.stage === 'done') {
  console.log(`\nthe run ended without approval: ${waiting.outcome}`);
  process.exit(0);
}

const grant = await approver.call('POST', `/lifecycles/${id}/approval-token`);
console.log(`
The run waits for approval by one of: ${waiting.approvers.join(', ')}. Three ways to approve
(the token below is for this run, expires, and works once: another comes from: npm run lifecycle -- approval-token ${id} --as local-approver):

  Temporal Web UI: open http://127.0.0.1:${config.TEMPORAL_UI_PORT}/namespaces/${config.TEMPORAL_NAMESPACE}/workflows/${id}
    → More Actions → "Send a Signal", pick approve, paste this input (JSON), click outside the editor, Submit:
    ${grant.signalPayload}

  Temporal CLI:
    ${grant.temporalCli}

  API (as local-approver):
    curl -X POST ${apiUrl}/lifecycles/${id}/approve -H 'authorization: Bearer <local-approver token from ${path.join(config.dataDir, 'secrets.json')}>' -H 'content-type: application/json' -d '{"comment":"looks good"}'

  or the project CLI:  npm run lifecycle -- approve ${id} --as local-approver --comment "looks good"
`);

if (args.approve) {
  const verdict = await approver.call('POST', `/lifecycles/${id}/approve`, { comment: 'approved by the demo (--approve)' });
  console.log(`approved through the API: ${verdict.reason ?? 'queued'}`);
} else {
  console.log('waiting for the decision... (Ctrl-C to stop waiting; the run keeps waiting in Temporal)');
}

const final = await waitFor((s) => s.stage === 'done');
console.log(`\noutcome: ${final.outcome}${final.deployment ? ` — v${final.deployment.version} is now production` : ''}`);
if (final.outcome === 'deployed') {
  const car = { make: 'Toyota', model: 'RAV4', year: 2021, mileage_km: 42000, fuel: 'hybrid', region: 'london' };
  const answer = await engineer.call('POST', '/models/used-car-price/predict', { rows: [car] });
  console.log(`price of ${JSON.stringify(car)}: ${Math.round(answer.predictions[0])} (model v${answer.version})`);
}

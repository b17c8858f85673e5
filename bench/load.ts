/**
 * Many lifecycles at once against a real `npm start` (one product process with its embedded Temporal
 * dev server and PostgreSQL), driven over HTTP as users would:
 *   npm run bench -- load [--runs 1000] [--rows 2000] [--clients 64]
 * It deploys one model first (for predictions), starts N lifecycles at once, reads their status while
 * they run, approves each as soon as it waits, and predicts one row at a time throughout. It ends with
 * one JSON line: runs/s to approval and to deployed, status-read and approve latencies, predict
 * latency during the load next to the same predict load on the idle product (the ceiling), and the
 * peak RSS of each process.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { usedCarsCsv, USED_CAR_FEATURES, USED_CAR_TARGET } from '../src/demo/usedCars';
import { freePort } from '../src/infra/net';

const Options = z
  .object({
    runs: z.coerce.number().int().min(1).max(10_000).default(1000),
    rows: z.coerce.number().int().min(100).max(1_000_000).default(2000),
    clients: z.coerce.number().int().min(1).max(256).default(64),
  })
  .strict();

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const quantile = (xs: number[], q: number) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))] : null);
const round = (x: number | null) => (x === null ? null : Math.round(x * 10) / 10);

/** Runs `work` over `items` with at most `clients` in flight. */
async function pool<T>(items: T[], clients: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(clients, items.length) }, async () => {
    while (next < items.length) await work(items[next++]);
  }));
}

/** RSS of a process and its descendants, by command: polled from /proc. */
function rssByCommand(root: number): Record<string, number> {
  const children = new Map<number, number[]>();
  for (const entry of readdirProc()) {
    const stat = readProc(`/proc/${entry}/stat`);
    if (!stat) continue;
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    children.set(ppid, [...(children.get(ppid) ?? []), entry]);
  }
  const totals: Record<string, number> = {};
  const visit = (pid: number) => {
    const status = readProc(`/proc/${pid}/status`);
    const comm = readProc(`/proc/${pid}/comm`)?.trim() ?? '?';
    const kb = Number(/VmRSS:\s+(\d+)/.exec(status ?? '')?.[1] ?? 0);
    const name = comm.startsWith('postgres') ? 'postgres' : comm;
    totals[name] = (totals[name] ?? 0) + kb / 1024;
    for (const child of children.get(pid) ?? []) visit(child);
  };
  visit(root);
  return totals;
}
const readProc = (file: string) => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
};
const readdirProc = () => readdirSync('/proc').filter((n) => /^\d+$/.test(n)).map(Number);

export default async function loadBench(raw: Record<string, string>) {
  const options = Options.parse(raw);
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'lifecycle-load-'));
  await fs.chmod(dataDir, 0o755);
  const apiPort = await freePort();
  const env = {
    ...process.env,
    DATA_DIR: dataDir,
    API_PORT: String(apiPort),
    TEMPORAL_PORT: String(await freePort()),
    TEMPORAL_UI_PORT: String(await freePort()),
    POSTGRES_PORT: String(await freePort()),
    LOG_LEVEL: 'warn',
    LOG_FORMAT: 'json',
  };
  console.error(`starting the product in ${dataDir} ...`);
  const product = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  product.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise((r) => product.once('exit', r));
  try {
    for (let i = 0; !out.includes('Lifecycle is ready'); i++) {
      if (product.exitCode !== null || i > 600) throw new Error(`the product did not start:\n${out}`);
      await sleep(100);
    }
    const peaks: Record<string, number> = {};
    const sampler = setInterval(() => {
      for (const [name, mb] of Object.entries(rssByCommand(product.pid!))) peaks[name] = Math.max(peaks[name] ?? 0, mb);
    }, 500);

    const secrets = JSON.parse(await fs.readFile(path.join(dataDir, 'secrets.json'), 'utf8')) as { tokens: { identity: string; token: string }[] };
    const tokenOf = (id: string) => secrets.tokens.find((t) => t.identity === id)!.token;
    const api = async (method: string, route: string, as: string, body?: unknown) => {
      const t0 = performance.now();
      const response = await fetch(`http://127.0.0.1:${apiPort}${route}`, {
        method,
        headers: { authorization: `Bearer ${tokenOf(as)}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const json = (await response.json()) as Record<string, any>;
      return { status: response.status, json, ms: performance.now() - t0 };
    };

    const file = path.join(dataDir, 'datasets', 'load.csv');
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, usedCarsCsv(options.rows));
    const input = (modelName: string) => ({ modelName, datasetUri: file, target: USED_CAR_TARGET, features: USED_CAR_FEATURES, approvers: ['local-approver'] });
    const untilStage = async (id: string, stages: string[]) => {
      for (;;) {
        const r = await api('GET', `/lifecycles/${id}?view=summary`, 'local-engineer');
        if (stages.includes(r.json.stage) || r.json.temporalStatus !== 'RUNNING') return r;
        await sleep(250);
      }
    };

    // One deployed model to predict with, and the idle product's predict latency: the ceiling.
    const first = await api('POST', '/lifecycles', 'local-engineer', input('load-serving'));
    await untilStage(first.json.workflowId, ['awaiting-approval']);
    await api('POST', `/lifecycles/${first.json.workflowId}/approve`, 'local-approver', { comment: 'bench' });
    await untilStage(first.json.workflowId, ['done']);
    const row = { make: 'Toyota', model: 'Corolla', year: 2018, mileage_km: 60_000, fuel: 'petrol', region: 'north' };
    const predictOnce = async () => (await api('POST', '/models/load-serving/predict', 'local-engineer', { rows: [row] })).ms;
    const idlePredict: number[] = [];
    for (let i = 0; i < 300; i++) idlePredict.push(await predictOnce());

    // The load: N runs at once, status reads and predictions throughout, approvals as soon as asked.
    const loadPredict: number[] = [];
    const statusReads: number[] = [];
    const fullReads: number[] = [];
    const approvals: number[] = [];
    let running = true;
    const predictor = (async () => {
      while (running) loadPredict.push(await predictOnce());
    })();
    const t0 = performance.now();
    const ids: string[] = [];
    let failedStarts = 0;
    await pool(Array.from({ length: options.runs }, (_, i) => i), options.clients, async (i) => {
      const r = await api('POST', '/lifecycles', 'local-engineer', input(`load-${i % 10}`));
      if (r.status === 201) ids.push(r.json.workflowId);
      else failedStarts++;
    });
    console.error(`${ids.length} runs started in ${((performance.now() - t0) / 1000).toFixed(1)} s (${failedStarts} refused)`);
    let approvedAt = 0;
    let reachedApproval = 0;
    const outcomes: Record<string, number> = {};
    let approvalRounds = 0;
    await pool(ids, options.clients, async (id) => {
      let approvedOnce = false;
      for (;;) {
        // Polling for the stage, as a dashboard would: the summary view never waits for a worker.
        const r = await api('GET', `/lifecycles/${id}?view=summary`, 'local-engineer');
        statusReads.push(r.ms);
        if (Math.random() < 0.1) fullReads.push((await api('GET', `/lifecycles/${id}`, 'local-engineer')).ms);
        if (r.json.stage === 'awaiting-approval') {
          // Runs of one model approved together: all but one find production moved, are evaluated
          // again against the new champion and wait for a new approval (compare-and-set deploys).
          if (!approvedOnce) reachedApproval++;
          else approvalRounds++;
          approvedOnce = true;
          approvedAt = performance.now();
          const a = await api('POST', `/lifecycles/${id}/approve`, 'local-approver', { comment: 'bench' });
          approvals.push(a.ms);
        }
        if (r.json.temporalStatus !== 'RUNNING' || r.json.stage === 'done') break;
        await sleep(500);
      }
      const done = await untilStage(id, ['done']);
      outcomes[done.json.outcome ?? done.json.temporalStatus] = (outcomes[done.json.outcome ?? done.json.temporalStatus] ?? 0) + 1;
    });
    const deployedAt = performance.now();
    running = false;
    await predictor;
    clearInterval(sampler);
    console.error(`outcomes: ${JSON.stringify(outcomes)}`);

    return {
      runs: options.runs,
      rows: options.rows,
      clients: options.clients,
      started: ids.length,
      reached_approval: reachedApproval,
      outcomes,
      runs_per_s_to_approval: round(reachedApproval / ((approvedAt - t0) / 1000)),
      runs_per_s_to_deployed: round((outcomes.deployed ?? 0) / ((deployedAt - t0) / 1000)),
      status_read_p50_ms: round(quantile(statusReads, 0.5)),
      status_read_p99_ms: round(quantile(statusReads, 0.99)),
      full_status_read_p50_ms: round(quantile(fullReads, 0.5)),
      full_status_read_p99_ms: round(quantile(fullReads, 0.99)),
      approve_p99_ms: round(quantile(approvals, 0.99)),
      approvals_of_later_rounds: approvalRounds,
      predict_p50_ms_idle: round(quantile(idlePredict, 0.5)),
      predict_p99_ms_idle: round(quantile(idlePredict, 0.99)),
      predict_p50_ms_under_load: round(quantile(loadPredict, 0.5)),
      predict_p99_ms_under_load: round(quantile(loadPredict, 0.99)),
      peak_rss_mb: Object.fromEntries(Object.entries(peaks).map(([k, v]) => [k, Math.round(v)])),
    };
  } finally {
    product.kill('SIGINT');
    await exited;
    await fs.rm(dataDir, { recursive: true, force: true });
  }
}

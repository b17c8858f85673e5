/**
 * Data at scale: ingest (copy, parse once into the typed Parquet form), profile and validate a generated
 * 20-column file (14 numeric, 6 categorical, missing values, odd column names) through the product's own
 * ingest and validate activities, on the real embedded PostgreSQL. The file is cached between runs.
 *   npm run bench -- data [--rows 5000000] [--format csv|parquet] [--lifecycle 1] [--memory-limit 192MB]
 *
 * `ingest_s` is the ingest activity without its profile: copying, hashing, format sniffing and the two
 * passes that write the typed form. `profile_validate_s` is the profile of the typed form plus the
 * validate activity; `rows_per_s` is rows / profile_validate_s. With `--lifecycle 1` a whole lifecycle
 * (ingest → deploy, approved at once) then runs on the same file, and its wall time is reported too.
 * Peak RSS is this process's, which runs the worker: DuckDB's memory is in it.
 */
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { once } from 'node:events';
import { z } from 'zod';
import { MockActivityEnvironment } from '@temporalio/testing';
import { Client, Connection } from '@temporalio/client';
import { createActivities } from '../src/activities';
import type { DatasetVersion, ValidationSummary } from '../src/activities/data';
import { createArtifactStore } from '../src/artifacts';
import { issueApprovalToken, requesterProof } from '../src/auth/approvalToken';
import { sharedComputePool } from '../src/compute/pool';
import { withDuckDB, literal } from '../src/data/duckdb';
import { profileColumnar } from '../src/data/profiler';
import { loadConfig } from '../src/config';
import { startWorker } from '../src/app';
import { mulberry32 } from '../src/domain/split';
import { createLogger } from '../src/logger';
import { createPool, migrate } from '../src/registry/db';
import { MonitoringRegistry } from '../src/registry/monitoring';
import { Registry } from '../src/registry/registry';
import { DataPolicy } from '../src/schemas/lifecycle';
import { startServices } from '../src/services';
import { approveSignal, statusQuery, WORKFLOW_TYPE } from '../src/workflows/definitions';

const Options = z
  .object({
    rows: z.coerce.number().int().min(1000).max(50_000_000).default(1_000_000),
    format: z.enum(['csv', 'parquet']).default('csv'),
    lifecycle: z.enum(['0', '1']).default('0'),
    /** DATA_MEMORY_LIMIT for this run (default: the product's default). */
    'memory-limit': z.string().optional(),
  })
  .strict();

const NUMERIC = ['Price (EUR)', 'mileage_km', 'engine cc', 'power_kw', 'age_years', 'doors', 'seats', 'co2 g/km', 'weight_kg', 'length_mm', 'owners', 'tax €', 'rating', 'score#2'];
const CATEGORICAL = ['make', 'fuel', 'Region / Area', 'colour', 'gearbox', 'seller type'];
const LEVELS: Record<string, string[]> = {
  make: ['Toyota', 'VW', 'Ford', 'BMW', 'Fiat', 'Renault', 'Kia', 'Škoda'],
  fuel: ['petrol', 'diesel', 'electric', 'hybrid', 'LPG'],
  'Region / Area': ['north', 'south', 'east', 'west', 'centre', 'islands'],
  colour: ['black', 'white', 'silver', 'red', 'blue', 'grey, dark', 'green'],
  gearbox: ['manual', 'automatic'],
  'seller type': ['dealer', 'private', 'lease "return"'],
};
const csvField = (v: string) => (/[",\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v);

async function generateCsv(file: string, rows: number) {
  // Seeded, so cached files are the same wherever they are made.
  const rand = mulberry32(7);
  const out = createWriteStream(`${file}.tmp`);
  const write = async (text: string) => {
    if (!out.write(text)) await once(out, 'drain');
  };
  await write(`${[...NUMERIC, ...CATEGORICAL].map(csvField).join(',')}\n`);
  let batch = '';
  for (let r = 0; r < rows; r++) {
    const age = rand() * 20;
    const km = age * 12_000 * (0.5 + rand());
    const cells: string[] = [];
    for (const [i] of NUMERIC.entries()) {
      if (i > 0 && rand() < 0.02 + i * 0.004) cells.push(rand() < 0.5 ? '' : 'NA');
      else if (i === 0) cells.push((30_000 * Math.exp(-age / 8) - km * 0.02 + rand() * 2000).toFixed(0));
      else if (i === 1) cells.push(km.toFixed(0));
      else if (i === 4) cells.push(age.toFixed(1));
      else cells.push((rand() * 100 * i).toFixed(2));
    }
    for (const name of CATEGORICAL) {
      const levels = LEVELS[name];
      cells.push(rand() < 0.03 ? '' : csvField(levels[Math.floor(rand() * rand() * levels.length)]));
    }
    batch += `${cells.join(',')}\n`;
    if (batch.length > 1 << 20) {
      await write(batch);
      batch = '';
    }
  }
  await write(batch);
  out.end();
  await once(out, 'finish');
  await fs.rename(`${file}.tmp`, file);
}

/** The bench's file, made once per row count and format under ~/.cache/lifecycle/bench-data. */
async function benchFile(rows: number, format: 'csv' | 'parquet'): Promise<string> {
  const dir = path.join(os.homedir(), '.cache', 'lifecycle', 'bench-data');
  await fs.mkdir(dir, { recursive: true });
  const csv = path.join(dir, `cars-${rows}.csv`);
  if (!(await fs.stat(csv).catch(() => null))) {
    console.error(`generating ${rows} rows into ${csv} (cached for next time)`);
    await generateCsv(csv, rows);
  }
  if (format === 'csv') return csv;
  const parquet = path.join(dir, `cars-${rows}.parquet`);
  if (!(await fs.stat(parquet).catch(() => null))) {
    await withDuckDB({}, (db) => db.run(`COPY (SELECT * FROM read_csv(${literal(csv)}, header = true)) TO ${literal(`${parquet}.tmp`)} (FORMAT parquet)`));
    await fs.rename(`${parquet}.tmp`, parquet);
  }
  return parquet;
}

function rssSampler() {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  return {
    reset: () => (peak = process.memoryUsage().rss),
    peakMb: () => Math.round(Math.max(peak, process.memoryUsage().rss) / 2 ** 20),
    stop: () => clearInterval(timer),
  };
}

export default async function data(options: Record<string, string>) {
  const o = Options.parse(options);
  const file = await benchFile(o.rows, o.format);
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'lifecycle-bench-data-'));
  await fs.chmod(dataDir, 0o755);
  const config = loadConfig({ DATA_DIR: dataDir, INGEST_ROOTS: path.dirname(file), POSTGRES_PORT: '0', TEMPORAL_PORT: '0', TEMPORAL_UI_PORT: '0', LOG_LEVEL: 'warn', DATA_MEMORY_LIMIT: o['memory-limit'] });
  const log = createLogger('warn');
  const services = await startServices(config, log);
  const rss = rssSampler();
  try {
    await migrate(services.databaseUrl, log);
    const pool = createPool(services.databaseUrl, log);
    const store = createArtifactStore(config, log);
    const approvalSecret = randomUUID();
    const deps = {
      store,
      registry: new Registry(pool),
      monitoring: new MonitoringRegistry(pool),
      ingest: config.ingest,
      approvalSecret,
      reportLinks: { secret: approvalSecret, baseUrl: 'http://127.0.0.1', ttlMs: 60_000 },
      compute: sharedComputePool(),
      engine: { memoryLimit: config.DATA_MEMORY_LIMIT, spillDir: path.join(dataDir, 'scratch', 'duckdb') },
      scratchDir: path.join(dataDir, 'scratch'),
    };
    const activities = createActivities(deps);
    const workflowExecution = { workflowId: `bench-data-${randomUUID()}`, runId: randomUUID() };
    const env = (activityType: string) => new MockActivityEnvironment({ workflowExecution, activityId: activityType, activityType }, { logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} } as never });
    const features = [...NUMERIC.slice(1), ...CATEGORICAL];
    const policy = DataPolicy.parse({});

    rss.reset();
    let start = performance.now();
    const dataset = (await env('ingestDataset').run(activities.ingestDataset, { modelName: 'bench-data', sourceUri: file })) as DatasetVersion;
    const ingestTotal = (performance.now() - start) / 1000;
    // The ingest activity profiles as its last step: time that step alone on the stored typed form, and
    // count it with validation, so each figure is what its name says.
    start = performance.now();
    const table = await store.localFile(dataset.table);
    const columns = (JSON.parse((await store.read(dataset.profile)).toString('utf8')) as { columns: { name: string; storedAs: 'numeric' | 'text'; numeric: unknown }[] }).columns;
    await withDuckDB(deps.engine, (db) => profileColumnar(db, table, { rows: dataset.rows, delimiter: null, columns: columns.map((c) => ({ name: c.name, storedAs: c.storedAs, hasNumbers: c.numeric !== null })) }));
    const profileS = (performance.now() - start) / 1000;
    start = performance.now();
    const validation = (await env('validateDataset').run(activities.validateDataset as (input: unknown) => Promise<ValidationSummary>, { modelName: 'bench-data', dataset, target: NUMERIC[0], features, policy })) as ValidationSummary;
    const validateS = (performance.now() - start) / 1000;
    const dataPeak = rss.peakMb();
    console.error(`ingested ${dataset.rows} rows in ${ingestTotal.toFixed(2)} s, profile ${profileS.toFixed(2)} s, validate ${validateS.toFixed(2)} s, ${validation.warnings.length} warnings, peak ${dataPeak} MiB`);
    await pool.end();

    const figures: Record<string, unknown> = {
      rows: dataset.rows,
      format: o.format,
      bytes: dataset.bytes,
      ingest_s: round(ingestTotal - profileS),
      profile_validate_s: round(profileS + validateS),
      rows_per_s: Math.round(dataset.rows / (profileS + validateS)),
      peak_rss_mb: dataPeak,
    };
    if (o.lifecycle === '1') Object.assign(figures, await wholeLifecycle(config, services, file, features, rss));
    return figures;
  } finally {
    rss.stop();
    await services.stop();
    await fs.rm(dataDir, { recursive: true, force: true });
  }
}

const round = (x: number) => Math.round(x * 100) / 100;

/** A whole lifecycle on the same file with the worker in this process, approved as soon as it asks. */
async function wholeLifecycle(config: ReturnType<typeof loadConfig>, services: Awaited<ReturnType<typeof startServices>>, file: string, features: string[], rss: ReturnType<typeof rssSampler>) {
  const log = createLogger('warn');
  const secrets = { approvalSecret: randomUUID() + randomUUID(), tokens: [] };
  const worker = await startWorker({ config, log, temporalAddress: services.temporalAddress, databaseUrl: services.databaseUrl, secrets });
  const connection = await Connection.connect({ address: services.temporalAddress });
  try {
    const client = new Client({ connection });
    const workflowId = `bench-data-lifecycle-${randomUUID()}`;
    rss.reset();
    const start = performance.now();
    const handle = await client.workflow.start(WORKFLOW_TYPE, {
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      workflowId,
      args: [{ modelName: 'bench-data-lifecycle', datasetUri: file, target: NUMERIC[0], features, approvers: ['bench-approver'], requestedBy: 'bench', requesterProof: requesterProof(secrets.approvalSecret, workflowId, 'bench') }],
    });
    for (;;) {
      const status = await handle.query(statusQuery);
      if (status.outcome) throw new Error(`the lifecycle ended ${status.outcome}: ${status.failure?.message ?? ''}`);
      if (status.stage === 'awaiting-approval') break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const { runId } = await handle.describe();
    const scope = { workflowId, runId, approver: 'bench-approver', decision: 'approve' as const };
    await handle.signal(approveSignal, { approver: 'bench-approver', comment: '', token: issueApprovalToken(secrets.approvalSecret, scope, 60_000).token });
    const result = await handle.result();
    return { lifecycle_s: round((performance.now() - start) / 1000), lifecycle_outcome: result.outcome, lifecycle_peak_rss_mb: rss.peakMb() };
  } finally {
    await connection.close();
    await worker.stop();
  }
}

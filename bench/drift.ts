/**
 * Drift at scale: N rows a side × 20 features (14 numeric, 6 categorical) in the typed columnar form,
 * profiled (profileColumnar) and compared (compareDatasets) through the product's own data engine with the
 * default DriftPolicy. The two files are generated once per N, deterministically, and cached under
 * ~/.cache/lifecycle/bench-data.
 *   npm run bench -- drift [--rows 5000000] [--compare evidently] [--evidently-timeout 600] [--memory-limit 192MB]
 *
 * The current side differs from the reference in (SHIFTS): price (mean +0.3 sd), mileage_km (×1.25),
 * doors (more five-door cars), make (a new make, 12%), fuel (electric 5% → 30%): these five drift.
 * engine_cc moves by 0.03 sd (a KS test on a million rows would reject; normed Wasserstein 0.03 does not),
 * co2_g_km has 15% missing values instead of 2%, and 6% of tax_eur lies beyond the reference's range:
 * data-quality findings, not drift.
 *
 * `rows_per_s` is both sides' rows (2 × N) over the seconds of both profiles plus the comparison;
 * `monitor_s` is what a monitor run pays (the reference's profile is stored at ingest): the current
 * side's profile plus the comparison;
 * `peak_rss_mb` is this process's peak (DuckDB's memory is in it); `profile_cpu_s` and `drift_cpu_s` are
 * the CPU seconds of both profiles and of the comparison (steadier than wall time on a shared machine),
 * `load_1m` the machine's load average at the end. With `--compare evidently`, Evidently
 * 0.7's DataDriftPreset at its defaults scores the same two files in a venv the bench makes
 * (scripts/fixtures/evidently_drift.py); `evidently_s` is its Report.run alone (reading the files and
 * starting Python not counted), `speedup` is evidently_s over our profile + drift seconds, and
 * `verdicts_agree` says whether every feature's verdict and the dataset's verdict are the same.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { z } from 'zod';
import { compareDatasets, type DriftFeature } from '../src/data/driftEngine';
import { literal, withDuckDB, type EngineOptions } from '../src/data/duckdb';
import { profileColumnar } from '../src/data/profiler';
import { DriftPolicy } from '../src/schemas/monitoring';
import { rssSampler } from './_rss';

const Options = z
  .object({
    rows: z.coerce.number().int().min(1000).max(50_000_000).default(1_000_000),
    compare: z.enum(['none', 'evidently']).default('none'),
    /** Evidently is stopped after this many seconds (it did not finish 5,000,000 rows in 600 s here). */
    'evidently-timeout': z.coerce.number().int().min(1).max(86_400).default(600),
    /** DATA_MEMORY_LIMIT for this run (default: the product's default). */
    'memory-limit': z.string().optional(),
  })
  .strict();

// u(k): a uniform in (0, 1) from the row number and a stream number, so the files are the same wherever made.
// hash(i, k) is not used: DuckDB's two-argument hash gives strongly correlated streams.
const u = (k: number) => `((hash(i * 8192 + ${k})::DOUBLE + 0.5) / 18446744073709551616.0)`;
const normal = (k: number) => `(sqrt(-2 * ln(${u(k)})) * cos(2 * pi() * ${u(k + 1000)}))`;
const orMissing = (expr: string, k: number, share: string) => `CASE WHEN ${u(k + 2000)} < ${share} THEN NULL ELSE ${expr} END`;
/** One of `levels`, the first ones more often; `extra` (current side) replaces a share of them with another value. */
const pick = (levels: string[], k: number) => `[${levels.map(literal).join(', ')}][1 + floor(pow(${u(k)}, 1.5) * ${levels.length})::INTEGER]`;

type Side = 'reference' | 'current';
/** Each feature's SQL on either side: the shifted ones differ on the current side (see the header). */
const FEATURES: { name: string; kind: DriftFeature['kind']; sql: (side: Side) => string }[] = [
  { name: 'price', kind: 'numeric', sql: (s) => `round(20000 + 6000 * ${normal(1)} + ${s === 'current' ? 1800 : 0})` },
  { name: 'mileage_km', kind: 'numeric', sql: (s) => `round(exp(11 + 0.6 * ${normal(2)}) * ${s === 'current' ? 1.25 : 1})` },
  { name: 'engine_cc', kind: 'numeric', sql: (s) => `round(1000 + 1500 * ${u(3)} + ${s === 'current' ? 13 : 0})` },
  { name: 'power_kw', kind: 'numeric', sql: () => orMissing(`round(50 + 100 * pow(${u(4)}, 2), 1)`, 4, '0.02') },
  { name: 'age_years', kind: 'numeric', sql: () => `round(20 * ${u(5)}, 1)` },
  { name: 'doors', kind: 'numeric', sql: (s) => `[2, 3, 4, 5][1 + floor(pow(${u(6)}, ${s === 'current' ? 0.6 : 1.5}) * 4)::INTEGER]::DOUBLE` },
  { name: 'seats', kind: 'numeric', sql: () => `[2, 4, 5, 7][1 + floor(pow(${u(7)}, 0.8) * 4)::INTEGER]::DOUBLE` },
  { name: 'co2_g_km', kind: 'numeric', sql: (s) => orMissing(`round(100 + 30 * ${normal(8)}, 1)`, 8, s === 'current' ? '0.15' : '0.02') },
  { name: 'weight_kg', kind: 'numeric', sql: () => `round(1200 + 200 * ${normal(9)})` },
  { name: 'length_mm', kind: 'numeric', sql: () => orMissing(`round(4000 + 400 * ${normal(10)})`, 10, '0.03') },
  { name: 'owners', kind: 'numeric', sql: () => `(1 + floor(pow(${u(11)}, 2) * 4))::DOUBLE` },
  // The current side's top 6% (382–400 €) rise by 25 €, beyond the reference's range.
  { name: 'tax_eur', kind: 'numeric', sql: (s) => `round(100 + 300 * ${u(12)}${s === 'current' ? ` + CASE WHEN ${u(12)} > 0.94 THEN 25 ELSE 0 END` : ''}, 2)` },
  { name: 'rating', kind: 'numeric', sql: () => `round(1 + 4 * ${u(13)}, 2)` },
  { name: 'score', kind: 'numeric', sql: () => `${normal(14)}` },
  {
    name: 'make',
    kind: 'categorical',
    sql: (s) => `${s === 'current' ? `CASE WHEN ${u(15 + 3000)} < 0.12 THEN 'Tesla' ELSE ` : ''}${pick(['VW', 'Toyota', 'Ford', 'BMW', 'Fiat', 'Renault', 'Kia', 'Škoda'], 15)}${s === 'current' ? ' END' : ''}`,
  },
  {
    name: 'fuel',
    kind: 'categorical',
    sql: (s) => `CASE WHEN ${u(16 + 3000)} < ${s === 'current' ? 0.3 : 0.05} THEN 'electric' ELSE ${pick(['petrol', 'diesel', 'hybrid', 'LPG'], 16)} END`,
  },
  { name: 'region', kind: 'categorical', sql: () => orMissing(pick(['north', 'south', 'east', 'west', 'centre', 'islands'], 17), 17, '0.03') },
  { name: 'colour', kind: 'categorical', sql: () => pick(['black', 'white', 'silver', 'red', 'blue', 'grey', 'green'], 18) },
  { name: 'gearbox', kind: 'categorical', sql: () => pick(['manual', 'automatic'], 19) },
  { name: 'seller_type', kind: 'categorical', sql: () => pick(['dealer', 'private', 'lease return'], 20) },
];
const EXPECTED_DRIFT = ['price', 'mileage_km', 'doors', 'make', 'fuel'];

/** The side's typed Parquet file (DOUBLE and VARCHAR columns, missing values as NULL), made once per N. */
async function benchFile(rows: number, side: Side, engine: EngineOptions): Promise<string> {
  const dir = path.join(os.homedir(), '.cache', 'lifecycle', 'bench-data');
  await fs.mkdir(dir, { recursive: true });
  const file = path.join(dir, `drift-${side}-${rows}.parquet`);
  if (!(await fs.stat(file).catch(() => null))) {
    console.error(`generating ${rows} ${side} rows into ${file} (cached for next time)`);
    // The current side's rows are other draws than the reference's: its row numbers start after them.
    const first = side === 'reference' ? 0 : rows;
    const projection = FEATURES.map((f) => `${f.sql(side)} AS "${f.name}"`).join(', ');
    await withDuckDB(engine, (db) => db.run(`COPY (SELECT ${projection} FROM range(${first}, ${first + rows}) t(i)) TO ${literal(`${file}.tmp`)} (FORMAT parquet)`));
    await fs.rename(`${file}.tmp`, file);
  }
  return file;
}

const round = (x: number) => Math.round(x * 100) / 100;
const cpuSeconds = (c: NodeJS.CpuUsage) => (c.user + c.system) / 1e6;

export default async function drift(options: Record<string, string>) {
  const o = Options.parse(options);
  const spillDir = await fs.mkdtemp(path.join(os.tmpdir(), 'lifecycle-bench-drift-'));
  const engine: EngineOptions = { memoryLimit: o['memory-limit'] ?? '192MB', spillDir };
  const rss = rssSampler();
  try {
    const files = { reference: await benchFile(o.rows, 'reference', engine), current: await benchFile(o.rows, 'current', engine) };
    const dataset = { rows: o.rows, delimiter: null, columns: FEATURES.map((f) => ({ name: f.name, storedAs: f.kind === 'numeric' ? ('numeric' as const) : ('text' as const), hasNumbers: f.kind === 'numeric' })) };
    const features = FEATURES.map(({ name, kind }) => ({ name, kind }));

    rss.reset();
    const cpu = process.cpuUsage();
    let start = performance.now();
    const reference = await withDuckDB(engine, (db) => profileColumnar(db, files.reference, dataset));
    const referenceProfileS = (performance.now() - start) / 1000;
    start = performance.now();
    const profiles = { reference, current: await withDuckDB(engine, (db) => profileColumnar(db, files.current, dataset)) };
    const currentProfileS = (performance.now() - start) / 1000;
    const profileS = referenceProfileS + currentProfileS;
    const profileCpu = process.cpuUsage(cpu);
    start = performance.now();
    const onProgress = (step: string) => console.error(`  ${step}: ${((performance.now() - start) / 1000).toFixed(2)} s`);
    const result = await compareDatasets({ table: files.reference, profile: profiles.reference }, { table: files.current, profile: profiles.current }, features, DriftPolicy.parse({}), { ...engine, onProgress });
    const driftS = (performance.now() - start) / 1000;
    const driftCpu = process.cpuUsage(cpu);
    const peak = rss.peakMb();
    for (const f of result.features) console.error(`${f.feature.padEnd(12)} ${f.test.padEnd(14)} ${f.statistic.toPrecision(4).padStart(10)} ±${f.approximationError.toPrecision(2)} ${f.drifted ? 'DRIFT' : ''}`);
    for (const finding of result.findings) console.error(`  ${finding}`);
    console.error(`profiles ${profileS.toFixed(2)} s, drift ${driftS.toFixed(2)} s, peak ${peak} MiB; expected to drift: ${EXPECTED_DRIFT.join(', ')}`);

    const figures: Record<string, unknown> = {
      rows: o.rows,
      features: features.length,
      profile_s: round(profileS),
      drift_s: round(driftS),
      rows_per_s: Math.round((2 * o.rows) / (profileS + driftS)),
      // A monitor run: the reference's profile is stored at ingest, only the current side is profiled.
      monitor_s: round(currentProfileS + driftS),
      peak_rss_mb: peak,
      // CPU seconds of this process (DuckDB's threads too): steadier than wall time on a shared machine.
      profile_cpu_s: round(cpuSeconds(profileCpu)),
      drift_cpu_s: round(cpuSeconds(driftCpu) - cpuSeconds(profileCpu)),
      load_1m: round(os.loadavg()[0]),
      drifted: result.driftedFeatures,
      dataset_drift: result.datasetDrift,
    };
    if (o.compare === 'evidently') Object.assign(figures, await evidently(files, result, profileS + driftS, o['evidently-timeout'], spillDir));
    return figures;
  } finally {
    rss.stop();
    await fs.rm(spillDir, { recursive: true, force: true });
  }
}

const EvidentlyScore = z.object({
  seconds: z.number(),
  peak_rss_mb: z.number(),
  columns: z.record(z.string(), z.object({ test: z.string(), score: z.number(), drifted: z.boolean() })),
  datasetDrift: z.boolean(),
});

async function evidently(files: Record<Side, string>, ours: Awaited<ReturnType<typeof compareDatasets>>, oursS: number, timeoutS: number, dir: string) {
  const script = path.join(import.meta.dirname, '..', 'scripts', 'fixtures', 'evidently_drift.py');
  const columns = path.join(dir, 'columns.json');
  await fs.writeFile(columns, JSON.stringify({ numerical: FEATURES.filter((f) => f.kind === 'numeric').map((f) => f.name), categorical: FEATURES.filter((f) => f.kind === 'categorical').map((f) => f.name) }));
  console.error(`scoring the same files with Evidently (stopped after ${timeoutS} s) …`);
  try {
    const { stdout } = await promisify(execFile)('python3', [script, 'score', files.reference, files.current, columns], { timeout: timeoutS * 1000, killSignal: 'SIGKILL', maxBuffer: 1 << 24 });
    const theirs = EvidentlyScore.parse(JSON.parse(stdout.trim().split('\n').at(-1)!));
    const disagree = ours.features.filter((f) => theirs.columns[f.feature]?.drifted !== f.drifted || theirs.columns[f.feature]?.test !== f.test).map((f) => f.feature);
    for (const f of ours.features) {
      const t = theirs.columns[f.feature];
      console.error(`${f.feature.padEnd(12)} ours ${f.test} ${f.statistic.toPrecision(6)} ${f.drifted}  evidently ${t?.test} ${t?.score.toPrecision(6)} ${t?.drifted}`);
    }
    return {
      evidently_s: round(theirs.seconds),
      evidently_peak_rss_mb: theirs.peak_rss_mb,
      speedup: round(theirs.seconds / oursS),
      verdicts_agree: disagree.length === 0 && theirs.datasetDrift === ours.datasetDrift,
      ...(disagree.length > 0 ? { disagreements: disagree } : {}),
    };
  } catch (err) {
    const e = err as { killed?: boolean; stderr?: string };
    if (e.killed) return { evidently_s: null, evidently_timeout_s: timeoutS, speedup: null, verdicts_agree: null };
    throw new Error(`Evidently failed: ${e.stderr ?? String(err)}`);
  }
}

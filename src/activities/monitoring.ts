import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { once } from 'node:events';
import { log } from '@temporalio/activity';
import type { ArtifactRef } from '../artifacts/store';
import { buildColumnar, type ColumnarDataset } from '../data/columnar';
import { compareDatasets } from '../data/driftEngine';
import { ident, literal, withDuckDB } from '../data/duckdb';
import { profileColumnar } from '../data/profiler';
import { readTable } from '../data/tableReader';
import { driftVerdict, judgeDecay, type Decay, type DecayMetric, type DriftVerdict } from '../domain/decay';
import type { FeatureDrift } from '../domain/driftPolicy';
import { regressionMetrics } from '../domain/metrics';
import type { DatasetProfile } from '../domain/profile';
import type { MonitoringRegistry } from '../registry/monitoring';
import type { ModelVersion } from '../registry/registry';
import type { DriftReport } from '../reports/driftReport';
import { renderDriftReport } from '../reports/driftReportHtml';
import { reportLink } from '../reports/links';
import type { DriftPolicy } from '../schemas/monitoring';
import { createSession, predictTable } from '../serving/onnxSession';
import { currentRun } from './context';
import type { DatasetVersion } from './data';
import type { ActivityDeps } from './deps';
import type { Evaluation } from './evaluation';
import { FailureType, nonRetryable } from './failures';
import { Checkpoints, heartbeating } from './progress';

/** The column of the model's output in the current data's typed form and in the reference predictions. */
export const PREDICTION_COLUMN = 'prediction';
/** Prediction log rows read per query while the current data is written out. */
const PAGE_ROWS = 10_000;

type Feature = { name: string; kind: 'numeric' | 'categorical' };
/** A typed Parquet table and its profile, by reference. */
export interface ProfiledTable {
  table: ArtifactRef;
  profile: ArtifactRef;
}

/** What the monitor compares against: the production version, its training data and its output on that data. */
export interface DriftReference {
  modelName: string;
  version: number;
  versionId: number;
  datasetSha256: string;
  features: Feature[];
  data: ProfiledTable;
  /** The production version's predictions on its own training data (column PREDICTION_COLUMN), kept per version. */
  predictions: ProfiledTable;
  rows: number;
  evaluated: { metric: DecayMetric; value: number | null };
}

/** The data the monitor judges: the prediction log over a window, or a dataset. `data` is null when it has no rows. */
export interface CurrentData {
  source: 'prediction-log' | 'dataset';
  rows: number;
  windowStart: string | null;
  windowEnd: string;
  datasetUri: string | null;
  sha256: string | null;
  data: ProfiledTable | null;
  /** The model's output on the current rows (column PREDICTION_COLUMN); for the log, the same table as `data`. */
  predictions: ProfiledTable | null;
}

export interface DriftAssessment {
  verdict: DriftVerdict;
  summary: string;
  driftedFeatures: string[];
  share: number | null;
  datasetDrift: boolean | null;
  predictionDrift: boolean | null;
  decay: Decay;
  report: ArtifactRef;
  reportHtml: ArtifactRef;
  reportUrl: string;
}

export function monitoringActivities(deps: ActivityDeps) {
  const checkpoints = new Checkpoints(deps.store);
  const readProfile = async (ref: ArtifactRef) => JSON.parse((await deps.store.read(ref)).toString('utf8')) as DatasetProfile;
  const stored = async (t: ProfiledTable | null) => !t || ((await deps.store.exists(t.table)) && (await deps.store.exists(t.profile)));

  /** A scratch directory for one piece of work, removed afterwards whatever happens. */
  async function inScratch<T>(work: (dir: string) => Promise<T>): Promise<T> {
    const dir = path.join(deps.scratchDir, `drift-${randomUUID()}`);
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    try {
      return await work(dir);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  }

  /** Profiles a typed Parquet table as the ingest does, and stores both. */
  async function storeProfiled(file: string, columnar: ColumnarDataset): Promise<ProfiledTable> {
    const profile = await withDuckDB(deps.engine, (db) => profileColumnar(db, file, columnar));
    return { table: await deps.store.putFile(file, 'datasets', 'parquet'), profile: await deps.store.putBytes(JSON.stringify(profile), 'reports', 'json') };
  }

  /** The version's ONNX model run by ONNX Runtime over a typed table: its predictions as a typed, profiled table. */
  async function scoreTable(version: ModelVersion, table: ArtifactRef): Promise<ProfiledTable & { rows: number }> {
    const columns = version.signature.inputs.map((i) => ({ name: i.name, type: i.kind }));
    const rows = await withDuckDB(deps.engine, async (db) => readTable(db, await deps.store.localFile(table), columns));
    const session = await createSession(await fs.readFile(await deps.store.localFile(version.artifact)));
    let predictions: Float64Array;
    try {
      predictions = await predictTable(session, version.signature, rows);
    } finally {
      await session.release();
    }
    return inScratch(async (dir) => {
      const file = path.join(dir, 'predictions.parquet');
      await withDuckDB(deps.engine, async (db) => {
        await db.run(`CREATE TABLE p (${ident(PREDICTION_COLUMN)} DOUBLE)`);
        const appender = await db.createAppender('p');
        for (const p of predictions) {
          if (Number.isFinite(p)) appender.appendDouble(p);
          else appender.appendNull();
          appender.endRow();
        }
        appender.closeSync();
        await db.run(`COPY p TO ${literal(file)} (FORMAT parquet, COMPRESSION zstd)`);
      });
      const columnar: ColumnarDataset = { rows: predictions.length, columns: [{ name: PREDICTION_COLUMN, storedAs: 'numeric', hasNumbers: true }], delimiter: null };
      return { ...(await storeProfiled(file, columnar)), rows: predictions.length };
    });
  }

  return {
    /**
     * The reference of the model's production version: the typed table and profile of the dataset it was
     * trained on, and its own predictions on that table, scored once per version and kept in the store.
     * Null when the model has no production version.
     */
    async driftReference(input: { modelName: string }): Promise<DriftReference | null> {
      const version = await deps.registry.resolveAlias(input.modelName, 'production');
      if (!version) return null;
      const forms = await deps.registry.datasetForms(input.modelName, version.datasetSha256);
      if (!forms) throw nonRetryable(FailureType.datasetUnavailable, `the dataset of ${input.modelName} v${version.version} (${version.datasetSha256.slice(0, 12)}) has no stored typed form and profile to compare with`);
      const key = `drift-reference/${version.id}-${version.artifact.sha256}`;
      let predictions = JSON.parse((await deps.store.getNamed(key)) ?? 'null') as ProfiledTable | null;
      if (!predictions || !(await stored(predictions))) {
        const scored = await heartbeating('score reference', () => scoreTable(version, forms.table));
        predictions = { table: scored.table, profile: scored.profile };
        await deps.store.putNamed(key, JSON.stringify(predictions));
      }
      const evaluation = version.evaluation as Evaluation | null;
      const metric = evaluation?.primaryMetric ?? 'rmse';
      return {
        modelName: input.modelName,
        version: version.version,
        versionId: version.id,
        datasetSha256: version.datasetSha256,
        features: version.signature.inputs.map((i) => ({ name: i.name, kind: i.kind })),
        data: forms,
        predictions,
        rows: (await readProfile(forms.profile)).rows,
        evaluated: { metric, value: evaluation?.candidate.metrics[metric] ?? null },
      };
    },

    /**
     * The model's served predictions over [windowStart, windowEnd): inputs and output of every logged row
     * (role serve, answered), written out as a typed Parquet table through the ingest's own typing (the
     * features the model takes as categorical stay text) and profiled like a dataset. Checkpointed per run.
     */
    async predictionLogWindow(input: { modelName: string; features: Feature[]; windowStart: string; windowEnd: string }): Promise<CurrentData> {
      const base = { source: 'prediction-log' as const, windowStart: input.windowStart, windowEnd: input.windowEnd, datasetUri: null, sha256: null };
      if (input.features.some((f) => f.name === PREDICTION_COLUMN)) throw nonRetryable(FailureType.invalidInput, `a model input is named "${PREDICTION_COLUMN}", the name the monitor gives the model's output`);
      const { value } = await checkpoints.once(
        Checkpoints.key(input),
        () => heartbeating('read prediction log', () => inScratch(async (dir) => {
          const raw = path.join(dir, 'log.ndjson');
          const rows = await writeLogRows(deps.monitoring, input, raw);
          if (rows === 0) return { ...base, rows, data: null, predictions: null };
          const rawParquet = path.join(dir, 'log.parquet');
          const typed = path.join(dir, 'table.parquet');
          const names = [...input.features.map((f) => f.name), PREDICTION_COLUMN];
          const columnar = await withDuckDB(deps.engine, async (db) => {
            await db.run(
              `COPY (SELECT * FROM read_json(${literal(raw)}, format = 'newline_delimited', columns = {${names.map((n) => `${literal(n)}: 'VARCHAR'`).join(', ')}})) TO ${literal(rawParquet)} (FORMAT parquet)`,
            );
            return buildColumnar(db, [rawParquet], typed, { format: 'parquet', encoding: 'utf-8', keepAsText: input.features.filter((f) => f.kind === 'categorical').map((f) => f.name) });
          });
          const data = await storeProfiled(typed, columnar);
          return { ...base, rows, data, predictions: data };
        })),
        (kept) => stored(kept.data),
      );
      log.info('prediction log read', { model: input.modelName, rows: value.rows });
      return value;
    },

    /** A dataset given to the run (ingested by ingestDataset), with the production version's predictions on it. */
    async scoreDataset(input: { modelName: string; dataset: DatasetVersion; windowEnd: string }): Promise<CurrentData> {
      const version = await deps.registry.resolveAlias(input.modelName, 'production');
      if (!version) throw nonRetryable(FailureType.invalidInput, `model "${input.modelName}" has no production version to score the dataset with`);
      const { value: predictions } = await checkpoints.once(
        Checkpoints.key({ version: version.id, dataset: input.dataset.sha256 }),
        async () => heartbeating('score dataset', () => scoreTable(version, input.dataset.table)),
        (kept) => stored(kept),
      );
      return {
        source: 'dataset',
        rows: input.dataset.rows,
        windowStart: null,
        windowEnd: input.windowEnd,
        datasetUri: input.dataset.sourceUri,
        sha256: input.dataset.sha256,
        data: { table: input.dataset.table, profile: input.dataset.profile },
        predictions: { table: predictions.table, profile: predictions.profile },
      };
    },

    /**
     * Compares the current data with the reference feature by feature (the statistics engine), the model's
     * output with its output on the reference, and its error on the ground truth that arrived with its
     * evaluation; stores the report as JSON and HTML. Too few current rows: "not enough data", never "no drift".
     */
    async assessDrift(input: { reference: DriftReference; current: CurrentData; policy: DriftPolicy }): Promise<DriftAssessment> {
      const { reference, current, policy } = input;
      const { value } = await checkpoints.once(Checkpoints.key(), () =>
        heartbeating('assess drift', async () => {
          const judged = current.rows >= policy.minCurrentRows && current.data && current.predictions;
          const side = async (t: ProfiledTable) => ({ table: await deps.store.localFile(t.table), profile: await readProfile(t.profile) });
          const drift = judged ? await compareDatasets(await side(reference.data), await side(current.data!), reference.features, policy, deps.engine) : null;
          const prediction: FeatureDrift | null = judged
            ? ((await compareDatasets(await side(reference.predictions), await side(current.predictions!), [{ name: PREDICTION_COLUMN, kind: 'numeric' }], policy, deps.engine)).features[0] ?? null)
            : null;
          const decay =
            current.source === 'prediction-log'
              ? judgeDecay(reference.evaluated.metric, reference.evaluated.value, await feedbackMetrics(deps.monitoring, reference, current), policy)
              : { ...judgeDecay(reference.evaluated.metric, reference.evaluated.value, null, policy), reason: 'not judged: the current data is a dataset, not served predictions with feedback' };
          const verdict = driftVerdict({ currentRows: current.rows, minCurrentRows: policy.minCurrentRows, datasetDrift: drift ? drift.datasetDrift : null, decayed: decay.decayed });
          const summary = summarise(verdict, current.rows, policy, drift, prediction, decay);
          const report: DriftReport = {
            modelName: reference.modelName,
            verdict,
            summary,
            reference: { version: reference.version, datasetSha256: reference.datasetSha256, rows: reference.rows },
            current:
              current.source === 'prediction-log'
                ? { source: 'prediction-log', windowStart: current.windowStart!, windowEnd: current.windowEnd, rows: current.rows }
                : { source: 'dataset', datasetUri: current.datasetUri!, sha256: current.sha256!, rows: current.rows },
            drift,
            prediction,
            decay,
            policy,
            generatedAt: new Date().toISOString(),
          };
          const reportJson = await deps.store.putBytes(JSON.stringify(report, null, 2), 'reports', 'json');
          const reportHtml = await deps.store.putBytes(renderDriftReport(report), 'reports', 'html');
          return {
            verdict,
            summary,
            driftedFeatures: drift?.driftedFeatures ?? [],
            share: drift?.share ?? null,
            datasetDrift: drift?.datasetDrift ?? null,
            predictionDrift: prediction?.drifted ?? null,
            decay,
            report: reportJson,
            reportHtml,
          };
        }),
      );
      log.info('drift assessed', { model: reference.modelName, verdict: value.verdict, drifted: value.driftedFeatures.length });
      // The link is signed afresh on every call: a checkpointed one may be near its expiry.
      return { ...value, reportUrl: reportLink(value.reportHtml, deps.reportLinks) };
    },

    /** Writes the run into the model's drift history (GET /models/{name}/drift); a retry rewrites the same row. */
    async recordDriftRun(input: {
      modelName: string;
      version: number | null;
      current: Pick<CurrentData, 'windowStart' | 'windowEnd' | 'datasetUri' | 'rows'>;
      assessment: DriftAssessment | null;
      verdict: DriftVerdict;
      retraining: Record<string, unknown> | null;
    }): Promise<void> {
      const { workflowId, runId } = currentRun();
      const a = input.assessment;
      await deps.monitoring.recordDriftRun({
        workflowId,
        runId,
        modelName: input.modelName,
        version: input.version,
        windowStart: input.current.windowStart,
        windowEnd: input.current.windowEnd,
        datasetUri: input.current.datasetUri,
        currentRows: input.current.rows,
        verdict: input.verdict,
        driftedFeatures: a?.driftedFeatures ?? [],
        driftShare: a?.share ?? null,
        predictionDrift: a?.predictionDrift ?? null,
        decay: (a?.decay as unknown as Record<string, unknown>) ?? null,
        reportJson: a?.report ?? null,
        reportHtml: a?.reportHtml ?? null,
        retraining: input.retraining,
      });
    },
  };
}

/** Writes the window's logged rows as NDJSON, every value as text (the typing is the ingest's); returns the row count. */
async function writeLogRows(monitoring: MonitoringRegistry, input: { modelName: string; features: Feature[]; windowStart: string; windowEnd: string }, file: string): Promise<number> {
  const out = createWriteStream(file);
  let rows = 0;
  try {
    for await (const page of monitoring.predictionLogPages(input.modelName, input.windowStart, input.windowEnd, PAGE_ROWS)) {
      for (const { inputs, prediction } of page) {
        const line: Record<string, string | null> = {};
        for (const f of input.features) line[f.name] = asText(inputs[f.name]);
        line[PREDICTION_COLUMN] = String(prediction);
        if (!out.write(`${JSON.stringify(line)}\n`)) await once(out, 'drain');
        rows++;
      }
    }
  } finally {
    out.end();
    await once(out, 'close');
  }
  return rows;
}

const asText = (v: unknown): string | null => (v === null || v === undefined ? null : typeof v === 'object' ? JSON.stringify(v) : String(v));

/** The production version's error on the window's predictions whose ground truth arrived (null: none did). */
async function feedbackMetrics(monitoring: MonitoringRegistry, reference: DriftReference, current: CurrentData) {
  const pairs = await monitoring.feedbackPairs(reference.modelName, reference.version, current.windowStart!, current.windowEnd);
  return pairs.actual.length > 0 ? regressionMetrics(pairs.actual, pairs.predicted) : null;
}

function summarise(verdict: DriftVerdict, rows: number, policy: DriftPolicy, drift: { driftedFeatures: string[]; features: unknown[]; share: number } | null, prediction: FeatureDrift | null, decay: Decay): string {
  const parts: string[] = [];
  if (!drift) parts.push(`${rows} current row(s), fewer than ${policy.minCurrentRows}: drift not judged`);
  else parts.push(`${drift.driftedFeatures.length} of ${drift.features.length} features drifted${drift.driftedFeatures.length ? ` (${drift.driftedFeatures.slice(0, 10).join(', ')})` : ''}`);
  if (prediction) parts.push(`prediction ${prediction.drifted ? 'drifted' : 'stable'}`);
  if (decay.decayed !== null) parts.push(decay.decayed ? `performance decayed: ${decay.reason}` : 'no performance decay');
  return `${verdict}: ${parts.join('; ')}`;
}

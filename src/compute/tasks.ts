// The CPU-heavy work of the lifecycle's activities, as named pure tasks that run in a compute thread
// (see pool.ts). Each takes artifact refs and small parameters, reads and writes the artifact store
// itself, and returns small results or artifact refs: no table ever crosses between threads.
import { performance } from 'node:perf_hooks';
import { LocalArtifactStore, type ArtifactRef } from '../artifacts/store';
import { CsvFormatError, readCsv } from '../data/csv';
import { regressionMetrics, type RegressionMetrics } from '../domain/metrics';
import { buildLinearModelOnnx, linearModelSignature } from '../domain/onnx/linearModelGraph';
import { fitRidge, meanBaseline, predictLinear, type RidgeParams } from '../domain/ridge';
import { toTable, type DatasetSchema, type RawTable } from '../domain/schema';
import { holdoutSplit } from '../domain/split';
import { selectRows, type Table } from '../domain/table';
import { validateDataset, type ValidationReport } from '../domain/validation';
import type { ModelSignature } from '../registry/registry';
import { createSession, predictTable } from '../serving/onnxSession';

/** Bad input no retry can fix; the activity turns it into a non-retryable failure of this type. */
export class TaskFailure extends Error {
  override name = 'TaskFailure';
  constructor(
    readonly failureType: 'DatasetInvalid' | 'TrainingFailed',
    message: string,
  ) {
    super(message);
  }
}

export interface SplitSpec {
  seed: number;
  holdoutFraction: number;
}

/** The seeded split every stage uses, so evaluation never scores rows the model was trained on. */
export function splitRows(table: Table, split: SplitSpec) {
  const { train, holdout } = holdoutSplit(table.rowCount, split);
  return { train: selectRows(table, train), holdout: selectRows(table, holdout) };
}

export function targetValues(table: Table, target: string): Float64Array {
  const column = table.columns[target];
  if (column?.kind !== 'numeric') throw new Error(`target "${target}" is not a numeric column`);
  return column.values;
}

/** Reads a stored dataset (hash-checked) as raw string columns. */
async function readRaw(storeRoot: string, dataset: ArtifactRef): Promise<RawTable> {
  try {
    return await readCsv(new LocalArtifactStore(storeRoot).readStream(dataset));
  } catch (err) {
    if (err instanceof CsvFormatError) throw new TaskFailure('DatasetInvalid', `dataset ${dataset.sha256.slice(0, 12)}: ${err.message}`);
    throw err;
  }
}

export interface ValidateTask {
  storeRoot: string;
  dataset: ArtifactRef;
  target: string;
  features: string[];
  reference: DatasetSchema | null;
}

export interface TrainTask {
  storeRoot: string;
  dataset: ArtifactRef;
  schema: DatasetSchema;
  target: string;
  features: string[];
  split: SplitSpec;
  params: Partial<RidgeParams>;
  onnx: { docString: string; metadata: Record<string, string> };
}

export interface TrainedModel {
  artifact: ArtifactRef;
  signature: ModelSignature;
  trainingMetrics: RegressionMetrics;
  trainRows: number;
}

export interface ModelScore {
  metrics: RegressionMetrics;
  /** Wall time of one ONNX Runtime call over the whole holdout. */
  holdoutMs: number;
}

export interface EvaluateTask {
  storeRoot: string;
  dataset: ArtifactRef;
  schema: DatasetSchema;
  /** Columns to load: the features, the target and the champion's inputs. */
  columns: string[];
  target: string;
  features: string[];
  split: SplitSpec;
  candidate: { artifact: ArtifactRef; signature: ModelSignature };
  /** The production model, when it can score this dataset. */
  champion: { artifact: ArtifactRef; signature: ModelSignature } | null;
}

export interface Scores {
  holdoutRows: number;
  candidate: ModelScore;
  baseline: ModelScore;
  champion: ModelScore | null;
}

/** Scores one ONNX model on the holdout through ONNX Runtime. */
async function score(onnx: Uint8Array, signature: ModelSignature, holdout: Table, actual: Float64Array): Promise<ModelScore> {
  const session = await createSession(onnx);
  try {
    const start = performance.now();
    const predicted = await predictTable(session, signature, holdout);
    const holdoutMs = performance.now() - start;
    return { metrics: regressionMetrics(actual, predicted), holdoutMs };
  } finally {
    await session.release();
  }
}

export const tasks = {
  /** Parses and checks the dataset, stores the full report; returns the report and its ref. */
  async validate(input: ValidateTask): Promise<{ report: ValidationReport; stored: ArtifactRef }> {
    const raw = await readRaw(input.storeRoot, input.dataset);
    const report = validateDataset(raw, { target: input.target, features: input.features, reference: input.reference });
    const stored = await new LocalArtifactStore(input.storeRoot).putBytes(JSON.stringify(report, null, 2), 'reports', 'json');
    return { report, stored };
  },

  /** Fits ridge regression on the training split, exports ONNX and stores it. */
  async train(input: TrainTask): Promise<TrainedModel> {
    const table = toTable(await readRaw(input.storeRoot, input.dataset), input.schema, [...input.features, input.target]);
    const { train } = splitRows(table, input.split);
    let model;
    try {
      model = fitRidge(train, input.features, input.target, input.params);
    } catch (err) {
      throw new TaskFailure('TrainingFailed', `ridge training failed: ${(err as Error).message}`);
    }
    const trainingMetrics = regressionMetrics(targetValues(train, input.target), predictLinear(model, train));
    const onnx = buildLinearModelOnnx(model, input.onnx);
    const artifact = await new LocalArtifactStore(input.storeRoot).putBytes(onnx, 'models', 'onnx');
    return { artifact, signature: linearModelSignature(model), trainingMetrics, trainRows: train.rowCount };
  },

  /** Candidate, naive mean baseline and champion on the same seeded holdout, through ONNX Runtime. */
  async evaluate(input: EvaluateTask): Promise<Scores> {
    const store = new LocalArtifactStore(input.storeRoot);
    const table = toTable(await readRaw(input.storeRoot, input.dataset), input.schema, input.columns);
    const { train, holdout } = splitRows(table, input.split);
    const actual = targetValues(holdout, input.target);
    const candidate = await score(await store.read(input.candidate.artifact), input.candidate.signature, holdout, actual);
    const baselineModel = meanBaseline(train, input.features, input.target);
    const baseline = await score(buildLinearModelOnnx(baselineModel, { docString: 'naive mean baseline' }), linearModelSignature(baselineModel), holdout, actual);
    const champion = input.champion ? await score(await store.read(input.champion.artifact), input.champion.signature, holdout, actual) : null;
    return { holdoutRows: holdout.rowCount, candidate, baseline, champion };
  },

  /** A fit of ridge regression on an in-memory table, for the pool's own tests and the bench. */
  async fitRidge(input: { table: Table; features: string[]; target: string; params?: Partial<RidgeParams> }) {
    return fitRidge(input.table, input.features, input.target, input.params);
  },
};

export type Tasks = typeof tasks;
export type TaskName = keyof Tasks;
export type TaskInput<K extends TaskName> = Parameters<Tasks[K]>[0];
export type TaskOutput<K extends TaskName> = Awaited<ReturnType<Tasks[K]>>;

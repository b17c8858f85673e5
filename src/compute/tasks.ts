// The CPU-heavy work of the lifecycle's activities, as named pure tasks that run in a compute thread
// (see pool.ts). Each reads the local files it is given (the dataset's typed Parquet form, ONNX models)
// and returns small results or bytes for the activity to store: no table ever crosses between threads.
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { withDuckDB, type EngineOptions } from '../data/duckdb';
import { readSplit, type ColumnRequest } from '../data/tableReader';
import { regressionMetrics, type RegressionMetrics } from '../domain/metrics';
import { buildLinearModelOnnx, linearModelSignature } from '../domain/onnx/linearModelGraph';
import { fitRidge, meanBaseline, predictLinear, type RidgeParams } from '../domain/ridge';
import type { DatasetSchema } from '../domain/schema';
import type { Table } from '../domain/table';
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

export function targetValues(table: Table, target: string): Float64Array {
  const column = table.columns[target];
  if (column?.kind !== 'numeric') throw new Error(`target "${target}" is not a numeric column`);
  return column.values;
}

/** The dataset as a stage sees it: its typed Parquet file (a local, hash-checked copy) and how to read it. */
export interface DatasetFile {
  file: string;
  engine: EngineOptions;
}

/**
 * Loads the named columns with their schema types, straight into the sides of the seeded split that the
 * stage needs; rows without a target are left out (data.missingTarget).
 */
async function load(dataset: DatasetFile, schema: DatasetSchema, names: string[], target: string, split: SplitSpec, sides: ('train' | 'holdout')[]) {
  const columns: ColumnRequest[] = names.map((name) => {
    const type = schema.columns.find((c) => c.name === name)?.type;
    if (!type) throw new Error(`column "${name}" is not in the dataset's schema`);
    return { name, type };
  });
  return withDuckDB(dataset.engine, (db) => readSplit(db, dataset.file, columns, target, { ...split, sides }));
}

export interface TrainTask {
  dataset: DatasetFile;
  schema: DatasetSchema;
  target: string;
  features: string[];
  split: SplitSpec;
  params: Partial<RidgeParams>;
  onnx: { docString: string; metadata: Record<string, string> };
}

export interface TrainedModel {
  onnx: Uint8Array;
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
  dataset: DatasetFile;
  schema: DatasetSchema;
  /** Columns to load: the features, the target and the champion's inputs. */
  columns: string[];
  target: string;
  features: string[];
  split: SplitSpec;
  /** ONNX files (local, hash-checked copies) and their signatures. */
  candidate: { file: string; signature: ModelSignature };
  /** The production model, when it can score this dataset. */
  champion: { file: string; signature: ModelSignature } | null;
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
  /** Fits ridge regression on the training split and exports it as ONNX. */
  async train(input: TrainTask): Promise<TrainedModel> {
    const { train } = await load(input.dataset, input.schema, [...input.features, input.target], input.target, input.split, ['train']);
    let model;
    try {
      model = fitRidge(train, input.features, input.target, input.params);
    } catch (err) {
      throw new TaskFailure('TrainingFailed', `ridge training failed: ${(err as Error).message}`);
    }
    const trainingMetrics = regressionMetrics(targetValues(train, input.target), predictLinear(model, train));
    const onnx = buildLinearModelOnnx(model, input.onnx);
    return { onnx, signature: linearModelSignature(model), trainingMetrics, trainRows: train.rowCount };
  },

  /** Candidate, naive mean baseline and champion on the same seeded holdout, through ONNX Runtime. */
  async evaluate(input: EvaluateTask): Promise<Scores> {
    const { holdout } = await load(input.dataset, input.schema, input.columns, input.target, input.split, ['holdout']);
    const actual = targetValues(holdout, input.target);
    const candidate = await score(await readFile(input.candidate.file), input.candidate.signature, holdout, actual);
    // The baseline predicts the training rows' mean target whatever the row: its weights are 0, so its
    // encodings (fitted here on the holdout) only give it the candidate's inputs, and of the training rows
    // only the target is loaded.
    const { train } = await load(input.dataset, input.schema, [input.target], input.target, input.split, ['train']);
    const trainTarget = targetValues(train, input.target);
    const baselineModel = { ...meanBaseline(holdout, input.features, input.target), intercept: trainTarget.reduce((sum, y) => sum + y, 0) / trainTarget.length };
    const baseline = await score(buildLinearModelOnnx(baselineModel, { docString: 'naive mean baseline' }), linearModelSignature(baselineModel), holdout, actual);
    const champion = input.champion ? await score(await readFile(input.champion.file), input.champion.signature, holdout, actual) : null;
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

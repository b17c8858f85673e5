import { log } from '@temporalio/activity';
import { currentRun } from './context';
import type { ArtifactRef } from '../artifacts/store';
import { regressionMetrics, type RegressionMetrics } from '../domain/metrics';
import { buildLinearModelOnnx, linearModelSignature } from '../domain/onnx/linearModelGraph';
import { fitRidge, predictLinear } from '../domain/ridge';
import type { DatasetSchema } from '../domain/schema';
import { holdoutSplit } from '../domain/split';
import { selectRows, type Table } from '../domain/table';
import type { ModelSignature } from '../registry/registry';
import type { EvaluationPolicy, TrainerSpec } from '../schemas/lifecycle';
import type { ActivityDeps } from './deps';
import { loadTable } from './data';
import { FailureType, nonRetryable } from './failures';

export interface TrainInput {
  modelName: string;
  dataset: ArtifactRef;
  schema: DatasetSchema;
  target: string;
  features: string[];
  trainer: TrainerSpec;
  split: Pick<EvaluationPolicy, 'seed' | 'holdoutFraction'>;
  requestedBy: string;
}

export interface CandidateModel {
  versionId: number;
  version: number;
  artifact: ArtifactRef;
  signature: ModelSignature;
  trainingMetrics: RegressionMetrics;
}

/** The seeded split every stage uses, so evaluation never scores rows the model was trained on. */
export function splitRows(table: Table, split: TrainInput['split']) {
  const { train, holdout } = holdoutSplit(table.rowCount, split);
  return { train: selectRows(table, train), holdout: selectRows(table, holdout) };
}

export function targetValues(table: Table, target: string): Float64Array {
  const column = table.columns[target];
  if (column?.kind !== 'numeric') throw new Error(`target "${target}" is not a numeric column`);
  return column.values;
}

export function trainingActivities(deps: ActivityDeps) {
  return {
    /** Fits the trainer on the training split, exports ONNX, stores it and registers a candidate version. */
    async trainModel(input: TrainInput): Promise<CandidateModel> {
      const workflowExecution = currentRun();
      const table = await loadTable(deps, input.dataset, input.schema, [...input.features, input.target]);
      const { train } = splitRows(table, input.split);
      let model;
      try {
        model = fitRidge(train, input.features, input.target, input.trainer.params);
      } catch (err) {
        throw nonRetryable(FailureType.trainingFailed, `ridge training failed: ${(err as Error).message}`);
      }
      const trainingMetrics = regressionMetrics(targetValues(train, input.target), predictLinear(model, train));
      const onnx = buildLinearModelOnnx(model, {
        docString: `${input.modelName}: ridge regression of "${input.target}"`,
        metadata: {
          model_name: input.modelName,
          dataset_sha256: input.dataset.sha256,
          trainer: input.trainer.name,
          params: JSON.stringify(input.trainer.params),
          workflow_id: workflowExecution.workflowId,
        },
      });
      const artifact = await deps.store.putBytes(onnx, 'models', 'onnx');
      const registered = await deps.registry.registerModelVersion({
        modelName: input.modelName,
        runKey: `${workflowExecution.workflowId}/${workflowExecution.runId}`,
        trainer: input.trainer.name,
        params: { ...input.trainer.params, seed: input.split.seed, holdoutFraction: input.split.holdoutFraction },
        trainingMetrics: { ...trainingMetrics },
        signature: linearModelSignature(model),
        artifact,
        datasetSha256: input.dataset.sha256,
        workflowId: workflowExecution.workflowId,
        runId: workflowExecution.runId,
        createdBy: input.requestedBy,
      });
      log.info('candidate trained', { version: registered.version, trainRows: train.rowCount, rmse: trainingMetrics.rmse });
      return {
        versionId: registered.id,
        version: registered.version,
        artifact,
        signature: registered.signature,
        trainingMetrics,
      };
    },
  };
}

import { log } from '@temporalio/activity';
import type { ArtifactRef } from '../artifacts/store';
import type { TrainedModel } from '../compute/tasks';
import type { RegressionMetrics } from '../domain/metrics';
import type { DatasetSchema } from '../domain/schema';
import type { ModelSignature } from '../registry/registry';
import type { EvaluationPolicy, TrainerSpec } from '../schemas/lifecycle';
import { compute } from './compute';
import type { DatasetVersion } from './data';
import { currentRun } from './context';
import type { ActivityDeps } from './deps';
import { Checkpoints } from './progress';

/** A trained model once stored: what a retry finds in its checkpoint. */
type StoredModel = Omit<TrainedModel, 'onnx'> & { artifact: ArtifactRef };

export interface TrainInput {
  modelName: string;
  dataset: DatasetVersion;
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

export function trainingActivities(deps: ActivityDeps) {
  const checkpoints = new Checkpoints(deps.store);
  /** A kept model is reused only if its bytes are still in the store. */
  const stillStored = (t: StoredModel) => deps.store.exists(t.artifact);

  return {
    /**
     * Fits the trainer on the training split, exports ONNX and stores it (in a compute thread, while the
     * activity heartbeats), then registers a candidate version. The stored model is checkpointed under the
     * run and activity first, so a retry after a failed registration (database down) registers it without
     * training again; the registration itself is idempotent by run key.
     */
    async trainModel(input: TrainInput): Promise<CandidateModel> {
      const workflowExecution = currentRun();
      const { value: trained, resumed } = await checkpoints.once(
        Checkpoints.key(),
        async (): Promise<StoredModel> => {
          const { onnx, ...model } = await compute(deps, 'train', {
            dataset: { file: await deps.store.localFile(input.dataset.table), engine: deps.engine },
            schema: input.schema,
            target: input.target,
            features: input.features,
            split: input.split,
            params: input.trainer.params,
            onnx: {
              docString: `${input.modelName}: ridge regression of "${input.target}"`,
              metadata: {
                model_name: input.modelName,
                dataset_sha256: input.dataset.sha256,
                trainer: input.trainer.name,
                params: JSON.stringify(input.trainer.params),
                workflow_id: workflowExecution.workflowId,
              },
            },
          });
          return { ...model, artifact: await deps.store.putBytes(onnx, 'models', 'onnx') };
        },
        stillStored,
      );
      if (resumed) log.info('trained model found from an earlier attempt; registering it without training again', { sha256: trained.artifact.sha256 });
      const registered = await deps.registry.registerModelVersion({
        modelName: input.modelName,
        runKey: `${workflowExecution.workflowId}/${workflowExecution.runId}`,
        trainer: input.trainer.name,
        params: { ...input.trainer.params, seed: input.split.seed, holdoutFraction: input.split.holdoutFraction },
        trainingMetrics: { ...trained.trainingMetrics },
        signature: trained.signature,
        artifact: trained.artifact,
        datasetSha256: input.dataset.sha256,
        workflowId: workflowExecution.workflowId,
        runId: workflowExecution.runId,
        createdBy: input.requestedBy,
      });
      log.info('candidate trained', { version: registered.version, trainRows: trained.trainRows, rmse: trained.trainingMetrics.rmse, resumed });
      return {
        versionId: registered.id,
        version: registered.version,
        artifact: trained.artifact,
        signature: registered.signature,
        trainingMetrics: trained.trainingMetrics,
      };
    },
  };
}

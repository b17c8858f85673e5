import { log } from '@temporalio/activity';
import { currentRun } from './context';
import type { ModelVersionStatus } from '../registry/registry';
import { createSession } from '../serving/onnxSession';
import type { ActivityDeps } from './deps';
import { heartbeating } from './progress';

export interface Deployment {
  alias: string;
  version: number;
  previousVersion: number | null;
}

export function deploymentActivities(deps: ActivityDeps) {
  return {
    /**
     * Verifies the artifact loads, then moves the `production` alias in one audited transaction.
     * It heartbeats while it waits (a busy registry, a lock), so a worker lost mid-deploy is noticed in seconds.
     */
    async deployModel(input: { modelName: string; versionId: number; approvedBy: string[] }): Promise<Deployment> {
      return heartbeating('deploy', () => deploy(input));
    },

    /** Records how a candidate's run ended when it was not deployed. */
    async recordOutcome(input: { versionId: number; status: Extract<ModelVersionStatus, 'rejected' | 'expired' | 'not-blessed'>; decidedBy?: string[] }): Promise<void> {
      await deps.registry.setStatus(input.versionId, input.status, input.decidedBy);
    },
  };

  async function deploy(input: { modelName: string; versionId: number; approvedBy: string[] }): Promise<Deployment> {
    const { workflowId, runId } = currentRun();
    const version = await deps.registry.getVersion(input.versionId);
    if (!version) throw new Error(`model version id ${input.versionId} is not in the registry`);
    // Refuse to point production at bytes that do not match their hash or that ONNX Runtime cannot load.
    const session = await createSession(await deps.store.read(version.artifact));
    await session.release();
    await deps.registry.setStatus(version.id, 'approved', input.approvedBy);
    const moved = await deps.registry.moveAlias({
      modelName: input.modelName,
      alias: 'production',
      versionId: version.id,
      movedBy: input.approvedBy.join(','),
      reason: `approved in lifecycle ${workflowId}`,
      moveKey: `${workflowId}/${runId}/production`,
    });
    await deps.registry.setStatus(version.id, 'deployed');
    const previous = moved.fromVersionId ? await deps.registry.getVersion(moved.fromVersionId) : null;
    log.info('model deployed', { version: version.version, previousVersion: previous?.version ?? null, replayed: moved.replayed });
    return { alias: 'production', version: version.version, previousVersion: previous?.version ?? null };
  }
}

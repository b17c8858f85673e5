import { verifyRequesterProof } from '../auth/approvalToken';
import type { RollbackInput, RollbackResult } from '../schemas/release';
import { currentRun } from './context';
import type { ActivityDeps } from './deps';
import { FailureType, nonRetryable } from './failures';

export function rollbackActivities(deps: ActivityDeps) {
  return {
    /**
     * Moves production back (or takes a canary out), audited with who and why. Idempotent by workflow:
     * a retry, or the same rollback asked again under the same workflow id, changes nothing more.
     */
    async rollbackAlias(input: RollbackInput): Promise<RollbackResult> {
      const { workflowId } = currentRun();
      const verified = verifyRequesterProof(deps.approvalSecret, workflowId, input.requestedBy, input.requesterProof);
      const movedBy = verified ? input.requestedBy : `${input.requestedBy} (unverified)`;
      const reason = `rollback ${workflowId}: ${input.reason}`;
      const moveKey = `${workflowId}/rollback`;
      const versionNumber = async (id: number | null) => (id === null ? null : ((await deps.registry.getVersion(id))?.version ?? null));

      if (input.alias === 'canary') {
        const removed = await deps.registry.removeAlias({ modelName: input.modelName, alias: 'canary', movedBy, reason, moveKey, status: 'rolled-back' });
        return { modelName: input.modelName, alias: 'canary', fromVersion: await versionNumber(removed.removedVersionId), toVersion: null, moved: removed.removedVersionId !== null && !removed.replayed, movedBy };
      }

      const current = await deps.registry.resolveAlias(input.modelName, 'production');
      if (!current) throw nonRetryable(FailureType.invalidInput, `model "${input.modelName}" has no production version to roll back`);
      const targetId = input.toVersion === undefined
        ? await deps.registry.previousInAlias(input.modelName, 'production')
        : (await deps.registry.versionByNumber(input.modelName, input.toVersion))?.id;
      if (targetId === undefined) throw nonRetryable(FailureType.invalidInput, `model "${input.modelName}" has no version ${input.toVersion}`);
      if (targetId === null) throw nonRetryable(FailureType.invalidInput, `production of "${input.modelName}" (v${current.version}) has no earlier version to go back to; name one with toVersion`);
      if (targetId === current.id) return { modelName: input.modelName, alias: 'production', fromVersion: current.version, toVersion: current.version, moved: false, movedBy };
      if (!(await deps.registry.wasInAlias(input.modelName, 'production', targetId))) {
        throw nonRetryable(FailureType.invalidInput, `v${await versionNumber(targetId)} of "${input.modelName}" never served in production; a rollback only returns to a version that did (deploy others through a lifecycle)`);
      }
      const moved = await deps.registry.moveAlias({
        modelName: input.modelName, alias: 'production', versionId: targetId, movedBy, reason, moveKey,
        statuses: { to: 'deployed', from: 'rolled-back' },
      });
      if (!moved.moved) throw new Error('unreachable: a rollback does not compare-and-set');
      return { modelName: input.modelName, alias: 'production', fromVersion: await versionNumber(moved.fromVersionId), toVersion: await versionNumber(moved.toVersionId), moved: !moved.replayed, movedBy };
    },
  };
}

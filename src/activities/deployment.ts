import { log } from '@temporalio/activity';
import { judgeCanary, judgeShadow, type CanaryCheck, type ShadowReport } from '../domain/release';
import type { ModelVersion, ModelVersionStatus } from '../registry/registry';
import type { CanaryPolicy, ShadowPolicy } from '../schemas/lifecycle';
import { createSession } from '../serving/onnxSession';
import { agreementStats, servedStats } from '../serving/releaseStats';
import { currentRun } from './context';
import type { ActivityDeps } from './deps';
import { heartbeating } from './progress';

export interface Deployment {
  alias: string;
  version: number;
  previousVersion: number | null;
}

/** A deploy that found another version in production than the champion its candidate was evaluated against. */
export interface Superseded {
  superseded: true;
  /** What production points at now (null: nothing). */
  champion: { versionId: number; version: number } | null;
}

export interface DeployInput {
  modelName: string;
  versionId: number;
  approvedBy: string[];
  /**
   * The production version the candidate was evaluated against (null: there was none). The alias moves
   * only if it still points there. Absent in runs recorded before compare-and-set: move unconditionally.
   */
  expectedChampionId?: number | null;
  /** Remove the run's canary alias in the same transaction (a promoted canary). */
  endCanary?: boolean;
}

type Release = 'canary' | 'shadow';

export function deploymentActivities(deps: ActivityDeps) {
  return {
    /**
     * Verifies the artifact loads, then moves the `production` alias, compare-and-set on the champion, in
     * one audited transaction that also marks the candidate `deployed` and the version it replaces
     * `superseded`. It heartbeats while it waits (a busy registry, a lock), so a worker lost mid-deploy is
     * noticed in seconds.
     */
    async deployModel(input: DeployInput): Promise<Deployment | Superseded> {
      return heartbeating('deploy', () => deploy(input));
    },

    /** Records how a candidate's run ended when it was not deployed. */
    async recordOutcome(input: { versionId: number; status: Extract<ModelVersionStatus, 'rejected' | 'expired' | 'not-blessed' | 'superseded' | 'rolled-back'>; decidedBy?: string[] }): Promise<void> {
      await deps.registry.setStatus(input.versionId, input.status, input.decidedBy);
    },

    /**
     * Points the run's `canary` (with its traffic share) or `shadow` alias at the candidate, after checking
     * its artifact loads. Idempotent by run, alias and round.
     */
    async startRelease(input: { modelName: string; versionId: number; alias: Release; trafficShare?: number; round: number; movedBy: string }): Promise<void> {
      const { workflowId, runId } = currentRun();
      await heartbeating('start-release', async () => {
        const version = await loadable(input.versionId);
        await deps.registry.moveAlias({
          modelName: input.modelName,
          alias: input.alias,
          versionId: version.id,
          trafficShare: input.trafficShare ?? null,
          movedBy: input.movedBy,
          reason: `${input.alias} of lifecycle ${workflowId}`,
          moveKey: `${workflowId}/${runId}/${input.alias}/${input.round}`,
          statuses: { to: input.alias },
        });
      });
    },

    /** Removes the run's canary or shadow alias (only if it still points at the candidate) and sets the candidate's status. */
    async endRelease(input: { modelName: string; versionId: number; alias: Release; round: number; status: ModelVersionStatus; reason: string }): Promise<void> {
      const { workflowId, runId } = currentRun();
      await heartbeating('end-release', () => deps.registry.removeAlias({
        modelName: input.modelName,
        alias: input.alias,
        expectedVersionId: input.versionId,
        movedBy: `lifecycle ${workflowId}`,
        reason: input.reason,
        moveKey: `${workflowId}/${runId}/${input.alias}/${input.round}/end`,
        status: input.status,
      }));
    },

    /** The canary against the champion since the canary started, from the prediction log. */
    async checkCanary(input: { modelName: string; canaryVersion: number; championVersion: number; since: string; policy: CanaryPolicy }): Promise<CanaryCheck> {
      const until = new Date().toISOString();
      const stats = await heartbeating('read', () => servedStats(deps.registry.pool, input.modelName, [input.canaryVersion, input.championVersion], input.since, until));
      return judgeCanary(input.policy, stats.get(input.canaryVersion)!, stats.get(input.championVersion)!, until);
    },

    /** How the shadow's answers agreed with the champion's since the shadow started. */
    async reportShadow(input: { modelName: string; candidateVersion: number; championVersion: number; since: string; policy: ShadowPolicy }): Promise<ShadowReport> {
      const until = new Date().toISOString();
      const ids = { championVersion: input.championVersion, candidateVersion: input.candidateVersion, since: input.since, until };
      const stats = await heartbeating('read', () => agreementStats(deps.registry.pool, { modelName: input.modelName, ...ids, tolerance: input.policy.tolerance }));
      return judgeShadow(input.policy, stats, ids);
    },
  };

  /** The version, once its bytes match their hash and ONNX Runtime loads them: never point an alias at anything less. */
  async function loadable(versionId: number): Promise<ModelVersion> {
    const version = await deps.registry.getVersion(versionId);
    if (!version) throw new Error(`model version id ${versionId} is not in the registry`);
    const session = await createSession(await deps.store.read(version.artifact));
    await session.release();
    return version;
  }

  async function deploy(input: DeployInput): Promise<Deployment | Superseded> {
    const { workflowId, runId } = currentRun();
    const version = await loadable(input.versionId);
    await deps.registry.setStatus(version.id, version.status === 'canary' ? 'canary' : 'approved', input.approvedBy);
    const moved = await deps.registry.moveAlias({
      modelName: input.modelName,
      alias: 'production',
      versionId: version.id,
      movedBy: input.approvedBy.join(','),
      reason: `approved in lifecycle ${workflowId}`,
      moveKey: `${workflowId}/${runId}/production`,
      expectedVersionId: input.expectedChampionId,
      statuses: { to: 'deployed', from: 'superseded' },
      remove: input.endCanary ? ['canary'] : [],
    });
    if (!moved.moved) {
      const current = moved.currentVersionId === null ? null : await deps.registry.getVersion(moved.currentVersionId);
      log.warn('production moved since the candidate was evaluated: not deployed', { version: version.version, champion: current?.version ?? null });
      return { superseded: true, champion: current && { versionId: current.id, version: current.version } };
    }
    const previous = moved.fromVersionId ? await deps.registry.getVersion(moved.fromVersionId) : null;
    log.info('model deployed', { version: version.version, previousVersion: previous?.version ?? null, replayed: moved.replayed });
    return { alias: 'production', version: version.version, previousVersion: previous?.version ?? null };
  }
}

import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { ArtifactRef } from '../artifacts/store';
import type { DatasetSchema, SchemaSource } from '../domain/schema';

/** What the registry keeps of a model version. */
export interface ModelVersion {
  id: number;
  modelName: string;
  version: number;
  status: ModelVersionStatus;
  trainer: string;
  params: Record<string, unknown>;
  trainingMetrics: Record<string, number>;
  evaluation: unknown;
  signature: ModelSignature;
  artifact: ArtifactRef;
  datasetSha256: string;
  workflowId: string;
  runId: string;
  createdBy: string;
  approvedBy: string[] | null;
  createdAt: string;
}

/**
 * `deployed`: in production now; `superseded`: was in production (or approved for it) and another version
 * took its place; `rolled-back`: taken out of production or canary by a rollback; `canary` / `shadow`:
 * serving a share, or a copy, of the traffic during its run's release.
 */
export type ModelVersionStatus =
  | 'candidate' | 'not-blessed' | 'approved' | 'rejected' | 'expired' | 'deployed' | 'superseded' | 'rolled-back' | 'canary' | 'shadow';

export interface ModelSignature {
  inputs: { name: string; kind: 'numeric' | 'categorical' }[];
  output: string;
}

export interface NewModelVersion {
  modelName: string;
  runKey: string;
  trainer: string;
  params: Record<string, unknown>;
  trainingMetrics: Record<string, number>;
  signature: ModelSignature;
  artifact: ArtifactRef;
  datasetSha256: string;
  workflowId: string;
  runId: string;
  createdBy: string;
}

export interface AliasMove {
  modelName: string;
  alias: string;
  versionId: number;
  movedBy: string;
  reason: string;
  /** Natural key of this move (e.g. the workflow run): a retried move finds it and changes nothing. */
  moveKey: string;
  /**
   * Compare-and-set: move only if the alias still points at this version (null: at none). A deploy names
   * the champion its candidate was evaluated against, so it never replaces one it was not compared with.
   * Left out: move whatever the alias points at.
   */
  expectedVersionId?: number | null;
  /** A canary's share of its model's unpinned traffic. */
  trafficShare?: number | null;
  /** Statuses written in the same transaction: of the version moved to, and of the one moved away from. */
  statuses?: { to?: ModelVersionStatus; from?: ModelVersionStatus };
  /** Aliases of the model removed in the same transaction (a promoted canary's). */
  remove?: string[];
}

/** What a move did. On a conflict nothing moved: `currentVersionId` is what the alias points at instead. */
export type MoveResult =
  | { moved: true; fromVersionId: number | null; toVersionId: number; replayed: boolean }
  | { moved: false; currentVersionId: number | null };

export interface AliasRemoval {
  modelName: string;
  alias: string;
  movedBy: string;
  reason: string;
  moveKey: string;
  /** Remove only if the alias points at this version (a release ends only its own canary). */
  expectedVersionId?: number;
  /** Status written to the version the alias pointed at, in the same transaction. */
  status?: ModelVersionStatus;
}

/** A version an alias points at, with the alias's traffic share (canary only). */
export type AliasedVersion = ModelVersion & { trafficShare: number | null };

export interface ApprovalEvent {
  eventKey: string;
  workflowId: string;
  runId: string;
  modelName: string;
  versionId: number | null;
  decision: 'approve' | 'reject';
  approver: string;
  accepted: boolean;
  state: 'accepted' | 'refused' | 'not-waiting';
  reason: string;
  comment: string;
  receivedAt: string;
}

const VERSION_COLUMNS = `id, model_name, version, status, trainer, params, training_metrics, evaluation, signature,
  artifact_uri, sha256, bytes, dataset_sha256, workflow_id, run_id, created_by, approved_by, created_at`;

function toModelVersion(row: any): ModelVersion {
  return {
    id: Number(row.id),
    modelName: row.model_name,
    version: row.version,
    status: row.status,
    trainer: row.trainer,
    params: row.params,
    trainingMetrics: row.training_metrics,
    evaluation: row.evaluation,
    signature: row.signature,
    artifact: { uri: row.artifact_uri, sha256: row.sha256, bytes: Number(row.bytes) },
    datasetSha256: row.dataset_sha256,
    workflowId: row.workflow_id,
    runId: row.run_id,
    createdBy: row.created_by,
    approvedBy: row.approved_by,
    createdAt: new Date(row.created_at).toISOString(),
  };
}

/** The model registry in PostgreSQL. Every write is idempotent by a natural key, so activities can retry. */
/** A dataset version as registered: its raw bytes (or manifest of parts) and the forms derived from them. */
export interface RegisteredDataset extends ArtifactRef {
  sourceUri: string;
  format: string;
  parts: number;
  rows: number;
  schema: DatasetSchema;
  table: ArtifactRef;
  profile: ArtifactRef;
}

/** How long a run's lease on an ingested dataset lasts if the run never releases it (it died). */
const LEASE_HOURS = 48;

export class Registry {
  /** The pool is shared with the readers of the prediction log that releases and monitoring use. */
  constructor(readonly pool: pg.Pool) {}

  async ensureModel(name: string): Promise<void> {
    await this.pool.query('INSERT INTO models (name) VALUES ($1) ON CONFLICT (name) DO NOTHING', [name]);
  }

  /**
   * Registers a dataset version that passed validation for a model, with the forms the model reads:
   * its typed Parquet file and its profile. Idempotent; a run whose dataset fails validation registers nothing.
   */
  async registerDataset(modelName: string, dataset: RegisteredDataset): Promise<void> {
    await this.transaction(async (client) => {
      await client.query('INSERT INTO models (name) VALUES ($1) ON CONFLICT (name) DO NOTHING', [modelName]);
      await client.query(
        `INSERT INTO dataset_versions (sha256, artifact_uri, source_uri, bytes, row_count, schema, format, parts) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (sha256) DO UPDATE SET row_count = EXCLUDED.row_count, schema = EXCLUDED.schema, format = EXCLUDED.format, parts = EXCLUDED.parts`,
        [dataset.sha256, dataset.uri, dataset.sourceUri, dataset.bytes, dataset.rows, JSON.stringify(dataset.schema), dataset.format, dataset.parts],
      );
      await client.query(
        `INSERT INTO model_datasets (model_name, dataset_sha256, table_ref, profile_ref) VALUES ($1, $2, $3, $4)
         ON CONFLICT (model_name, dataset_sha256) DO UPDATE SET table_ref = EXCLUDED.table_ref, profile_ref = EXCLUDED.profile_ref`,
        [modelName, dataset.sha256, JSON.stringify(dataset.table), JSON.stringify(dataset.profile)],
      );
    });
  }

  /** The forms of a dataset as registered for a model (e.g. the production model's, as the reference for skew). */
  async datasetForms(modelName: string, sha256: string): Promise<{ table: ArtifactRef; profile: ArtifactRef } | null> {
    const { rows } = await this.pool.query('SELECT table_ref, profile_ref FROM model_datasets WHERE model_name = $1 AND dataset_sha256 = $2', [modelName, sha256]);
    return rows[0]?.table_ref && rows[0]?.profile_ref ? { table: rows[0].table_ref, profile: rows[0].profile_ref } : null;
  }

  /** Whether any model registered this dataset (then its stored files must stay). */
  async isDatasetRegistered(sha256: string): Promise<boolean> {
    const { rows } = await this.pool.query('SELECT 1 FROM dataset_versions WHERE sha256 = $1', [sha256]);
    return rows.length > 0;
  }

  /**
   * A run's claim on the files of the dataset it ingested (`leaseKey`: the hash of its raw bytes), taken
   * before the files are stored. Serialised with releaseDataset by an advisory lock on the key.
   */
  async leaseDataset(leaseKey: string, runKey: string, ttlHours = LEASE_HOURS): Promise<void> {
    await this.transaction(async (client) => {
      await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [leaseKey]);
      await client.query(
        `INSERT INTO dataset_leases (lease_key, run_key, expires_at) VALUES ($1, $2, now() + make_interval(hours => $3))
         ON CONFLICT (lease_key, run_key) DO UPDATE SET expires_at = EXCLUDED.expires_at`,
        [leaseKey, runKey, ttlHours],
      );
    });
  }

  /**
   * Ends a run's lease. With `discard` (the dataset was rejected), calls it to delete the stored files,
   * unless a model registered the dataset or another run still holds a lease on the same bytes; returns
   * whether it did. Idempotent.
   */
  async releaseDataset(leaseKey: string, runKey: string, datasetSha256: string, discard?: () => Promise<void>): Promise<boolean> {
    return this.transaction(async (client) => {
      await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [leaseKey]);
      await client.query('DELETE FROM dataset_leases WHERE lease_key = $1 AND run_key = $2', [leaseKey, runKey]);
      if (!discard) return false;
      const { rows } = await client.query(
        `SELECT EXISTS (SELECT 1 FROM dataset_versions WHERE sha256 = $2)
             OR EXISTS (SELECT 1 FROM dataset_leases WHERE lease_key = $1 AND expires_at > now()) AS kept`,
        [leaseKey, datasetSha256],
      );
      if (rows[0].kept) return false;
      await discard();
      return true;
    });
  }

  /** The model's newest schema version. */
  async latestSchema(modelName: string): Promise<{ version: number; source: SchemaSource; schema: DatasetSchema } | null> {
    const { rows } = await this.pool.query('SELECT version, source, schema FROM model_schemas WHERE model_name = $1 ORDER BY version DESC LIMIT 1', [modelName]);
    return rows[0] ? { version: rows[0].version, source: rows[0].source, schema: rows[0].schema } : null;
  }

  /** Records a schema as the model's newest version, unless it already is; returns its version. */
  async recordSchema(modelName: string, source: SchemaSource, schema: DatasetSchema): Promise<number> {
    const text = JSON.stringify(schema);
    const sha256 = createHash('sha256').update(text).digest('hex');
    return this.transaction(async (client) => {
      await client.query('INSERT INTO models (name) VALUES ($1) ON CONFLICT (name) DO NOTHING', [modelName]);
      await client.query('SELECT 1 FROM models WHERE name = $1 FOR UPDATE', [modelName]);
      const { rows } = await client.query('SELECT version, schema_sha256, source FROM model_schemas WHERE model_name = $1 ORDER BY version DESC LIMIT 1', [modelName]);
      if (rows[0] && rows[0].schema_sha256 === sha256 && rows[0].source === source) return rows[0].version as number;
      const version = (rows[0]?.version ?? 0) + 1;
      await client.query('INSERT INTO model_schemas (model_name, version, source, schema, schema_sha256) VALUES ($1, $2, $3, $4, $5)', [modelName, version, source, text, sha256]);
      return version;
    });
  }

  /** Registers a candidate; the same runKey always returns the same version. */
  async registerModelVersion(v: NewModelVersion): Promise<ModelVersion> {
    return this.transaction(async (client) => {
      await client.query('INSERT INTO models (name) VALUES ($1) ON CONFLICT (name) DO NOTHING', [v.modelName]);
      // Lock the model row so two runs finishing together get distinct version numbers.
      await client.query('SELECT 1 FROM models WHERE name = $1 FOR UPDATE', [v.modelName]);
      const existing = await client.query(`SELECT ${VERSION_COLUMNS} FROM model_versions WHERE run_key = $1`, [v.runKey]);
      if (existing.rows[0]) return toModelVersion(existing.rows[0]);
      const { rows } = await client.query(
        `INSERT INTO model_versions (model_name, version, run_key, status, trainer, params, training_metrics, signature,
           artifact_uri, sha256, bytes, dataset_sha256, workflow_id, run_id, created_by)
         VALUES ($1, (SELECT COALESCE(MAX(version), 0) + 1 FROM model_versions WHERE model_name = $1), $2, 'candidate',
           $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
         RETURNING ${VERSION_COLUMNS}`,
        [
          v.modelName, v.runKey, v.trainer, JSON.stringify(v.params), JSON.stringify(v.trainingMetrics),
          JSON.stringify(v.signature), v.artifact.uri, v.artifact.sha256, v.artifact.bytes, v.datasetSha256,
          v.workflowId, v.runId, v.createdBy,
        ],
      );
      return toModelVersion(rows[0]);
    });
  }

  async recordEvaluation(versionId: number, evaluation: unknown, status: ModelVersionStatus): Promise<void> {
    await this.pool.query('UPDATE model_versions SET evaluation = $2, status = $3 WHERE id = $1', [
      versionId,
      JSON.stringify(evaluation),
      status,
    ]);
  }

  async setStatus(versionId: number, status: ModelVersionStatus, approvedBy?: string[]): Promise<void> {
    await this.pool.query(
      'UPDATE model_versions SET status = $2, approved_by = COALESCE($3, approved_by) WHERE id = $1',
      [versionId, status, approvedBy ?? null],
    );
  }

  async getVersion(id: number): Promise<ModelVersion | null> {
    const { rows } = await this.pool.query(`SELECT ${VERSION_COLUMNS} FROM model_versions WHERE id = $1`, [id]);
    return rows[0] ? toModelVersion(rows[0]) : null;
  }

  async listVersions(modelName: string): Promise<ModelVersion[]> {
    const { rows } = await this.pool.query(
      `SELECT ${VERSION_COLUMNS} FROM model_versions WHERE model_name = $1 ORDER BY version DESC`,
      [modelName],
    );
    return rows.map(toModelVersion);
  }

  async listModels(): Promise<{ name: string; createdAt: string; aliases: Record<string, number> }[]> {
    const { rows } = await this.pool.query(
      `SELECT m.name, m.created_at,
         COALESCE(jsonb_object_agg(a.alias, v.version) FILTER (WHERE a.alias IS NOT NULL), '{}') AS aliases
       FROM models m LEFT JOIN aliases a ON a.model_name = m.name LEFT JOIN model_versions v ON v.id = a.version_id
       GROUP BY m.name, m.created_at ORDER BY m.name`,
    );
    return rows.map((r) => ({ name: r.name, createdAt: new Date(r.created_at).toISOString(), aliases: r.aliases }));
  }

  async resolveAlias(modelName: string, alias: string): Promise<ModelVersion | null> {
    const { rows } = await this.pool.query(
      `SELECT ${VERSION_COLUMNS.split(',').map((c) => 'v.' + c.trim()).join(', ')}
       FROM aliases a JOIN model_versions v ON v.id = a.version_id WHERE a.model_name = $1 AND a.alias = $2`,
      [modelName, alias],
    );
    return rows[0] ? toModelVersion(rows[0]) : null;
  }

  /**
   * Every alias of the given models with the version it points to: one query for the serving cache's
   * first use of a model and for its resyncs. Models without aliases are absent from the answer.
   */
  async aliasesOf(modelNames: string[]): Promise<Map<string, Map<string, AliasedVersion>>> {
    const { rows } = await this.pool.query(
      `SELECT a.alias, a.traffic_share, ${VERSION_COLUMNS.split(',').map((c) => 'v.' + c.trim()).join(', ')}
       FROM aliases a JOIN model_versions v ON v.id = a.version_id WHERE a.model_name = ANY($1::text[])`,
      [modelNames],
    );
    const byModel = new Map<string, Map<string, AliasedVersion>>();
    for (const row of rows) {
      const version = { ...toModelVersion(row), trafficShare: row.traffic_share };
      let aliases = byModel.get(version.modelName);
      if (!aliases) byModel.set(version.modelName, (aliases = new Map()));
      aliases.set(row.alias, version);
    }
    return byModel;
  }

  /** A model's version by its number (e.g. a request pinning `?version=3`). */
  async versionByNumber(modelName: string, version: number): Promise<ModelVersion | null> {
    const { rows } = await this.pool.query(`SELECT ${VERSION_COLUMNS} FROM model_versions WHERE model_name = $1 AND version = $2`, [modelName, version]);
    return rows[0] ? toModelVersion(rows[0]) : null;
  }

  /**
   * Moves an alias and writes its history (and the statuses it changes) in one transaction, under a lock
   * on the model's row, so concurrent moves are ordered and each history row's time follows the one
   * before it. A repeated moveKey changes nothing; with `expectedVersionId`, an alias that moved meanwhile
   * is left alone and the answer says where it points.
   */
  async moveAlias(move: AliasMove): Promise<MoveResult> {
    return this.transaction(async (client) => {
      await client.query('SELECT 1 FROM models WHERE name = $1 FOR UPDATE', [move.modelName]);
      const done = await client.query('SELECT from_version_id, to_version_id FROM alias_history WHERE move_key = $1', [move.moveKey]);
      if (done.rows[0]) {
        const r = done.rows[0];
        return { moved: true, fromVersionId: r.from_version_id && Number(r.from_version_id), toVersionId: Number(r.to_version_id), replayed: true };
      }
      const fromVersionId = await currentVersionId(client, move.modelName, move.alias);
      if (move.expectedVersionId !== undefined && fromVersionId !== move.expectedVersionId) return { moved: false, currentVersionId: fromVersionId };
      await client.query(
        `INSERT INTO aliases (model_name, alias, version_id, traffic_share) VALUES ($1, $2, $3, $4)
         ON CONFLICT (model_name, alias) DO UPDATE SET version_id = EXCLUDED.version_id, traffic_share = EXCLUDED.traffic_share, updated_at = now()`,
        [move.modelName, move.alias, move.versionId, move.trafficShare ?? null],
      );
      await recordMove(client, { ...move, fromVersionId, toVersionId: move.versionId });
      if (move.statuses?.to) await setStatusIn(client, move.versionId, move.statuses.to);
      if (move.statuses?.from && fromVersionId !== null && fromVersionId !== move.versionId) await setStatusIn(client, fromVersionId, move.statuses.from);
      for (const alias of move.remove ?? []) {
        const removed = await currentVersionId(client, move.modelName, alias);
        if (removed === null) continue;
        await client.query('DELETE FROM aliases WHERE model_name = $1 AND alias = $2', [move.modelName, alias]);
        await recordMove(client, { ...move, alias, moveKey: `${move.moveKey}/remove/${alias}`, fromVersionId: removed, toVersionId: null, trafficShare: null });
      }
      return { moved: true, fromVersionId, toVersionId: move.versionId, replayed: false };
    });
  }

  /** Removes an alias (a canary or shadow that ended), with a history row; idempotent by moveKey. */
  async removeAlias(removal: AliasRemoval): Promise<{ removedVersionId: number | null; replayed: boolean }> {
    return this.transaction(async (client) => {
      await client.query('SELECT 1 FROM models WHERE name = $1 FOR UPDATE', [removal.modelName]);
      const done = await client.query('SELECT from_version_id FROM alias_history WHERE move_key = $1', [removal.moveKey]);
      if (done.rows[0]) return { removedVersionId: done.rows[0].from_version_id && Number(done.rows[0].from_version_id), replayed: true };
      const current = await currentVersionId(client, removal.modelName, removal.alias);
      if (current === null || (removal.expectedVersionId !== undefined && current !== removal.expectedVersionId)) return { removedVersionId: null, replayed: false };
      await client.query('DELETE FROM aliases WHERE model_name = $1 AND alias = $2', [removal.modelName, removal.alias]);
      await recordMove(client, { ...removal, fromVersionId: current, toVersionId: null });
      if (removal.status) await setStatusIn(client, current, removal.status);
      return { removedVersionId: current, replayed: false };
    });
  }

  /** Whether the version was ever moved into the alias (a rollback may only return to one that was). */
  async wasInAlias(modelName: string, alias: string, versionId: number): Promise<boolean> {
    const { rows } = await this.pool.query('SELECT 1 FROM alias_history WHERE model_name = $1 AND alias = $2 AND to_version_id = $3 LIMIT 1', [modelName, alias, versionId]);
    return rows.length > 0;
  }

  /** The version the alias pointed at before its latest move, if that move was into its current version. */
  async previousInAlias(modelName: string, alias: string): Promise<number | null> {
    const { rows } = await this.pool.query(
      `SELECT h.from_version_id FROM alias_history h JOIN aliases a ON a.model_name = h.model_name AND a.alias = h.alias AND a.version_id = h.to_version_id
       WHERE h.model_name = $1 AND h.alias = $2 ORDER BY h.id DESC LIMIT 1`,
      [modelName, alias],
    );
    return rows[0]?.from_version_id ? Number(rows[0].from_version_id) : null;
  }

  async aliasHistory(modelName: string): Promise<Record<string, unknown>[]> {
    const { rows } = await this.pool.query(
      `SELECT h.alias, f.version AS from_version, t.version AS to_version, h.traffic_share, h.moved_by, h.reason, h.moved_at
       FROM alias_history h LEFT JOIN model_versions f ON f.id = h.from_version_id LEFT JOIN model_versions t ON t.id = h.to_version_id
       WHERE h.model_name = $1 ORDER BY h.id DESC`,
      [modelName],
    );
    return rows.map((r) => ({
      alias: r.alias, fromVersion: r.from_version, toVersion: r.to_version, trafficShare: r.traffic_share, movedBy: r.moved_by, reason: r.reason,
      movedAt: new Date(r.moved_at).toISOString(),
    }));
  }

  /** Audits one decision attempt; the eventKey makes a retried write a no-op. */
  async recordApprovalEvent(e: ApprovalEvent): Promise<void> {
    await this.pool.query(
      `INSERT INTO approval_events (event_key, workflow_id, run_id, model_name, version_id, decision, approver, accepted, state, reason, comment, received_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT (event_key) DO NOTHING`,
      [e.eventKey, e.workflowId, e.runId, e.modelName, e.versionId, e.decision, e.approver, e.accepted, e.state, e.reason, e.comment, e.receivedAt],
    );
  }

  /**
   * Claims a single-use approval token for one decision event. True when the event owns the token
   * (first use, or a retry of the same event); false when another event already used it.
   */
  async claimApprovalToken(nonce: string, eventKey: string): Promise<boolean> {
    const { rows } = await this.pool.query<{ event_key: string }>(
      `WITH claimed AS (
         INSERT INTO approval_token_uses (nonce, event_key) VALUES ($1, $2) ON CONFLICT (nonce) DO NOTHING RETURNING event_key
       )
       SELECT event_key FROM claimed UNION ALL SELECT event_key FROM approval_token_uses WHERE nonce = $1`,
      [nonce, eventKey],
    );
    return rows[0]?.event_key === eventKey;
  }

  async approvalEvents(workflowId: string): Promise<Record<string, unknown>[]> {
    const { rows } = await this.pool.query(
      `SELECT run_id, decision, approver, accepted, state, reason, comment, received_at, at FROM approval_events WHERE workflow_id = $1 ORDER BY id`,
      [workflowId],
    );
    return rows.map((r) => ({
      runId: r.run_id, decision: r.decision, approver: r.approver, accepted: r.accepted, state: r.state, reason: r.reason, comment: r.comment,
      receivedAt: r.received_at ? new Date(r.received_at).toISOString() : null, at: new Date(r.at).toISOString(),
    }));
  }

  private async transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    // A client whose server died (its 'error' event is heard by createPool's listener) is not queryable,
    // and pg-pool discards it on release; so is one whose ROLLBACK failed.
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch((rollbackErr: Error) => (broken ??= rollbackErr));
      throw err;
    } finally {
      client.release(broken);
    }
  }
}

async function currentVersionId(client: pg.PoolClient, modelName: string, alias: string): Promise<number | null> {
  const { rows } = await client.query('SELECT version_id FROM aliases WHERE model_name = $1 AND alias = $2', [modelName, alias]);
  return rows[0] ? Number(rows[0].version_id) : null;
}

async function setStatusIn(client: pg.PoolClient, versionId: number, status: ModelVersionStatus): Promise<void> {
  await client.query('UPDATE model_versions SET status = $2 WHERE id = $1', [versionId, status]);
}

/**
 * One alias_history row. Its time is the later of the clock and just after the model's previous move:
 * `now()` is the transaction's start, so two moves that waited on the same lock would otherwise be stamped
 * out of the order in which they happened.
 */
async function recordMove(
  client: pg.PoolClient,
  m: { modelName: string; alias: string; fromVersionId: number | null; toVersionId: number | null; movedBy: string; reason: string; moveKey: string; expectedVersionId?: number | null; trafficShare?: number | null },
): Promise<void> {
  await client.query(
    `INSERT INTO alias_history (model_name, alias, from_version_id, to_version_id, moved_by, reason, move_key, expected_version_id, traffic_share, moved_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9,
       GREATEST(clock_timestamp(), (SELECT max(moved_at) + interval '1 microsecond' FROM alias_history WHERE model_name = $1)))`,
    [m.modelName, m.alias, m.fromVersionId, m.toVersionId, m.movedBy, m.reason, m.moveKey, m.expectedVersionId ?? null, m.trafficShare ?? null],
  );
}

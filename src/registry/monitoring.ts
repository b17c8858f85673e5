import type pg from 'pg';
import type { ArtifactRef } from '../artifacts/store';

/** What became of a request to retrain a model. */
export type RetrainingState = 'started' | 'already-running' | 'cooling-down';

export interface RetrainingRequest {
  /** The requesting run and activity: a retried request finds its own row. */
  requestKey: string;
  modelName: string;
  trigger: 'schedule' | 'drift';
  requestedBy: string;
  reason: string;
  /** The retraining lifecycle's fixed workflow id. */
  workflowId: string;
  cooldownMs: number;
}

/** A request's row: `starting` until the lifecycle's start is known to have happened (or not). */
export interface RetrainingClaim {
  state: RetrainingState | 'starting';
  workflowId: string;
  runId: string | null;
  requestedAt: string;
  /** For `cooling-down`: when the previous retraining of the model started. */
  previousStart: string | null;
}

export interface DriftRunRecord {
  workflowId: string;
  runId: string;
  modelName: string;
  version: number | null;
  windowStart: string | null;
  windowEnd: string;
  datasetUri: string | null;
  currentRows: number;
  verdict: 'drifted' | 'ok' | 'not-enough-data';
  driftedFeatures: string[];
  driftShare: number | null;
  predictionDrift: boolean | null;
  decay: Record<string, unknown> | null;
  reportJson: ArtifactRef | null;
  reportHtml: ArtifactRef | null;
  retraining: Record<string, unknown> | null;
}

/**
 * The monitoring half of the registry: drift history and retraining requests (tables of migration
 * 1764700000000_drift.sql). Every write is keyed by the run or request that makes it, so activities retry safely.
 */
export class MonitoringRegistry {
  constructor(private readonly pool: pg.Pool) {}

  /** Records a drift run; a retry (same workflow and run id) replaces the row with the same values. */
  async recordDriftRun(r: DriftRunRecord): Promise<void> {
    await this.pool.query(
      `INSERT INTO drift_runs (workflow_id, run_id, model_name, version, window_start, window_end, dataset_uri, current_rows, verdict,
         drifted_features, drift_share, prediction_drift, decay, report_json, report_html, retraining)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
       ON CONFLICT (workflow_id, run_id) DO UPDATE SET verdict = EXCLUDED.verdict, drifted_features = EXCLUDED.drifted_features,
         drift_share = EXCLUDED.drift_share, prediction_drift = EXCLUDED.prediction_drift, decay = EXCLUDED.decay,
         report_json = EXCLUDED.report_json, report_html = EXCLUDED.report_html, retraining = EXCLUDED.retraining, current_rows = EXCLUDED.current_rows`,
      [
        r.workflowId, r.runId, r.modelName, r.version, r.windowStart, r.windowEnd, r.datasetUri, r.currentRows, r.verdict,
        r.driftedFeatures, r.driftShare, r.predictionDrift, json(r.decay), json(r.reportJson), json(r.reportHtml), json(r.retraining),
      ],
    );
  }

  /** A model's drift runs, newest first. */
  async driftRuns(modelName: string, limit = 50): Promise<(DriftRunRecord & { recordedAt: string })[]> {
    const { rows } = await this.pool.query('SELECT * FROM drift_runs WHERE model_name = $1 ORDER BY window_end DESC, recorded_at DESC LIMIT $2', [modelName, limit]);
    return rows.map((r) => ({
      workflowId: r.workflow_id,
      runId: r.run_id,
      modelName: r.model_name,
      version: r.version,
      windowStart: r.window_start && new Date(r.window_start).toISOString(),
      windowEnd: new Date(r.window_end).toISOString(),
      datasetUri: r.dataset_uri,
      currentRows: Number(r.current_rows),
      verdict: r.verdict,
      driftedFeatures: r.drifted_features,
      driftShare: r.drift_share,
      predictionDrift: r.prediction_drift,
      decay: r.decay,
      reportJson: r.report_json,
      reportHtml: r.report_html,
      retraining: r.retraining,
      recordedAt: new Date(r.recorded_at).toISOString(),
    }));
  }

  /**
   * Claims the right to start a model's retraining, under a lock on the model: `starting` when no
   * retraining started (or was starting) within the cool-down, else `cooling-down`. A request already
   * made (a retried activity) gets its own row back, whatever it says.
   */
  async claimRetraining(q: RetrainingRequest): Promise<RetrainingClaim> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 17))', [`retrain/${q.modelName}`]);
      const mine = await client.query('SELECT * FROM retraining_starts WHERE request_key = $1', [q.requestKey]);
      let claim: RetrainingClaim;
      if (mine.rows[0]) claim = toClaim(mine.rows[0], null);
      else {
        const previous = await client.query(
          `SELECT requested_at FROM retraining_starts WHERE model_name = $1 AND state IN ('starting', 'started')
             AND requested_at > now() - make_interval(secs => $2) ORDER BY requested_at DESC LIMIT 1`,
          [q.modelName, q.cooldownMs / 1000],
        );
        const state = previous.rows[0] ? 'cooling-down' : 'starting';
        const { rows } = await client.query(
          `INSERT INTO retraining_starts (request_key, model_name, trigger, requested_by, reason, state, workflow_id) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *`,
          [q.requestKey, q.modelName, q.trigger, q.requestedBy, q.reason, state, q.workflowId],
        );
        claim = toClaim(rows[0], previous.rows[0]?.requested_at ?? null);
      }
      await client.query('COMMIT');
      return claim;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  }

  /** Settles a `starting` request: the lifecycle started (with its run id) or another retraining was running. */
  async settleRetraining(requestKey: string, state: 'started' | 'already-running', runId: string | null): Promise<void> {
    await this.pool.query(`UPDATE retraining_starts SET state = $2, run_id = $3 WHERE request_key = $1 AND state = 'starting'`, [requestKey, state, runId]);
  }

  /**
   * The model's served, answered predictions logged in [from, to), row by row, in pages of `pageRows`
   * (keyset order: time, request, row), so a window of millions of rows never sits in memory at once.
   */
  async *predictionLogPages(modelName: string, from: string, to: string, pageRows: number): AsyncGenerator<{ inputs: Record<string, unknown>; prediction: number }[]> {
    let after: [string, string, number] | null = null;
    for (;;) {
      const result: pg.QueryResult = await this.pool.query(
        `SELECT e.row AS inputs, l.predictions[e.i] AS prediction, l.created_at::text AS created_at_text, l.request_id, e.i
         FROM prediction_log l CROSS JOIN LATERAL json_array_elements(l.inputs) WITH ORDINALITY AS e(row, i)
         WHERE l.model_name = $1 AND l.role = 'serve' AND l.predictions IS NOT NULL AND l.created_at >= $2 AND l.created_at < $3
           AND ($4::timestamptz IS NULL OR (l.created_at, l.request_id, e.i) > ($4::timestamptz, $5::uuid, $6::bigint))
         ORDER BY l.created_at, l.request_id, e.i LIMIT $7`,
        [modelName, from, to, after?.[0] ?? null, after?.[1] ?? null, after?.[2] ?? null, pageRows],
      );
      const rows: any[] = result.rows;
      if (rows.length === 0) return;
      yield rows.map((r) => ({ inputs: r.inputs, prediction: r.prediction }));
      const last: any = rows[rows.length - 1];
      // Microseconds matter to the keyset: PostgreSQL's own text of the timestamp, not a JavaScript Date.
      after = [last.created_at_text, last.request_id, Number(last.i)];
      if (rows.length < pageRows) return;
    }
  }

  /** Predictions of one version in [from, to) whose ground truth arrived, with it (feedback row i is predictions[i + 1]). */
  async feedbackPairs(modelName: string, version: number, from: string, to: string): Promise<{ predicted: Float64Array; actual: Float64Array }> {
    const { rows } = await this.pool.query(
      `SELECT l.predictions[f.row_index + 1] AS prediction, f.actual FROM prediction_log l JOIN prediction_feedback f USING (request_id)
       WHERE l.model_name = $1 AND l.version = $2 AND l.role = 'serve' AND l.created_at >= $3 AND l.created_at < $4
         AND l.predictions[f.row_index + 1] IS NOT NULL`,
      [modelName, version, from, to],
    );
    return { predicted: Float64Array.from(rows, (r) => r.prediction), actual: Float64Array.from(rows, (r) => r.actual) };
  }

  /** A model's retraining requests, newest first (tests, the API). */
  async retrainingRequests(modelName: string, limit = 50): Promise<Record<string, unknown>[]> {
    const { rows } = await this.pool.query('SELECT * FROM retraining_starts WHERE model_name = $1 ORDER BY requested_at DESC LIMIT $2', [modelName, limit]);
    return rows.map((r) => ({
      requestKey: r.request_key, trigger: r.trigger, requestedBy: r.requested_by, reason: r.reason, state: r.state,
      workflowId: r.workflow_id, runId: r.run_id, requestedAt: new Date(r.requested_at).toISOString(),
    }));
  }
}

const json = (value: unknown) => (value === null || value === undefined ? null : JSON.stringify(value));

function toClaim(row: any, previousStart: Date | null): RetrainingClaim {
  return {
    state: row.state,
    workflowId: row.workflow_id,
    runId: row.run_id,
    requestedAt: new Date(row.requested_at).toISOString(),
    previousStart: previousStart && new Date(previousStart).toISOString(),
  };
}

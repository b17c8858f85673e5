import type pg from 'pg';
import type { AgreementStats, ServedStats } from '../domain/release';

/**
 * What the prediction log says about versions during a release: the numbers canary and shadow decisions
 * are made from. The log has one row per request and role (a failed request's too).
 */
export async function servedStats(pool: pg.Pool, modelName: string, versions: number[], since: string, until: string): Promise<Map<number, ServedStats>> {
  const { rows } = await pool.query(
    `SELECT version, count(*)::int AS requests, count(*) FILTER (WHERE error IS NOT NULL)::int AS errors,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms) FILTER (WHERE error IS NULL) AS p50,
       percentile_cont(0.99) WITHIN GROUP (ORDER BY latency_ms) FILTER (WHERE error IS NULL) AS p99
     FROM prediction_log
     WHERE model_name = $1 AND version = ANY($2::int[]) AND role = 'serve' AND created_at >= $3 AND created_at < $4
     GROUP BY version`,
    [modelName, versions, since, until],
  );
  const stats = new Map(versions.map((version) => [version, { version, requests: 0, errors: 0, p50Ms: null, p99Ms: null } as ServedStats]));
  for (const r of rows) stats.set(r.version, { version: r.version, requests: r.requests, errors: r.errors, p50Ms: r.p50, p99Ms: r.p99 });
  return stats;
}

/** The shadow's answers joined with the champion's on the same request, row by row. */
export async function agreementStats(
  pool: pg.Pool,
  q: { modelName: string; championVersion: number; candidateVersion: number; since: string; until: string; tolerance: number },
): Promise<AgreementStats> {
  const { rows } = await pool.query(
    `WITH pairs AS (
       SELECT abs(u.shadow - u.served) AS diff, abs(u.shadow - u.served) / greatest(abs(u.served), 1e-12) AS rel
       FROM prediction_log s
       JOIN prediction_log p ON p.request_id = s.request_id AND p.role = 'serve'
       CROSS JOIN LATERAL unnest(s.predictions, p.predictions) AS u(shadow, served)
       WHERE s.model_name = $1 AND s.role = 'shadow' AND s.version = $3 AND p.version = $2
         AND s.created_at >= $4 AND s.created_at < $5 AND s.predictions IS NOT NULL AND p.predictions IS NOT NULL
     )
     SELECT (SELECT count(*)::int FROM pairs) AS compared,
            (SELECT avg(diff) FROM pairs) AS mad, (SELECT max(diff) FROM pairs) AS maxdiff, (SELECT avg(rel) FROM pairs) AS mrd,
            (SELECT count(*)::int FROM pairs WHERE rel <= $6) AS within,
            (SELECT count(*)::int FROM prediction_log WHERE model_name = $1 AND role = 'shadow' AND version = $3
               AND created_at >= $4 AND created_at < $5) AS requests,
            (SELECT count(*)::int FROM prediction_log WHERE model_name = $1 AND role = 'shadow' AND version = $3
               AND error IS NOT NULL AND created_at >= $4 AND created_at < $5) AS errors`,
    [q.modelName, q.championVersion, q.candidateVersion, q.since, q.until, q.tolerance],
  );
  const r = rows[0];
  return {
    compared: r.compared,
    shadowRequests: r.requests,
    shadowErrors: r.errors,
    meanAbsoluteDifference: r.mad,
    maxAbsoluteDifference: r.maxdiff,
    meanRelativeDifference: r.mrd,
    withinTolerance: r.within,
  };
}

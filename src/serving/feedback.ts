import type pg from 'pg';

export interface FeedbackItem {
  requestId: string;
  /** The row of the request (its index in `rows`); 0 for a single-row request. */
  row: number;
  actual: number;
}

/**
 * Ground truth for served predictions (`prediction_feedback`), keyed by request id and row. It may come
 * before the prediction is flushed to `prediction_log`, so nothing checks that the prediction exists;
 * readers join the two tables. Sending an item again replaces its value (a correction); sending the same
 * value again changes nothing.
 */
export class FeedbackStore {
  constructor(private readonly pool: pg.Pool) {}

  async modelExists(name: string): Promise<boolean> {
    const { rowCount } = await this.pool.query('SELECT 1 FROM models WHERE name = $1', [name]);
    return (rowCount ?? 0) > 0;
  }

  /** Records the items in one statement; a batch naming the same request row twice keeps the last value. */
  async record(modelName: string, items: readonly FeedbackItem[], recordedBy: string): Promise<void> {
    const last = new Map<string, FeedbackItem>();
    for (const item of items) last.set(`${item.requestId.toLowerCase()}/${item.row}`, item);
    const unique = [...last.values()];
    await this.pool.query(
      `INSERT INTO prediction_feedback (request_id, row_index, model_name, actual, recorded_by)
       SELECT id, ix, $3, a, $4 FROM unnest($1::uuid[], $2::int[], $5::float8[]) AS u(id, ix, a)
       ON CONFLICT (request_id, row_index) DO UPDATE
         SET actual = EXCLUDED.actual, model_name = EXCLUDED.model_name, recorded_by = EXCLUDED.recorded_by, received_at = now()
         WHERE prediction_feedback.actual IS DISTINCT FROM EXCLUDED.actual OR prediction_feedback.model_name IS DISTINCT FROM EXCLUDED.model_name`,
      [unique.map((i) => i.requestId), unique.map((i) => i.row), modelName, recordedBy, unique.map((i) => i.actual)],
    );
  }
}

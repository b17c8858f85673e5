import client from 'prom-client';

/**
 * The process's Prometheus metrics, served by the API at `GET /metrics` (Prometheus text format).
 * One registry per process: under `npm start` the API and the worker share it, so the worker's activity
 * counts appear beside the serving metrics. Label values are bounded: model names are registered models
 * (a request for an unknown model is counted only as an error, without its name), versions are theirs,
 * activity types are the worker's own.
 */
export const metricsRegistry = new client.Registry();
client.collectDefaultMetrics({ register: metricsRegistry, prefix: 'lifecycle_' });

/** Seconds, from the request's arrival to its prediction: sub-millisecond to a 10,000-row batch. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export const metrics = {
  predictSeconds: new client.Histogram({
    name: 'lifecycle_predict_duration_seconds',
    help: 'Latency of successful POST /models/{name}/predict requests, from arrival to the answer being ready, by model and version',
    labelNames: ['model', 'version'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [metricsRegistry],
  }),
  predictions: new client.Counter({
    name: 'lifecycle_predictions_total',
    help: 'Rows predicted (a request of n rows counts n), by model and version',
    labelNames: ['model', 'version'] as const,
    registers: [metricsRegistry],
  }),
  predictErrors: new client.Counter({
    name: 'lifecycle_predict_errors_total',
    help: 'Predict requests answered with an error, by kind (invalid_request, unauthenticated, forbidden, not_found, too_large, unsupported_media_type, unprocessable, rate_limited, unavailable, internal)',
    labelNames: ['kind'] as const,
    registers: [metricsRegistry],
  }),
  modelLoads: new client.Counter({
    name: 'lifecycle_model_loads_total',
    help: 'ONNX sessions the serving code loaded (artifact read, hash checked, session created; a deploy or a restart loads the new version once), by model, version and outcome (ok, failed)',
    labelNames: ['model', 'version', 'outcome'] as const,
    registers: [metricsRegistry],
  }),
  inferenceBatchRequests: new client.Histogram({
    name: 'lifecycle_inference_batch_requests',
    help: 'Requests scored by one ONNX Runtime run (dynamic batching: the requests that arrived together share a run)',
    buckets: [1, 2, 4, 8, 16, 32, 64],
    registers: [metricsRegistry],
  }),
  shadowPredictions: new client.Counter({
    name: 'lifecycle_shadow_predictions_total',
    help: 'Rows a shadow version scored on a copy of the traffic (never sent to the caller), by model and shadow version',
    labelNames: ['model', 'version'] as const,
    registers: [metricsRegistry],
  }),
  shadowSkipped: new client.Counter({
    name: 'lifecycle_shadow_skipped_total',
    help: 'Requests whose shadow scoring was skipped so that serving does not wait or grow (e.g. too much shadow work in flight), by model and reason',
    labelNames: ['model', 'reason'] as const,
    registers: [metricsRegistry],
  }),
  logWritten: new client.Counter({
    name: 'lifecycle_prediction_log_written_rows_total',
    help: 'Prediction rows written to the prediction_log table',
    registers: [metricsRegistry],
  }),
  logDropped: new client.Counter({
    name: 'lifecycle_prediction_log_dropped_rows_total',
    help: 'Prediction rows not logged, by reason: buffer_full (PostgreSQL slow or down: the newest are dropped), shutdown (unwritten when the API stopped), rejected (PostgreSQL refused the batch)',
    labelNames: ['reason'] as const,
    registers: [metricsRegistry],
  }),
  logFlushes: new client.Counter({
    name: 'lifecycle_prediction_log_flushes_total',
    help: 'Batches the prediction log tried to write, by outcome (ok, retry: PostgreSQL unavailable, rows kept; rejected)',
    labelNames: ['outcome'] as const,
    registers: [metricsRegistry],
  }),
  logFlushSeconds: new client.Histogram({
    name: 'lifecycle_prediction_log_flush_duration_seconds',
    help: 'Time to write one batch of the prediction log',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [metricsRegistry],
  }),
  retentionDeleted: new client.Counter({
    name: 'lifecycle_prediction_log_retention_deleted_rows_total',
    help: 'Rows older than PREDICTION_LOG_RETENTION deleted by this process, by table (prediction_log, prediction_feedback)',
    labelNames: ['table'] as const,
    registers: [metricsRegistry],
  }),
  feedback: new client.Counter({
    name: 'lifecycle_feedback_received_total',
    help: 'Ground-truth values accepted by POST /models/{name}/feedback, by model',
    labelNames: ['model'] as const,
    registers: [metricsRegistry],
  }),
  activitiesStarted: new client.Counter({
    name: 'lifecycle_worker_activities_started_total',
    help: 'Activity attempts this process started, by activity type (a retry is another attempt)',
    labelNames: ['activity'] as const,
    registers: [metricsRegistry],
  }),
  activitiesCompleted: new client.Counter({
    name: 'lifecycle_worker_activities_completed_total',
    help: 'Activity attempts this process completed, by activity type',
    labelNames: ['activity'] as const,
    registers: [metricsRegistry],
  }),
  activitiesFailed: new client.Counter({
    name: 'lifecycle_worker_activities_failed_total',
    help: 'Activity attempts that failed (including cancellations and non-retryable failures), by activity type and failure type',
    labelNames: ['activity', 'error'] as const,
    registers: [metricsRegistry],
  }),
  activitySeconds: new client.Histogram({
    name: 'lifecycle_worker_activity_duration_seconds',
    help: 'Duration of activity attempts, by activity type',
    labelNames: ['activity'] as const,
    buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 1800, 7200],
    registers: [metricsRegistry],
  }),
};

/** Gauges computed when scraped, summed over the live sources (one per API in the process). */
const bufferSources = new Set<() => { buffered: number; capacity: number }>();
new client.Gauge({
  name: 'lifecycle_prediction_log_buffer_rows',
  help: 'Prediction rows waiting in memory to be written to PostgreSQL (including a batch being written)',
  registers: [metricsRegistry],
  collect() {
    this.set([...bufferSources].reduce((sum, s) => sum + s().buffered, 0));
  },
});
new client.Gauge({
  name: 'lifecycle_prediction_log_buffer_capacity_rows',
  help: 'The bound of the prediction log buffer (PREDICTION_LOG_BUFFER)',
  registers: [metricsRegistry],
  collect() {
    this.set([...bufferSources].reduce((sum, s) => sum + s().capacity, 0));
  },
});
/** Registers a buffer for the gauges; returns its removal. */
export function watchBuffer(source: () => { buffered: number; capacity: number }): () => void {
  bufferSources.add(source);
  return () => void bufferSources.delete(source);
}

/** The error kind of a predict answer's status, for `lifecycle_predict_errors_total`. */
export function errorKind(status: number): string {
  const kinds: Record<number, string> = {
    400: 'invalid_request', 401: 'unauthenticated', 403: 'forbidden', 404: 'not_found', 405: 'method_not_allowed', 413: 'too_large', 414: 'too_large',
    415: 'unsupported_media_type', 422: 'unprocessable', 429: 'rate_limited', 503: 'unavailable',
  };
  return kinds[status] ?? (status >= 500 ? 'internal' : `http_${status}`);
}

/** Counts a version's session load (`lifecycle_model_loads_total`) once it succeeded or failed; returns `loading` untouched. */
export function countModelLoad<T>(loading: Promise<T>, model: string, version: number): Promise<T> {
  const labels = { model, version: String(version) };
  loading.then(() => metrics.modelLoads.inc({ ...labels, outcome: 'ok' }), () => metrics.modelLoads.inc({ ...labels, outcome: 'failed' }));
  return loading;
}

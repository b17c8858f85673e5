-- Up Migration

-- Every prediction the API served: one row per predicted row. A request of n rows gives n rows with the
-- same request_id and row_index 0..n-1 (a single-row request: row_index 0). Written in batches off the
-- request path (src/serving/predictionLog.ts): a row can arrive up to a flush interval after its answer,
-- and rows dropped while PostgreSQL was slow or down are never written (counted in /metrics).
-- No foreign keys: logging must stay cheap and must not fail because of the registry.
CREATE TABLE prediction_log (
  request_id  uuid NOT NULL,
  row_index   integer NOT NULL DEFAULT 0,
  model_name  text NOT NULL,
  version     integer NOT NULL,
  inputs      jsonb NOT NULL,
  prediction  double precision NOT NULL,
  -- The whole request's latency as the API measured it (same for every row of the request).
  latency_ms  real NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (request_id, row_index)
);
-- Monitoring reads a model's recent predictions; canary decisions read one version's.
CREATE INDEX prediction_log_model_time ON prediction_log (model_name, created_at);
CREATE INDEX prediction_log_model_version_time ON prediction_log (model_name, version, created_at);

-- Ground truth by request id (and row index), sent with POST /models/{name}/feedback, possibly before
-- the prediction itself is flushed: hence no foreign key to prediction_log. Sending it again replaces
-- the value (a correction); sending the same value again changes nothing.
CREATE TABLE prediction_feedback (
  request_id   uuid NOT NULL,
  row_index    integer NOT NULL DEFAULT 0,
  model_name   text NOT NULL,
  actual       double precision NOT NULL,
  recorded_by  text NOT NULL,
  received_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (request_id, row_index)
);
CREATE INDEX prediction_feedback_model_time ON prediction_feedback (model_name, received_at);

-- Down Migration
DROP TABLE prediction_feedback;
DROP TABLE prediction_log;

-- Up Migration

-- The prediction log keeps one row per request and role instead of one per predicted row: a 100-row
-- request was 100 tuples and 300 index entries, and writing them took a core of PostgreSQL at 55,000
-- rows/s (measured). As one row, the rows a json array (json, not jsonb: stored as sent, not converted)
-- and the predictions a float8[], the same predictions cost PostgreSQL a sixteenth of that.
-- Row i of a request is inputs->i and predictions[i + 1] (feedback keeps its 0-based `row_index`).
ALTER TABLE prediction_log RENAME TO prediction_log_rows;
ALTER TABLE prediction_log_rows RENAME CONSTRAINT prediction_log_pkey TO prediction_log_rows_pkey;
ALTER TABLE prediction_log_rows RENAME CONSTRAINT prediction_log_answer TO prediction_log_rows_answer;
ALTER INDEX prediction_log_model_time RENAME TO prediction_log_rows_model_time;
ALTER INDEX prediction_log_model_version_time RENAME TO prediction_log_rows_model_version_time;

CREATE TABLE prediction_log (
  request_id  uuid NOT NULL,
  -- serve: what the caller got; shadow: what a shadow version answered to a copy of the request.
  role        text NOT NULL DEFAULT 'serve' CHECK (role IN ('serve', 'shadow')),
  model_name  text NOT NULL,
  version     integer NOT NULL,
  -- The request's rows as sent, a JSON array (one element for a single-row request).
  inputs      json NOT NULL,
  -- One prediction per row, in order; NULL when the version failed the request (then `error` says why).
  predictions double precision[],
  error       text,
  -- The whole request's latency as the API measured it.
  latency_ms  real NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (request_id, role),
  CONSTRAINT prediction_log_answer CHECK ((predictions IS NULL) <> (error IS NULL))
);

INSERT INTO prediction_log (request_id, role, model_name, version, inputs, predictions, error, latency_ms, created_at)
  SELECT request_id, role, model_name, version, inputs::json, NULL, error, latency_ms, created_at
  FROM prediction_log_rows WHERE error IS NOT NULL;
INSERT INTO prediction_log (request_id, role, model_name, version, inputs, predictions, error, latency_ms, created_at)
  SELECT request_id, role, min(model_name), min(version), json_agg(inputs ORDER BY row_index),
         array_agg(prediction ORDER BY row_index), NULL, max(latency_ms), min(created_at)
  FROM prediction_log_rows WHERE error IS NULL GROUP BY request_id, role;
DROP TABLE prediction_log_rows;

-- Monitoring and retention read a model's recent requests; canary decisions read one version's.
CREATE INDEX prediction_log_model_time ON prediction_log (model_name, created_at);
CREATE INDEX prediction_log_model_version_time ON prediction_log (model_name, version, created_at);

-- Down Migration
ALTER TABLE prediction_log RENAME TO prediction_log_requests;
ALTER TABLE prediction_log_requests RENAME CONSTRAINT prediction_log_pkey TO prediction_log_requests_pkey;
ALTER TABLE prediction_log_requests RENAME CONSTRAINT prediction_log_answer TO prediction_log_requests_answer;
ALTER INDEX prediction_log_model_time RENAME TO prediction_log_requests_model_time;
ALTER INDEX prediction_log_model_version_time RENAME TO prediction_log_requests_model_version_time;
CREATE TABLE prediction_log (
  request_id  uuid NOT NULL,
  row_index   integer NOT NULL DEFAULT 0,
  model_name  text NOT NULL,
  version     integer NOT NULL,
  inputs      jsonb NOT NULL,
  prediction  double precision,
  latency_ms  real NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  role        text NOT NULL DEFAULT 'serve' CHECK (role IN ('serve', 'shadow')),
  error       text,
  PRIMARY KEY (request_id, row_index, role),
  CONSTRAINT prediction_log_answer CHECK ((prediction IS NULL) <> (error IS NULL))
);
INSERT INTO prediction_log (request_id, row_index, model_name, version, inputs, prediction, latency_ms, created_at, role, error)
  SELECT request_id, 0, model_name, version, inputs::jsonb, NULL, latency_ms, created_at, role, error
  FROM prediction_log_requests WHERE error IS NOT NULL;
INSERT INTO prediction_log (request_id, row_index, model_name, version, inputs, prediction, latency_ms, created_at, role, error)
  SELECT r.request_id, (e.i - 1)::int, r.model_name, r.version, e.row::jsonb, r.predictions[e.i], r.latency_ms, r.created_at, r.role, NULL
  FROM prediction_log_requests r CROSS JOIN LATERAL json_array_elements(r.inputs) WITH ORDINALITY AS e(row, i)
  WHERE r.error IS NULL;
DROP TABLE prediction_log_requests;
CREATE INDEX prediction_log_model_time ON prediction_log (model_name, created_at);
CREATE INDEX prediction_log_model_version_time ON prediction_log (model_name, version, created_at);

-- Up Migration

-- One row per drift monitor run (issue 17): what it compared, its verdict and where its report is.
-- Keyed by the run, so a retried write changes nothing; GET /models/{name}/drift reads it newest first.
CREATE TABLE drift_runs (
  workflow_id        text NOT NULL,
  run_id             text NOT NULL,
  model_name         text NOT NULL,
  -- The production version the run compared against (null when the model had none).
  version            integer,
  -- The current data: the prediction log over [window_start, window_end), or a dataset.
  window_start       timestamptz,
  window_end         timestamptz NOT NULL,
  dataset_uri        text,
  current_rows       bigint NOT NULL,
  verdict            text NOT NULL CHECK (verdict IN ('drifted', 'ok', 'not-enough-data')),
  drifted_features   text[] NOT NULL DEFAULT '{}',
  drift_share        double precision,
  prediction_drift   boolean,
  -- Performance decay on feedback: the metric, its value on feedback and at evaluation, rows, decayed.
  decay              jsonb,
  report_json        jsonb,
  report_html        jsonb,
  -- The retraining this run asked for: started, already running, cooling down, or null (not asked).
  retraining         jsonb,
  recorded_at        timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (workflow_id, run_id)
);
CREATE INDEX drift_runs_model_time ON drift_runs (model_name, window_end DESC);

-- Every request to retrain a model (drift monitor, nightly schedule) and what became of it. The cool-down
-- counts the requests that started (or were starting) a lifecycle; request_key (the requesting run and
-- activity) makes a retried request find its own row instead of starting twice.
CREATE TABLE retraining_starts (
  request_key     text PRIMARY KEY,
  model_name      text NOT NULL,
  trigger         text NOT NULL CHECK (trigger IN ('schedule', 'drift')),
  requested_by    text NOT NULL,
  reason          text NOT NULL DEFAULT '',
  state           text NOT NULL CHECK (state IN ('starting', 'started', 'already-running', 'cooling-down')),
  workflow_id     text NOT NULL,
  run_id          text,
  requested_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX retraining_starts_model_time ON retraining_starts (model_name, requested_at DESC);

-- Down Migration
DROP TABLE retraining_starts;
DROP TABLE drift_runs;

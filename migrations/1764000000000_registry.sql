-- Up Migration

-- One row per model name; created on its first lifecycle.
CREATE TABLE models (
  name        text PRIMARY KEY,
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- Immutable, content-addressed dataset versions: the same bytes are the same version.
CREATE TABLE dataset_versions (
  sha256       text PRIMARY KEY CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  artifact_uri text NOT NULL,
  source_uri   text NOT NULL,
  bytes        bigint NOT NULL,
  row_count    integer,
  schema       jsonb,
  created_at   timestamptz NOT NULL DEFAULT now()
);

-- Which datasets each model has seen (a dataset can feed several models).
CREATE TABLE model_datasets (
  model_name     text NOT NULL REFERENCES models(name),
  dataset_sha256 text NOT NULL REFERENCES dataset_versions(sha256),
  first_seen_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (model_name, dataset_sha256)
);

-- Every trained candidate, deployed or not. run_key makes registration idempotent under retries.
CREATE TABLE model_versions (
  id              bigserial PRIMARY KEY,
  model_name      text NOT NULL REFERENCES models(name),
  version         integer NOT NULL,
  run_key         text NOT NULL UNIQUE,
  status          text NOT NULL CHECK (status IN ('candidate', 'not-blessed', 'approved', 'rejected', 'expired', 'deployed')),
  trainer         text NOT NULL,
  params          jsonb NOT NULL,
  training_metrics jsonb NOT NULL,
  evaluation      jsonb,
  signature       jsonb NOT NULL,
  artifact_uri    text NOT NULL,
  sha256          text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  bytes           bigint NOT NULL,
  dataset_sha256  text NOT NULL REFERENCES dataset_versions(sha256),
  workflow_id     text NOT NULL,
  run_id          text NOT NULL,
  created_by      text NOT NULL,
  approved_by     text[],
  created_at      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (model_name, version)
);

-- Named pointers (production, ...) to a version; moved only with a history row in the same transaction.
CREATE TABLE aliases (
  model_name  text NOT NULL REFERENCES models(name),
  alias       text NOT NULL,
  version_id  bigint NOT NULL REFERENCES model_versions(id),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (model_name, alias)
);

CREATE TABLE alias_history (
  id               bigserial PRIMARY KEY,
  model_name       text NOT NULL,
  alias            text NOT NULL,
  from_version_id  bigint REFERENCES model_versions(id),
  to_version_id    bigint NOT NULL REFERENCES model_versions(id),
  moved_by         text NOT NULL,
  reason           text NOT NULL,
  -- A deploy retried after a crash finds its own row and changes nothing.
  move_key         text NOT NULL UNIQUE,
  moved_at         timestamptz NOT NULL DEFAULT now()
);

-- Every approval decision attempt, accepted or refused.
CREATE TABLE approval_events (
  id           bigserial PRIMARY KEY,
  event_key    text NOT NULL UNIQUE,
  workflow_id  text NOT NULL,
  run_id       text NOT NULL,
  model_name   text NOT NULL,
  version_id   bigint REFERENCES model_versions(id),
  decision     text NOT NULL CHECK (decision IN ('approve', 'reject')),
  approver     text NOT NULL,
  accepted     boolean NOT NULL,
  reason       text NOT NULL,
  comment      text NOT NULL DEFAULT '',
  at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX approval_events_workflow ON approval_events (workflow_id);

-- Down Migration
DROP TABLE approval_events;
DROP TABLE alias_history;
DROP TABLE aliases;
DROP TABLE model_versions;
DROP TABLE model_datasets;
DROP TABLE dataset_versions;
DROP TABLE models;

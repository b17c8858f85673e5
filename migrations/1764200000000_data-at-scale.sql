-- Up Migration

-- How a model reads a dataset version: its typed Parquet form and its profile (per model, because a
-- model's schema may pin columns as text), and the dataset's format and parts.
ALTER TABLE model_datasets ADD COLUMN table_ref jsonb;
ALTER TABLE model_datasets ADD COLUMN profile_ref jsonb;
ALTER TABLE dataset_versions ADD COLUMN format text;
ALTER TABLE dataset_versions ADD COLUMN parts integer;

-- A model's dataset schema, versioned: inferred from its first dataset, or given as a file.
CREATE TABLE model_schemas (
  model_name   text NOT NULL REFERENCES models(name),
  version      integer NOT NULL,
  source       text NOT NULL CHECK (source IN ('file', 'inferred')),
  schema       jsonb NOT NULL,
  schema_sha256 text NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (model_name, version)
);

-- Down Migration
DROP TABLE model_schemas;
ALTER TABLE dataset_versions DROP COLUMN parts;
ALTER TABLE dataset_versions DROP COLUMN format;
ALTER TABLE model_datasets DROP COLUMN profile_ref;
ALTER TABLE model_datasets DROP COLUMN table_ref;

-- Up Migration

-- Releases (issue 16): canary and shadow aliases, rollbacks and the statuses they leave.

-- A canary alias takes this share of the unpinned traffic of its model; null for every other alias.
ALTER TABLE aliases ADD COLUMN traffic_share double precision CHECK (traffic_share > 0 AND traffic_share < 1);

-- An alias removed (a canary or shadow that ended) is a history row with no target version.
ALTER TABLE alias_history ALTER COLUMN to_version_id DROP NOT NULL;
ALTER TABLE alias_history ADD COLUMN traffic_share double precision;
-- The run or rollback that moved it; what it expected the alias to point at (compare-and-set).
ALTER TABLE alias_history ADD COLUMN expected_version_id bigint REFERENCES model_versions(id);

-- superseded: was in production, replaced by a newer deploy; rolled-back: taken out of production or
-- canary by a rollback; canary / shadow: serving a share or a copy of the traffic for a running release.
ALTER TABLE model_versions DROP CONSTRAINT model_versions_status_check;
ALTER TABLE model_versions ADD CONSTRAINT model_versions_status_check CHECK (status IN
  ('candidate', 'not-blessed', 'approved', 'rejected', 'expired', 'deployed', 'superseded', 'rolled-back', 'canary', 'shadow'));

-- The prediction log also keeps what a shadow version answered for the same request (role 'shadow',
-- never sent to the caller) and the requests a version failed (error set, prediction null): canary
-- decisions compare error rates and latencies per version, shadow reports compare answers.
ALTER TABLE prediction_log ADD COLUMN role text NOT NULL DEFAULT 'serve' CHECK (role IN ('serve', 'shadow'));
ALTER TABLE prediction_log ADD COLUMN error text;
ALTER TABLE prediction_log ALTER COLUMN prediction DROP NOT NULL;
ALTER TABLE prediction_log ADD CONSTRAINT prediction_log_answer CHECK ((prediction IS NULL) <> (error IS NULL));
ALTER TABLE prediction_log DROP CONSTRAINT prediction_log_pkey;
ALTER TABLE prediction_log ADD PRIMARY KEY (request_id, row_index, role);

-- Down Migration
DELETE FROM prediction_log WHERE role <> 'serve' OR prediction IS NULL;
ALTER TABLE prediction_log DROP CONSTRAINT prediction_log_pkey;
ALTER TABLE prediction_log ADD PRIMARY KEY (request_id, row_index);
ALTER TABLE prediction_log DROP CONSTRAINT prediction_log_answer;
ALTER TABLE prediction_log ALTER COLUMN prediction SET NOT NULL;
ALTER TABLE prediction_log DROP COLUMN error;
ALTER TABLE prediction_log DROP COLUMN role;
UPDATE model_versions SET status = 'deployed' WHERE status IN ('superseded', 'rolled-back', 'canary', 'shadow');
ALTER TABLE model_versions DROP CONSTRAINT model_versions_status_check;
ALTER TABLE model_versions ADD CONSTRAINT model_versions_status_check CHECK (status IN ('candidate', 'not-blessed', 'approved', 'rejected', 'expired', 'deployed'));
ALTER TABLE alias_history DROP COLUMN expected_version_id;
ALTER TABLE alias_history DROP COLUMN traffic_share;
DELETE FROM alias_history WHERE to_version_id IS NULL;
ALTER TABLE alias_history ALTER COLUMN to_version_id SET NOT NULL;
ALTER TABLE aliases DROP COLUMN traffic_share;

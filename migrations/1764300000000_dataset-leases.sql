-- Up Migration

-- A run holds a lease on the dataset it ingested until validation registers or rejects it. A rejected
-- dataset's stored files are deleted only when no other run holds a lease on the same bytes, so a
-- concurrent run of the same file never loses them. Leases of runs that died expire.
CREATE TABLE dataset_leases (
  lease_key   text NOT NULL,
  run_key     text NOT NULL,
  expires_at  timestamptz NOT NULL,
  PRIMARY KEY (lease_key, run_key)
);

-- Down Migration
DROP TABLE dataset_leases;

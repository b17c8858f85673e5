#!/bin/bash
# Run by the postgres image's entrypoint on the FIRST start only (when the data volume is empty).
# Creates one role and database(s) per consumer, so Temporal and the lifecycle registry cannot read
# each other's data:
#   temporal   owns temporal + temporal_visibility  (schemas set up by the temporal-schema service)
#   lifecycle  owns lifecycle                        (migrated by the worker/api at start)
# Changing TEMPORAL_DB_PASSWORD / LIFECYCLE_DB_PASSWORD later does NOT change existing roles: use
# ALTER ROLE ... PASSWORD, or start from an empty volume.
# Works whether the entrypoint executes this file or sources it (it sources files without the x bit).

: "${TEMPORAL_DB_PASSWORD:?TEMPORAL_DB_PASSWORD must be set for the postgresql service}"
: "${LIFECYCLE_DB_PASSWORD:?LIFECYCLE_DB_PASSWORD must be set for the postgresql service}"

# Passwords go in as psql variables and are quoted by psql (:'name'), never pasted into the SQL text.
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "${POSTGRES_DB:-$POSTGRES_USER}" \
  --set=temporal_password="$TEMPORAL_DB_PASSWORD" \
  --set=lifecycle_password="$LIFECYCLE_DB_PASSWORD" <<'EOSQL'
CREATE ROLE temporal LOGIN PASSWORD :'temporal_password';
CREATE DATABASE temporal OWNER temporal;
CREATE DATABASE temporal_visibility OWNER temporal;
REVOKE ALL ON DATABASE temporal, temporal_visibility FROM PUBLIC;

CREATE ROLE lifecycle LOGIN PASSWORD :'lifecycle_password';
CREATE DATABASE lifecycle OWNER lifecycle;
REVOKE ALL ON DATABASE lifecycle FROM PUBLIC;
EOSQL

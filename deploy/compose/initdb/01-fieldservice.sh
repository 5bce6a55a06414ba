#!/bin/sh
# The record store's database and role (the worker creates its tables: versioned migrations).
# The password reaches PostgreSQL as a psql variable, quoted by psql (:'pw'): a password with a
# quote, a backslash or a space is stored as it is, never spliced into the SQL text.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" -v pw="$FIELDSERVICE_DB_PASSWORD" <<'SQL'
CREATE ROLE fieldservice LOGIN PASSWORD :'pw';
CREATE DATABASE fieldservice OWNER fieldservice;
SQL

#!/bin/sh
# The record store's database and role (the workers create its tables: versioned migrations).
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" <<SQL
CREATE ROLE fieldservice LOGIN PASSWORD '${FIELDSERVICE_DB_PASSWORD}';
CREATE DATABASE fieldservice OWNER fieldservice;
SQL

#!/bin/sh
# Temporal's two databases and their schema on the compose stack's PostgreSQL (what the
# deprecated temporalio/auto-setup image did at every start): created once, then brought to the
# server's schema version on every `up` (an upgrade of the server image upgrades the schema).
# The password comes from SQL_PASSWORD, never from the command line.
set -eu
tool() { temporal-sql-tool --plugin postgres12 --ep postgresql -p 5432 -u temporal "$@"; }
for db in temporal temporal_visibility; do
  tool --db "$db" create 2>/dev/null || echo "database $db exists"
done
tool --db temporal setup-schema -v 0.0 2>/dev/null || echo "temporal schema already set up"
tool --db temporal update-schema -d /etc/temporal/schema/postgresql/v12/temporal/versioned
tool --db temporal_visibility setup-schema -v 0.0 2>/dev/null \
  || echo "visibility schema already set up"
tool --db temporal_visibility update-schema \
  -d /etc/temporal/schema/postgresql/v12/visibility/versioned

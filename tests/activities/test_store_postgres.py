"""The PostgreSQL store's own parts: its versioned schema, migrated once however many workers
start at the same time, and a connection URI logged without its password."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import psycopg

from activities.store import describe_store
from activities.store_postgres import MIGRATIONS, PostgresRecordStore, migrate


def test_the_schema_is_migrated_once_by_workers_starting_together(postgres_uri: str) -> None:
    def start(_: int) -> list[int]:
        with psycopg.connect(postgres_uri, autocommit=True) as conn:
            return migrate(conn)

    with ThreadPoolExecutor(max_workers=6) as pool:
        applied = list(pool.map(start, range(6)))
    # Exactly one starter applied each version; the others found it done.
    assert sorted(v for versions in applied for v in versions) == [v for v, _ in MIGRATIONS]
    with psycopg.connect(postgres_uri) as conn:
        rows = conn.execute("SELECT version FROM schema_migrations ORDER BY version").fetchall()
    assert [r[0] for r in rows] == [v for v, _ in MIGRATIONS]
    # A store opened on a migrated database changes nothing and works.
    store = PostgresRecordStore(postgres_uri)
    record, created = store.record_once("om-1/x/text/1", "om-1", "text", {"n": 1})
    assert created and record.payload == {"n": 1}
    store.close()


def test_a_connection_uri_is_logged_without_its_password() -> None:
    assert describe_store("postgresql://fs:s3cret@db.internal:5432/fieldservice") == (
        "postgresql://fs:***@db.internal:5432/fieldservice")
    assert describe_store("postgresql://fs@db/fieldservice") == "postgresql://fs:***@db/fieldservice"
    assert describe_store("var/fieldservice.db") == "var/fieldservice.db"


def _as(uri: str, role: str) -> str:
    """The same database's URI for another role."""
    scheme, rest = uri.split("://", 1)
    return f"{scheme}://{role}@{rest.split('@', 1)[1]}"


def test_workers_run_with_a_data_only_role_once_migrate_has_run(postgres_uri: str) -> None:
    """Finding 8: the worker needed table-creation rights at every start. Now `python -m
    workers migrate` runs as the owner (a Kubernetes Job), and workers with a role that may
    only read and write the records start and work; before the migration they refuse to start,
    naming the command."""
    import os
    import subprocess
    import sys
    import uuid
    from pathlib import Path

    import pytest

    from activities.store_postgres import StoreNotMigrated

    suffix = uuid.uuid4().hex[:8]
    owner, data = f"fs_owner_{suffix}", f"fs_data_{suffix}"
    db = postgres_uri.split("@/", 1)[1].split("?", 1)[0]
    with psycopg.connect(postgres_uri, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {owner} LOGIN")
        conn.execute(f"CREATE ROLE {data} LOGIN")
        conn.execute(f"ALTER DATABASE {db} OWNER TO {owner}")
        conn.execute(f"ALTER SCHEMA public OWNER TO {owner}")
        conn.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
    with pytest.raises(StoreNotMigrated, match="python -m workers migrate"):
        PostgresRecordStore(_as(postgres_uri, data))  # may not create the tables
    with pytest.raises(StoreNotMigrated, match="python -m workers migrate"):
        PostgresRecordStore(_as(postgres_uri, owner), migrate_at_start=False)

    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "FIELD_SERVICE_STORE": _as(postgres_uri, owner),
           "FIELD_SERVICE_LOG_FORMAT": "json"}
    done = subprocess.run([sys.executable, "-m", "workers", "migrate"], cwd=root, env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert '"applied": [1]' in done.stderr and '"store migrated"' in done.stderr
    with psycopg.connect(_as(postgres_uri, owner), autocommit=True) as conn:
        conn.execute(f"GRANT SELECT, INSERT, UPDATE ON records, schema_migrations TO {data}")
        conn.execute(f"GRANT USAGE ON SEQUENCE records_seq_seq TO {data}")
    store = PostgresRecordStore(_as(postgres_uri, data), migrate_at_start=False)
    record, created = store.record_once("om-1/x/text/1", "om-1", "text", {"n": 1})
    assert created and store.records("om-1")[0].key == "om-1/x/text/1"
    store.close()
    again = subprocess.run([sys.executable, "-m", "workers", "migrate"], cwd=root, env=env,
                           capture_output=True, text=True, timeout=60, check=False)
    assert again.returncode == 0 and '"applied": []' in again.stderr


def test_a_database_that_is_down_at_start_is_waited_for() -> None:
    """Finding 8: a worker crashed after 30 s when the database was down at start; it waits
    with backoff (up to FIELD_SERVICE_CONNECT_TIMEOUT_SECONDS) and then says why."""
    import time

    import pytest

    from activities.store_postgres import StoreUnavailable

    started = time.monotonic()
    with pytest.raises(StoreUnavailable, match="could not be reached in 3 s"):
        PostgresRecordStore("postgresql://fs@127.0.0.1:1/fieldservice?connect_timeout=1",
                            wait_seconds=3)
    assert 2 <= time.monotonic() - started < 15


def test_the_compose_init_script_takes_any_password(postgres_server: str) -> None:
    """Finding 7: the compose stack's init script spliced the password into its SQL, so a
    password with a quote broke it (or worse). It passes it as a psql variable now: run it on a
    real PostgreSQL with such a password, the role and database are made."""
    import os
    import subprocess
    from pathlib import Path
    from urllib.parse import parse_qs, urlsplit

    import pgserver

    root = Path(__file__).resolve().parents[2]
    bin_dir = Path(pgserver.__file__).parent / "pginstall" / "bin"
    url = urlsplit(postgres_server)
    host = parse_qs(url.query).get("host", [url.hostname or ""])[0]
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS fieldservice")
        conn.execute("DROP ROLE IF EXISTS fieldservice")
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "PGHOST": host,
           "PGPORT": str(url.port or 5432), "PGDATABASE": url.path.lstrip("/") or "postgres",
           "POSTGRES_USER": url.username or "postgres",
           "FIELDSERVICE_DB_PASSWORD": "it's a \\\\ \"pass\" word; DROP TABLE x; --"}
    done = subprocess.run(["sh", str(root / "deploy" / "compose" / "initdb" /
                                     "01-fieldservice.sh")],
                          env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        role = conn.execute("SELECT rolcanlogin, rolpassword IS NOT NULL FROM pg_authid "
                            "WHERE rolname = 'fieldservice'").fetchone()
        owner = conn.execute("SELECT pg_get_userbyid(datdba) FROM pg_database "
                             "WHERE datname = 'fieldservice'").fetchone()
        conn.execute("DROP DATABASE fieldservice")
        conn.execute("DROP ROLE fieldservice")
    assert role == (True, True) and owner == ("fieldservice",)

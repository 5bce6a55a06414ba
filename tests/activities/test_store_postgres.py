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

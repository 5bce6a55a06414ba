"""`RecordStore` on PostgreSQL, for workers on many hosts (`FIELD_SERVICE_STORE=postgresql://...`).

Insert-once rests on the unique key, not on a read-then-write: `INSERT ... ON CONFLICT (key) DO
NOTHING` in one transaction that also gives the new record its ID, so a racing attempt on any
host either makes the record or, blocked on the key until the first commits, reads the finished
one. Connections come from a pool (psycopg 3); the schema is versioned (`MIGRATIONS`), applied
by `python -m workers migrate` (a Kubernetes Job, with a role that may create tables) under an
advisory lock, so that many runs at once migrate it once. A worker only reads which versions
are there: with nothing pending it needs no rights but on the data (a data-only role), and with
a migration pending it applies it itself only when allowed (`FIELD_SERVICE_STORE_MIGRATE=auto`,
the default for a single host), else it refuses to start, naming the command. A database that is
down at start is waited for, with backoff, instead of crashing the worker."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import psycopg
import structlog
from psycopg import Connection
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool, PoolTimeout

from activities.store import StoredRecord

# Append only: a released migration is never edited; a change is a new version.
MIGRATIONS: tuple[tuple[int, str], ...] = (
    (1, """
        CREATE TABLE records (
            seq BIGSERIAL PRIMARY KEY,
            key TEXT NOT NULL UNIQUE,
            record_id TEXT NOT NULL,
            case_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            payload JSONB NOT NULL,
            created_at TIMESTAMPTZ NOT NULL,
            delivered_at TIMESTAMPTZ
        );
        CREATE INDEX records_case ON records (case_id, seq);
        -- Records waiting for their delivery, for the operators' dashboards.
        CREATE INDEX records_undelivered ON records (created_at) WHERE delivered_at IS NULL;
    """),
)
# Any constant: one lock for this schema's migrations across all workers.
_MIGRATION_LOCK = 0x46534D49  # "FSMI"
_COLUMNS = "key, record_id, case_id, kind, payload, created_at, delivered_at"


log = structlog.get_logger("fieldservice.store")


class StoreNotMigrated(Exception):
    """The database lacks migrations this worker needs and it may not (or cannot) apply
    them: run `python -m workers migrate`."""


class StoreUnavailable(Exception):
    """The database could not be reached within the wait."""


T = TypeVar("T")


def while_down(action: Callable[[], T], wait_seconds: float) -> T:
    """`action`, retried with backoff while the database cannot be reached (a process started
    before its database, or during a failover), for up to `wait_seconds`."""
    give_up = time.monotonic() + wait_seconds
    delay = 0.5
    while True:
        try:
            return action()
        except (PoolTimeout, psycopg.OperationalError) as err:
            if time.monotonic() + delay > give_up:
                raise StoreUnavailable(f"the record store could not be reached in "
                                       f"{wait_seconds:.0f} s: {type(err).__name__}") from None
            log.warning("record store not reachable yet; retrying", retry_in_s=delay)
            time.sleep(delay)
            delay = min(delay * 2, 10.0)


def pending_migrations(conn: Connection[Any]) -> list[int]:
    """The versions not applied yet, read without any rights but reading."""
    row = conn.execute("SELECT to_regclass('schema_migrations')").fetchone()
    if row is None or row[0] is None:
        return [v for v, _ in MIGRATIONS]
    done = {r[0] for r in conn.execute("SELECT version FROM schema_migrations")}
    return [v for v, _ in MIGRATIONS if v not in done]


def migrate(conn: Connection[Any]) -> list[int]:
    """Apply the migrations this database has not had yet; the versions applied now."""
    applied: list[int] = []
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
        conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations ("
                     " version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())")
        done = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
        for version, sql in MIGRATIONS:
            if version not in done:
                conn.execute(sql)  # a constant of this module
                conn.execute("INSERT INTO schema_migrations (version) VALUES (%s)", (version,))
                applied.append(version)
    return applied


def _instant(at: datetime | None) -> datetime:
    return (at or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)


def _text(at: datetime | None) -> str | None:
    # The same text as the SQLite store gives (ISO-8601, seconds, UTC offset).
    return at.astimezone(UTC).isoformat(timespec="seconds") if at else None


def _row(row: tuple[Any, ...]) -> StoredRecord:
    return StoredRecord(row[0], row[1], row[2], row[3], row[4], _text(row[5]) or "",
                        _text(row[6]))


class PostgresRecordStore:
    """`RecordStore` on PostgreSQL through a connection pool."""

    def __init__(self, conninfo: str, *, min_size: int = 1, max_size: int = 8,
                 migrate_at_start: bool = True, wait_seconds: float = 300.0) -> None:
        self.pool = ConnectionPool(conninfo, min_size=min_size, max_size=max_size, open=True,
                                   kwargs={"autocommit": True}, name="fieldservice-store")
        try:
            self._wait_and_check(wait_seconds, migrate_at_start)
        except BaseException:
            self.pool.close()
            raise

    def _wait_and_check(self, wait_seconds: float, migrate_at_start: bool) -> None:
        """Wait while the database is down, then the schema check."""
        def check() -> None:
            with self.pool.connection(timeout=min(5.0, max(wait_seconds, 0.1))) as conn:
                self._check_schema(conn, migrate_at_start)

        while_down(check, wait_seconds)

    @staticmethod
    def _check_schema(conn: Connection[Any], migrate_at_start: bool) -> None:
        pending = pending_migrations(conn)
        if pending and not migrate_at_start:
            raise StoreNotMigrated(
                f"the record store lacks migrations {pending}: run `python -m workers migrate` "
                "(with a role that may create tables) before the workers")
        if pending:
            try:
                migrate(conn)
            except psycopg.errors.InsufficientPrivilege:
                raise StoreNotMigrated(
                    f"the record store lacks migrations {pending} and this role may not "
                    "create tables: run `python -m workers migrate` with the owner's "
                    "role") from None

    def record_once(
        self, key: str, case_id: str, kind: str, payload: dict[str, Any],
        at: datetime | None = None,
    ) -> tuple[StoredRecord, bool]:
        """Insert unless the key exists; the existing record wins."""
        with self.pool.connection() as conn, conn.transaction():
            made = conn.execute(
                "INSERT INTO records (key, record_id, case_id, kind, payload, created_at)"
                " VALUES (%s, '', %s, %s, %s, %s) ON CONFLICT (key) DO NOTHING RETURNING seq",
                (key, case_id, kind, Jsonb(payload), _instant(at))).fetchone()
            if made is not None:
                conn.execute("UPDATE records SET record_id = %s WHERE seq = %s",
                             (f"{kind.upper().replace('_', '-')}-{made[0]:06d}", made[0]))
            row = conn.execute(f"SELECT {_COLUMNS} FROM records WHERE key = %s",  # noqa: S608
                               (key,)).fetchone()
        assert row is not None  # made here, or committed by the attempt that won the key
        return _row(row), made is not None

    def mark_delivered(self, key: str, at: datetime | None = None) -> None:
        """Note the delivery time of the record under `key` (the first one counts)."""
        with self.pool.connection() as conn:
            conn.execute("UPDATE records SET delivered_at = %s"
                         " WHERE key = %s AND delivered_at IS NULL", (_instant(at), key))

    def records(self, case_id: str | None = None) -> list[StoredRecord]:
        """Every record (of one case, when given), oldest first."""
        query = f"SELECT {_COLUMNS} FROM records"  # noqa: S608 - constant columns
        args: tuple[str, ...] = ()
        if case_id is not None:
            query += " WHERE case_id = %s"
            args = (case_id,)
        with self.pool.connection() as conn:
            rows = conn.execute(query + " ORDER BY seq", args).fetchall()
        return [_row(r) for r in rows]

    def close(self) -> None:
        """Close the pool's connections."""
        self.pool.close()

"""The record store: a durable log of every side effect, readable by operators.

`RecordStore` is the small interface activities depend on; `SqliteRecordStore` is the embedded
default (one file, WAL mode, safe for several worker processes on one host);
`activities.store_postgres.PostgresRecordStore` serves workers on many hosts. `open_store` picks
one from the `FIELD_SERVICE_STORE` setting.

A record is made once per idempotency key, and marked delivered once the real system (SMS
gateway, dialer, CRM) has taken it: an attempt that made the record but failed to deliver it
leaves it undelivered, so the retry delivers it instead of losing it."""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol


@dataclass(frozen=True)
class StoredRecord:
    """One recorded side effect."""

    key: str
    record_id: str
    case_id: str
    kind: str
    payload: dict[str, Any]
    created_at: str
    delivered_at: str | None = None


class RecordStore(Protocol):
    """What activities need from a store: record once by key, and read back."""

    def record_once(
        self, key: str, case_id: str, kind: str, payload: dict[str, Any],
        at: datetime | None = None,
    ) -> tuple[StoredRecord, bool]:
        """Store a record under `key` unless one exists; return it and whether it is new.
        `at` is when the side effect was asked for (the activity's scheduled time)."""
        ...

    def mark_delivered(self, key: str, at: datetime | None = None) -> None:
        """Note that the real system has taken the record under `key`."""
        ...

    def records(self, case_id: str | None = None) -> list[StoredRecord]:
        """Every record (of one case, when given), oldest first."""
        ...

    def close(self) -> None:
        """Release the store's connections."""
        ...


def open_store(setting: str, *, migrate_at_start: bool = True,
               wait_seconds: float = 300.0) -> RecordStore:
    """The store a `FIELD_SERVICE_STORE` value names: a `postgresql://` (or `postgres://`)
    connection URI (waited for up to `wait_seconds`; pending migrations applied only when
    `migrate_at_start`), else the path of an SQLite file."""
    if is_postgres(setting):
        from activities.store_postgres import PostgresRecordStore  # noqa: PLC0415

        return PostgresRecordStore(setting, migrate_at_start=migrate_at_start,
                                   wait_seconds=wait_seconds)
    return SqliteRecordStore(setting)


def is_postgres(setting: str) -> bool:
    """Whether a `FIELD_SERVICE_STORE` value is a PostgreSQL connection URI."""
    return setting.startswith(("postgresql://", "postgres://"))


def describe_store(setting: str) -> str:
    """The setting for logs: a connection URI without its password."""
    if "://" in setting and "@" in setting.split("://", 1)[1].split("/", 1)[0]:
        scheme, rest = setting.split("://", 1)
        userinfo, host = rest.split("@", 1)
        return f"{scheme}://{userinfo.split(':', 1)[0]}:***@{host}"
    return setting


_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE,
    record_id TEXT NOT NULL,
    case_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at TEXT NOT NULL,
    delivered_at TEXT
);
CREATE INDEX IF NOT EXISTS records_case ON records(case_id);
"""


class SqliteRecordStore:
    """`RecordStore` on an SQLite file; the UNIQUE key makes `record_once` idempotent even when
    two attempts of one activity race."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            # Owner-only (its records name cases and systems; SQLite gives its -wal and -shm
            # files the same mode): created so, and tightened when an older file was not.
            os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600))
            os.chmod(self.path, 0o600)
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA busy_timeout=5000")
        self._use_wal()
        self._conn.executescript(_SCHEMA)
        columns = {row[1] for row in self._conn.execute("PRAGMA table_info(records)")}
        if "delivered_at" not in columns:
            # A store file from before deliveries were tracked: its records were all taken by
            # the only adapter there was (no delivery), so none is due for delivery now.
            self._conn.execute("ALTER TABLE records ADD COLUMN delivered_at TEXT")
            self._conn.execute("UPDATE records SET delivered_at = created_at")

    def _use_wal(self, attempts: int = 30) -> None:
        """WAL, kept in the file once set. A journal-mode change (and the recovery of a WAL a
        killed worker left) can fail at once with "database is locked", without the busy wait,
        while another worker writes: a worker restarted beside a busy one exited so in the
        chaos run. So: set only when not WAL yet, and retried for a while."""
        for attempt in range(attempts):
            try:
                if self._conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                    self._conn.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as err:
                if "locked" not in str(err) or attempt == attempts - 1:
                    raise
                time.sleep(0.5)

    def record_once(
        self, key: str, case_id: str, kind: str, payload: dict[str, Any],
        at: datetime | None = None,
    ) -> tuple[StoredRecord, bool]:
        """Insert unless the key exists; the existing record wins. One write transaction, so
        another process on the same file never reads a half-made record."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                result = self._insert_or_read(key, case_id, kind, payload, at)
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")
        return result

    def _insert_or_read(
        self, key: str, case_id: str, kind: str, payload: dict[str, Any], at: datetime | None,
    ) -> tuple[StoredRecord, bool]:
        cur = self._conn.execute(
            "INSERT OR IGNORE INTO records (key, record_id, case_id, kind, payload, created_at)"
            " VALUES (?, '', ?, ?, ?, ?)",
            (key, case_id, kind, json.dumps(payload, sort_keys=True),
             (at or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="seconds")),
        )
        created = cur.rowcount == 1
        if created:
            record_id = f"{kind.upper().replace('_', '-')}-{cur.lastrowid:06d}"
            self._conn.execute("UPDATE records SET record_id = ? WHERE key = ?",
                               (record_id, key))
        row = self._conn.execute(
            f"SELECT {_COLUMNS} FROM records WHERE key = ?",
            (key,),
        ).fetchone()
        return _row(row), created

    def records(self, case_id: str | None = None) -> list[StoredRecord]:
        """Every record, oldest first."""
        query = f"SELECT {_COLUMNS} FROM records"
        args: tuple[str, ...] = ()
        if case_id is not None:
            query += " WHERE case_id = ?"
            args = (case_id,)
        with self._lock:
            rows = self._conn.execute(query + " ORDER BY seq", args).fetchall()
        return [_row(r) for r in rows]

    def mark_delivered(self, key: str, at: datetime | None = None) -> None:
        """Note the delivery time of the record under `key` (the first one counts)."""
        with self._lock:
            self._conn.execute(
                "UPDATE records SET delivered_at = ? WHERE key = ? AND delivered_at IS NULL",
                ((at or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="seconds"), key))

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()


_COLUMNS = "key, record_id, case_id, kind, payload, created_at, delivered_at"


def _row(row: tuple[Any, ...]) -> StoredRecord:
    return StoredRecord(row[0], row[1], row[2], row[3], json.loads(row[4]), row[5], row[6])

"""The record store: a durable log of every side effect, readable by operators.

`RecordStore` is the small interface activities depend on; `SqliteRecordStore` is the default
(one file, WAL mode, safe for several worker processes on one host). A server database replaces
it by implementing the same two methods."""

from __future__ import annotations

import json
import sqlite3
import threading
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


class RecordStore(Protocol):
    """What activities need from a store: record once by key, and read back."""

    def record_once(
        self, key: str, case_id: str, kind: str, payload: dict[str, Any],
        at: datetime | None = None,
    ) -> tuple[StoredRecord, bool]:
        """Store a record under `key` unless one exists; return it and whether it is new.
        `at` is when the side effect was asked for (the activity's scheduled time)."""
        ...

    def records(self, case_id: str | None = None) -> list[StoredRecord]:
        """Every record (of one case, when given), oldest first."""
        ...


_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE,
    record_id TEXT NOT NULL,
    case_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at TEXT NOT NULL
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
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA busy_timeout=5000")
        self._conn.executescript(_SCHEMA)

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
            "SELECT key, record_id, case_id, kind, payload, created_at FROM records WHERE key = ?",
            (key,),
        ).fetchone()
        return _row(row), created

    def records(self, case_id: str | None = None) -> list[StoredRecord]:
        """Every record, oldest first."""
        query = "SELECT key, record_id, case_id, kind, payload, created_at FROM records"
        args: tuple[str, ...] = ()
        if case_id is not None:
            query += " WHERE case_id = ?"
            args = (case_id,)
        with self._lock:
            rows = self._conn.execute(query + " ORDER BY seq", args).fetchall()
        return [_row(r) for r in rows]

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()


def _row(row: tuple[str, str, str, str, str, str]) -> StoredRecord:
    return StoredRecord(row[0], row[1], row[2], row[3], json.loads(row[4]), row[5])

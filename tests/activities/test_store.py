"""The SQLite record store opening beside other workers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from activities.store import SqliteRecordStore


def test_a_store_opened_while_another_worker_holds_the_file_waits_instead_of_exiting(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Chaos run (issue 21): a worker restarted beside a busy one exited with "database is
    locked" from the journal-mode pragma, which does not wait. It now retries."""
    import sqlite3
    import time

    path = tmp_path / "records.db"
    SqliteRecordStore(path).close()
    calls = {"n": 0}
    real_connect = sqlite3.connect

    class Flaky:
        """A connection whose first journal-mode read finds the file locked."""

        def __init__(self, conn: sqlite3.Connection) -> None:
            self.conn = conn

        def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
            if sql == "PRAGMA journal_mode" and calls["n"] == 0:
                calls["n"] += 1
                raise sqlite3.OperationalError("database is locked")
            return self.conn.execute(sql, *args)

        def __getattr__(self, name: str) -> object:
            return getattr(self.conn, name)

    monkeypatch.setattr(sqlite3, "connect",
                        lambda *a, **k: Flaky(real_connect(*a, **k)))
    monkeypatch.setattr(time, "sleep", lambda _: None)
    opened = SqliteRecordStore(path)
    assert calls["n"] == 1
    opened.close()

"""The record store and the side-effect activities outside any workflow, on SQLite and on
PostgreSQL: exactly one record per key, also when attempts race from two workers' stores; no
personal data in what is stored."""

from __future__ import annotations

import asyncio
import json
import stat
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from activities.effects import FieldServiceActivities
from activities.store import RecordStore, SqliteRecordStore, open_store
from domain.effects import Notification
from domain.homeowner import Homeowner

HOMEOWNER = Homeowner(name="Ana Ruiz", phone="+14155550100", email="ana@example.com",
                      address="1 Main St, San Francisco, CA 94103")


def test_the_first_record_of_a_key_wins(any_store: RecordStore) -> None:
    store = any_store
    first, created = store.record_once("om-1/x/text/1", "om-1", "text", {"n": 1})
    again, created_again = store.record_once("om-1/x/text/1", "om-1", "text", {"n": 2})
    assert created and not created_again
    assert again == first and again.payload == {"n": 1}
    assert first.record_id == "TEXT-000001"
    assert first.created_at.endswith("+00:00") and first.delivered_at is None
    store.mark_delivered("om-1/x/text/1", datetime(2026, 11, 24, 9, 30, tzinfo=UTC))
    store.mark_delivered("om-1/x/text/1", datetime(2026, 11, 25, 9, 30, tzinfo=UTC))
    [delivered] = store.records("om-1")
    assert delivered.delivered_at == "2026-11-24T09:30:00+00:00"  # the first delivery counts
    store.record_once("om-2/x/call_task/1", "om-2", "call_task", {"n": 3},
                      datetime(2026, 11, 24, 8, 0, 5, 123456, tzinfo=UTC))
    # Record IDs are unique and name the kind; not gapless (a refused duplicate may use a number).
    ids = [r.record_id for r in store.records()]
    assert ids[0] == "TEXT-000001" and ids[1].startswith("CALL-TASK-0000") and len(set(ids)) == 2
    assert store.records("om-2")[0].created_at == "2026-11-24T08:00:05+00:00"
    assert store.records("om-3") == []


def test_racing_attempts_from_two_workers_make_one_record(store_setting: str) -> None:
    # Two stores on one database stand for two worker processes (each with its own lock or
    # connection pool).
    stores = [open_store(store_setting) for _ in range(2)]

    def attempt(i: int) -> tuple[str, bool]:
        record, created = stores[i % 2].record_once(f"om-1/x/text/{i // 8}", "om-1", "text",
                                                    {"attempt": i})
        return record.record_id, created

    # Many small races: without the write transaction, some reader sees a record with no
    # record ID yet in most runs of this test (checked by removing it).
    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(attempt, range(1600)))
    assert sum(created for _, created in results) == 200  # 200 keys, one record each
    assert all(record_id for record_id, _ in results)  # nobody saw a half-made record
    assert len(stores[0].records("om-1")) == 200
    assert len({r.record_id for r in stores[1].records("om-1")}) == 200
    for store in stores:
        store.close()


def test_stored_notifications_hold_no_personal_data(any_store: RecordStore) -> None:
    store = any_store
    acts = FieldServiceActivities(store)
    for channel in ("text", "call_task", "email", "letter"):
        req = Notification(key=f"om-1/x/{channel}", case_id="om-1", channel=channel,
                           template="t", recipient=HOMEOWNER, params={})
        receipt = asyncio.run(acts.notify_homeowner(req))
        assert receipt.created
    stored = json.dumps([r.payload for r in store.records("om-1")])
    for personal in ("Ana", "Ruiz", "4155550100", "ana@example.com", "1 Main St"):
        assert personal not in stored
    assert store.records("om-1")[0].payload["to"].endswith("0100")  # masked, still checkable


def test_the_record_store_file_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    """Issue 16: the file was 0644 (it holds no personal data, but names every case and side
    effect). It and SQLite's journal files are created owner-only."""
    path = tmp_path / "records.db"
    store = SqliteRecordStore(path)
    store.record_once("k", "om-1", "text", {})
    files = [p for p in tmp_path.iterdir() if p.name.startswith("records.db")]
    assert path in files
    for p in files:
        assert stat.S_IMODE(p.stat().st_mode) == 0o600, (p.name, oct(p.stat().st_mode))

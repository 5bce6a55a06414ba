"""The record store and the side-effect activities outside any workflow: exactly one record
per key, also when attempts race from two processes; no personal data in what is stored."""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from activities.effects import FieldServiceActivities
from activities.store import SqliteRecordStore
from domain.effects import Notification
from domain.homeowner import Homeowner

HOMEOWNER = Homeowner(name="Ana Ruiz", phone="+14155550100", email="ana@example.com",
                      address="1 Main St, San Francisco, CA 94103")


def test_the_first_record_of_a_key_wins(tmp_path: Path) -> None:
    store = SqliteRecordStore(tmp_path / "r.db")
    first, created = store.record_once("om-1/x/text/1", "om-1", "text", {"n": 1})
    again, created_again = store.record_once("om-1/x/text/1", "om-1", "text", {"n": 2})
    assert created and not created_again
    assert again == first and again.payload == {"n": 1}
    assert first.record_id == "TEXT-000001"


def test_racing_attempts_from_two_processes_make_one_record(tmp_path: Path) -> None:
    # Two stores on one file stand for two worker processes (each has its own lock).
    stores = [SqliteRecordStore(tmp_path / "r.db") for _ in range(2)]

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


def test_stored_notifications_hold_no_personal_data(tmp_path: Path) -> None:
    store = SqliteRecordStore(tmp_path / "r.db")
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

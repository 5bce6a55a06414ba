"""Record the histories the replay test replays: `python -m tests.histories.record`.

Run it when a workflow gains a path worth guarding, never to make a failing replay pass: a
replay that fails means running cases would fail the same way (use `workflow.patched`). With
no names it records only the scenarios that have no history yet: a committed history stands
for cases running on the code it was recorded on, and is not re-recorded unless named. It
writes one JSON file per run and prints each run's history-event count."""

from __future__ import annotations

import asyncio
import sys
import tempfile
import uuid
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from activities.effects import FieldServiceActivities
from activities.store import SqliteRecordStore
from infra.wire import DATA_CONVERTER
from tests.conftest import server_path
from tests.histories.scenarios import SCENARIOS
from tests.workflows.harness import CaseHarness
from workers.registry import ensure_search_attributes

HERE = Path(__file__).parent


def history_files() -> list[Path]:
    """The committed histories."""
    return sorted(HERE.glob("*.json"))


async def record(names: list[str]) -> None:
    """Run the named scenarios (those not recorded yet when none) and write their histories
    beside this file, each scenario on a time-skipping server of its own (see
    tests/conftest.py `env`)."""
    todo = names or [n for n in SCENARIOS if not list(HERE.glob(f"{n}.*.json"))]
    with tempfile.TemporaryDirectory() as tmp:
        for name in todo:
            env = await WorkflowEnvironment.start_time_skipping(
                test_server_existing_path=server_path("temporal-test-server"),
                data_converter=DATA_CONVERTER)
            try:
                await ensure_search_attributes(env.client)
                store = SqliteRecordStore(Path(tmp) / f"{name}.db")
                om = CaseHarness(env, env.client, f"record-{uuid.uuid4()}", store,
                                 FieldServiceActivities(store))
                histories = await SCENARIOS[name](om)
            finally:
                await env.shutdown()
            for old in HERE.glob(f"{name}.*.json"):
                old.unlink()
            for i, history in enumerate(histories, start=1):
                kind = history.events[0].workflow_execution_started_event_attributes \
                    .workflow_type.name
                path = HERE / f"{name}.{i}.{kind}.json"
                path.write_text(history.to_json() + "\n")
                print(f"{path.name}: {len(history.events)} history events")
            total = sum(len(h.events) for h in histories)
            print(f"{name}: {len(histories)} run(s), {total} history events in all")

if __name__ == "__main__":
    asyncio.run(record(sys.argv[1:]))

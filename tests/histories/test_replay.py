"""Replays the committed histories with today's workflow code: a change that would break a
running case (a non-deterministic edit without `workflow.patched`) fails here."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from domain.processes import PROCESSES
from infra.wire import DATA_CONVERTER
from tests.histories.record import history_files
from workers.registry import WORKFLOWS, workflow_runner


def test_there_are_histories_of_every_workflow_type() -> None:
    kinds = {path.name.split(".")[2] for path in history_files()}
    assert kinds == {t for spec in PROCESSES.values() for t in spec.workflow_types}


@pytest.mark.parametrize("path", history_files(), ids=lambda p: p.stem)
async def test_history_replays(path: Path) -> None:
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    replayer = Replayer(workflows=list(WORKFLOWS), workflow_runner=workflow_runner("checked"),
                        data_converter=DATA_CONVERTER)
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, f"{path.name}: {result.replay_failure}"

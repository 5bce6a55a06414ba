"""Spec 2.1 checked over the recorded case paths, not one case: every text and call a case
asked for (safety notices aside) was scheduled inside contact hours in the homeowner's own zone,
and every delivery attempt started before its send-by instant."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from temporalio.client import WorkflowHistory

from domain.processes import process_of_type
from infra.wire import DATA_CONVERTER
from tests.histories.messages import assert_inside_contact_hours, homeowner_messages
from tests.histories.record import history_files


def _input_of(history: WorkflowHistory) -> Any:
    """The run's input, as its process's model."""
    started = history.events[0].workflow_execution_started_event_attributes
    model = process_of_type(started.workflow_type.name).input_model
    [inp] = DATA_CONVERTER.payload_converter.from_payloads(started.input.payloads, [model])
    return inp


@pytest.mark.parametrize("path", history_files(), ids=lambda p: p.stem)
def test_every_text_and_call_is_inside_contact_hours(path: Path) -> None:
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    inp = _input_of(history)
    started = history.events[0].workflow_execution_started_event_attributes
    tz = process_of_type(started.workflow_type.name).time_zone(inp).zone
    assert_inside_contact_hours([history], tz, inp.policy.contact_hours)


def test_the_histories_do_text_and_call_in_real_contact_hours() -> None:
    """The check above is not vacuous: the recorded paths text and call under 08:00-20:00."""
    counted = 0
    for path in history_files():
        history = WorkflowHistory.from_json(path.stem, path.read_text())
        inp = _input_of(history)
        if str(inp.policy.contact_hours.start) == "08:00:00":
            counted += len(homeowner_messages(history))
    assert counted >= 5

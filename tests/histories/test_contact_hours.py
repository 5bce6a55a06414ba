"""Spec 2.1 checked over the recorded case paths, not one case: every text and call a case
asked for (safety notices aside) was scheduled inside contact hours in the homeowner's own zone,
and every delivery attempt started before its send-by instant."""

from __future__ import annotations

from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHistory

from domain.effects import Notification
from domain.processes import process_of_type
from domain.rules.contact_hours import is_within_contact_hours
from infra.wire import DATA_CONVERTER
from tests.histories.record import history_files

SCHEDULED = EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
STARTED = EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED


def _homeowner_messages(history: WorkflowHistory) -> list[tuple[Notification, Any, Any]]:
    """(notification, scheduled at, attempt started at) of every text and call task."""
    starts = {e.activity_task_started_event_attributes.scheduled_event_id: e.event_time
              for e in history.events if e.event_type == STARTED}
    found = []
    for e in history.events:
        if e.event_type != SCHEDULED:
            continue
        attrs = e.activity_task_scheduled_event_attributes
        if attrs.activity_type.name != "notify_homeowner":
            continue
        [req] = DATA_CONVERTER.payload_converter.from_payloads(attrs.input.payloads,
                                                               [Notification])
        if req.channel in ("text", "call_task") and req.template != "safety_notice":
            found.append((req, e.event_time, starts.get(e.event_id)))
    return found


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
    messages = _homeowner_messages(history)
    for req, scheduled, attempt in messages:
        at = scheduled.ToDatetime(tzinfo=UTC)
        assert is_within_contact_hours(at, tz, inp.policy.contact_hours), (req.key, at, tz)
        if req.send_by is not None and attempt is not None:
            assert attempt.ToDatetime(tzinfo=UTC) <= req.send_by


def test_the_histories_do_text_and_call_in_real_contact_hours() -> None:
    """The check above is not vacuous: the recorded paths text and call under 08:00-20:00."""
    counted = 0
    for path in history_files():
        history = WorkflowHistory.from_json(path.stem, path.read_text())
        inp = _input_of(history)
        if str(inp.policy.contact_hours.start) == "08:00:00":
            counted += len(_homeowner_messages(history))
    assert counted >= 5

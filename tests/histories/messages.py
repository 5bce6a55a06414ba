"""The homeowner texts and calls a case's history asked for, and the spec 2.1 check over them:
each scheduled inside contact hours in the homeowner's zone (every served zone when unknown),
each delivery attempt started before its send-by instant. Used over the committed histories and
over the cases the tests drive through a real week."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHistory

from domain.effects import Notification
from domain.rules.contact_hours import ContactHours, is_within_contact_hours
from infra.wire import DATA_CONVERTER

SCHEDULED = EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
STARTED = EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED


def homeowner_messages(history: WorkflowHistory) -> list[tuple[Notification, Any, Any]]:
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




def assert_inside_contact_hours(histories: list[WorkflowHistory], zone: str | None,
                                hours: ContactHours) -> int:
    """Check every text and call of the histories (spec 2.1); returns how many were checked."""
    checked = 0
    for history in histories:
        for req, scheduled, attempt in homeowner_messages(history):
            at = scheduled.ToDatetime(tzinfo=UTC)
            assert is_within_contact_hours(at, zone, hours), (req.key, at, zone)
            if req.send_by is not None and attempt is not None:
                assert attempt.ToDatetime(tzinfo=UTC) <= req.send_by, (req.key, attempt)
            checked += 1
    return checked

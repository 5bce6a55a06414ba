"""Event admission (spec 2): one check behind both doors of a case, the Update (a rejection
fails it, non-retryable, leaving no trace) and the Signal (a rejection is recorded in
`rejected_events`). A seen `event_id` is acknowledged before anything else; then the name, the
payload, a closed case, the stage and the process's own check. Pure functions of the case
state, so the validator, the handler and the signal give the same answer."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from temporalio import workflow
from temporalio.common import RawValue
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from pydantic import ValidationError

    from domain.base import describe_fields
    from domain.case import CaseState
    from domain.events import OPS_COMMANDS, AddNote, Event, OpsCommand

StageCheck = Callable[[Any, Any], str | None]
Apply = Callable[[Any, Any], None]

INVALID_EVENT = "InvalidEvent"
EVENT_REJECTED = "EventRejected"
CASE_CLOSED = "CaseClosed"
# Longest event or stage name quoted back in a rejection (a 950-character name sent 1,200 times
# must not fill the case state).
NAME_IN_REASON = 80


@dataclass(frozen=True)
class EventSpec:
    """How a case takes one event: its payload model (which knows the event's name), the stages
    it fits (None: any open stage), an extra check, and whether it is applied at once (`apply`)
    or queued for the flow (`flow`)."""

    model: type[Event]
    stages: frozenset[str] | None = None
    check: StageCheck | None = None
    apply: Apply | None = None
    flow: bool = True

    @property
    def name(self) -> str:
        """The event's wire name."""
        return self.model.EVENT


def events_table(*specs: EventSpec) -> dict[str, EventSpec]:
    """A process's `EVENTS`, keyed by each event's own name."""
    return {spec.name: spec for spec in specs}


@dataclass(frozen=True)
class Accepted:
    """The event fits: apply or queue it."""

    event: Event


@dataclass(frozen=True)
class Duplicate:
    """The `event_id` was seen before: acknowledge it and change nothing."""

    event_id: str


@dataclass(frozen=True)
class Rejected:
    """The event does not fit; `reason` says why (for the sender). `invalid`: the payload or
    the name itself is wrong (not the case's state)."""

    reason: str
    event_id: str | None = None
    invalid: bool = False
    closed: bool = False


Admission = Accepted | Duplicate | Rejected


def short(name: str) -> str:
    """A name as it is quoted back: cut to a bounded length."""
    return name if len(name) <= NAME_IN_REASON else name[:NAME_IN_REASON] + "..."


def describe_validation_error(name: str, exc: ValidationError) -> str:
    """One line naming each bad field, for integrators reading a rejection (never the values:
    they may be personal data)."""
    return f"{name}: {describe_fields(exc)}"


def rejection(reason: str, *, invalid: bool = False, closed: bool = False) -> ApplicationError:
    """A permanent rejection (spec 2.1): an integration must not retry it. `InvalidEvent`: the
    payload or name is wrong; `CaseClosed`: the case has an outcome; `EventRejected`: it does
    not fit the case's stage or state."""
    kind = INVALID_EVENT if invalid else CASE_CLOSED if closed else EVENT_REJECTED
    return ApplicationError(reason, type=kind, non_retryable=True)


def raw_object(args: Sequence[RawValue]) -> dict[str, Any] | None:
    """The single JSON-object argument of an event, or None."""
    if len(args) != 1:
        return None
    try:
        raw = workflow.payload_converter().from_payload(args[0].payload, dict)
    except Exception:  # noqa: BLE001 - not a JSON object: the caller says so
        return None
    return raw if isinstance(raw, dict) else None


def event_id_of(raw: Mapping[str, Any] | None) -> str | None:
    """The sender's `event_id`, when it is a non-empty string (cut to a bounded length)."""
    value = raw.get("event_id") if raw else None
    return value[:200] if isinstance(value, str) and value else None


def admit(case: CaseState, events: Mapping[str, EventSpec], process: str, name: str,
          args: Sequence[RawValue]) -> Admission:
    """Whether the case takes event `name` with these arguments now."""
    raw = raw_object(args)
    event_id = event_id_of(raw)
    # A retry is acknowledged before anything else: after continue-as-new into a track that
    # does not take this event, or after the case moved on, it is still the same event.
    if event_id is not None and event_id in case.seen_event_ids:
        return Duplicate(event_id)
    spec = events.get(name)
    if spec is None:
        known = ", ".join(sorted(events))
        return Rejected(f"unknown event {short(name)!r} for {process}; known events: {known}",
                        event_id, invalid=True)
    if raw is None:
        return Rejected(f"{name}: expected one JSON object as the argument", event_id,
                        invalid=True)
    try:
        event = spec.model.model_validate(raw)
    except ValidationError as exc:
        return Rejected(describe_validation_error(name, exc), event_id, invalid=True)
    if case.outcome is not None:
        return Rejected(f"{name}: the case is closed (outcome {case.outcome})", event_id,
                        closed=True)
    if spec.stages is not None and case.stage not in spec.stages:
        allowed = ", ".join(sorted(spec.stages))
        return Rejected(f"{name} does not fit stage {case.stage!r} (accepted in: {allowed})",
                        event_id)
    if spec.check is not None:
        reason = spec.check(case, event)
        if reason:
            return Rejected(f"{name}: {reason}", event_id)
    return Accepted(event)


def admit_ops(case: CaseState, name: str, raw: RawValue) -> OpsCommand | Duplicate:
    """The ops command's payload as its model, or `Duplicate` for a retry; a bad one is
    rejected naming the field (the handlers take the raw payload, so a list or a non-JSON
    body is not "Failed decoding arguments")."""
    obj = raw_object([raw])
    if obj is None:
        raise rejection(f"{name}: expected one JSON object as the argument", invalid=True)
    event_id = event_id_of(obj)
    if event_id is not None and event_id in case.seen_event_ids:
        return Duplicate(event_id)
    try:
        cmd = OPS_COMMANDS[name].model_validate(obj)
    except ValidationError as exc:
        raise rejection(describe_validation_error(name, exc), invalid=True) from None
    if case.outcome is not None and name != AddNote.EVENT:
        raise rejection(f"{name}: the case is closed (outcome {case.outcome})", closed=True)
    return cmd

"""The case base: the part of a case's state every process shares (spec section 2 `status`),
and the compact answer an Update gives."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import Field, SerializerFunctionWrapHandler, model_serializer

from domain.base import Instant, StrictModel
from domain.outbox import DroppedMessage, QueuedMessage
from domain.reminders import ReminderSeries
from domain.rules.zones import ZoneSource

# Lists that grow with what senders send are capped, so a flood of bad signals or notes can
# never push the case state past what Temporal can carry (a query or an Update answer over
# 2 MiB fails, and the case could no longer be managed). Each keeps the newest entries and a
# total.
MAX_REJECTED_EVENTS = 50
MAX_ACCEPTED_EVENTS = 200
MAX_OPS = 100
MAX_FAILURES = 50
# The `event_id`s remembered for de-duplication: a retry is recognised within this window.
MAX_SEEN_EVENT_IDS = 1000


# Who a case waits on (spec 2): the party that must act next, `schedule` when the case only
# waits for its own timer (a contact-hours opening, a clearing period), `none` once closed.
WaitingOn = Literal["homeowner", "case_manager", "ses_support", "partner", "field_tech",
                    "back_office", "o_and_m", "sales", "third_party", "monitoring", "schedule",
                    "none"]


class StageEntry(StrictModel):
    """One stage the case entered, and when."""

    stage: str
    entered_at: Instant


class RejectedEvent(StrictModel):
    """An event that arrived as a Signal but could not be applied, with the reason."""

    name: str
    event_id: str | None = None
    reason: str
    received_at: Instant


class AcceptedEvent(StrictModel):
    """An event the case accepted (payloads stay in history; this is the index), and who sent
    it (through the gateway: the verified integration)."""

    name: str
    event_id: str
    stage: str
    received_at: Instant
    actor: str | None = None


class OpsRecord(StrictModel):
    """An ops command (cancel, escalate, note) and who sent it."""

    command: str
    text: str
    actor: str | None = None
    # What the sender called itself, unverified (the gateway sets `actor`).
    actor_note: str | None = None
    at: Instant


class PendingEvent(StrictModel):
    """An accepted event the case's main flow has not consumed yet."""

    seq: int
    name: str
    payload: dict[str, Any]


class Failure(StrictModel):
    """A side effect that failed for good (spec 2.1): what it was, why, and who was told."""

    effect: str
    key: str
    reason: str
    at: Instant
    assigned_to: str | None = None


def keep_last(items: list[Any], limit: int) -> int:
    """Drop the oldest items beyond `limit`; returns how many were dropped."""
    extra = len(items) - limit
    if extra > 0:
        del items[:extra]
        return extra
    return 0


# The status's first screen (issue 20), and what goes to its end.
OPERATOR_FIRST = ("case_id", "process", "stage", "outcome", "waiting_for", "waiting_on",
                  "next_deadline", "stage_entered_at", "attempts", "escalated",
                  "escalation_reason", "hazardous", "hazard_case_id", "market", "time_zone",
                  "failures", "ops")
INTERNAL_LAST = ("stage_history", "events", "events_total", "rejected_events",
                 "rejected_total", "reminders", "outbox", "dropped_messages", "dropped_total",
                 "crm_records", "hazard_handled", "time_zone_source", "runs", "instance",
                 "event_seq", "pending", "seen_event_ids", "holidays")


class CaseState(StrictModel):
    """The shared case fields; a process's state model extends it."""

    case_id: str
    process: str
    stage: str = "created"
    outcome: str | None = None
    market: str = ""
    # The homeowner's zone for contact hours, and which fact gave it (spec 2.1); None when
    # nothing did: then the hours inside the window in every served zone apply.
    time_zone: str | None = None
    time_zone_source: ZoneSource = "unknown"
    # The holiday calendar of business days: from the policy, or resolved by an activity when
    # business days are first needed (None until then), then kept so replays never recompute it.
    holidays: list[date] | None = None
    hazardous: bool = False
    # The safety notice and P1 dispatch of a hazardous case are done (spec 2.1), or the hazard
    # was handed to the system's O&M case, which owns it (spec 2.3): that case's ID.
    hazard_handled: bool = False
    hazard_case_id: str | None = None
    escalated: bool = False
    escalation_reason: str | None = None
    stage_history: list[StageEntry] = Field(default_factory=list)
    attempts: dict[str, int] = Field(default_factory=dict)
    next_deadline: Instant | None = None
    waiting_for: str | None = None
    # Who must act next (the `WaitingOn` search attribute; spec 2), and since when the case
    # is in its stage.
    waiting_on: WaitingOn | None = None
    stage_entered_at: Instant | None = None
    rejected_events: list[RejectedEvent] = Field(default_factory=list)
    rejected_total: int = 0
    events: list[AcceptedEvent] = Field(default_factory=list)
    events_total: int = 0
    seen_event_ids: list[str] = Field(default_factory=list)
    ops: list[OpsRecord] = Field(default_factory=list)
    ops_total: int = 0
    failures: list[Failure] = Field(default_factory=list)
    reminders: dict[str, ReminderSeries] = Field(default_factory=dict)
    # CRM records (FS case, work orders, dispatches) this case opened: closed with the case.
    crm_records: list[str] = Field(default_factory=list)
    pending: list[PendingEvent] = Field(default_factory=list)
    # Homeowner notices waiting for contact hours (spec 2.2), and the ones dropped because
    # they no longer held when their opening came (newest kept, with a total).
    outbox: list[QueuedMessage] = Field(default_factory=list)
    dropped_messages: list[DroppedMessage] = Field(default_factory=list)
    dropped_total: int = 0
    event_seq: int = 0
    runs: int = 1
    # The first run ID of this case: one workflow ID serves every case of a system over the
    # years, so idempotency keys name the case instance too, or a new case would find the old
    # case's records and never text the homeowner. Continue-as-new carries it unchanged.
    instance: str = ""

    @model_serializer(mode="wrap")
    def _operator_order(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # What an operator reads first (the Web UI's query tab, `starter status`, the
        # gateway's GET) leads; the bookkeeping (the holiday calendar, the seen event IDs, the
        # queue, the counters of the machinery) comes last (issue 20).
        data: dict[str, Any] = handler(self)
        first = [k for k in OPERATOR_FIRST if k in data]
        last = [k for k in INTERNAL_LAST if k in data]
        middle = [k for k in data if k not in first and k not in last]
        return {k: data[k] for k in [*first, *middle, *last]}

    def bump(self, counter: str) -> int:
        """Add one to an attempt counter and return its new value."""
        self.attempts[counter] = self.attempts.get(counter, 0) + 1
        return self.attempts[counter]

    def reminder(self, series: str) -> ReminderSeries:
        """The durable state of a reminder series (created on first use)."""
        return self.reminders.setdefault(series, ReminderSeries())


class CaseSummary(StrictModel):
    """What an Update answers: the case's position after the event, compact (the whole case is
    the `status` query's). No personal data."""

    case_id: str
    process: str
    stage: str
    outcome: str | None = None
    waiting_for: str | None = None
    next_deadline: Instant | None = None
    attempts: dict[str, int] = Field(default_factory=dict)
    escalated: bool = False
    hazardous: bool = False
    event: str = ""
    event_id: str = ""
    duplicate: bool = False

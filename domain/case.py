"""The case base: the part of a case's state every process shares (spec section 2 `status`)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from domain.base import Instant, StrictModel


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
    """An event the case accepted (payloads stay in history; this is the index)."""

    name: str
    event_id: str
    stage: str
    received_at: Instant


class OpsRecord(StrictModel):
    """An ops command (cancel, escalate, note) and who sent it."""

    command: str
    text: str
    actor: str | None = None
    at: Instant


class PendingEvent(StrictModel):
    """An accepted event the case's main flow has not consumed yet."""

    seq: int
    name: str
    payload: dict[str, Any]


class CaseState(StrictModel):
    """The shared case fields; a process's state model extends it."""

    case_id: str
    process: str
    stage: str = "created"
    outcome: str | None = None
    market: str = ""
    hazardous: bool = False
    escalated: bool = False
    stage_history: list[StageEntry] = Field(default_factory=list)
    attempts: dict[str, int] = Field(default_factory=dict)
    next_deadline: Instant | None = None
    waiting_for: str | None = None
    rejected_events: list[RejectedEvent] = Field(default_factory=list)
    events: list[AcceptedEvent] = Field(default_factory=list)
    seen_event_ids: list[str] = Field(default_factory=list)
    ops: list[OpsRecord] = Field(default_factory=list)
    pending: list[PendingEvent] = Field(default_factory=list)
    event_seq: int = 0
    runs: int = 1
    # The first run ID of this case: one workflow ID serves every case of a system over the
    # years, so idempotency keys name the case instance too, or a new case would find the old
    # case's records and never text the homeowner. Continue-as-new carries it unchanged.
    instance: str = ""

    def bump(self, counter: str) -> int:
        """Add one to an attempt counter and return its new value."""
        self.attempts[counter] = self.attempts.get(counter, 0) + 1
        return self.attempts[counter]

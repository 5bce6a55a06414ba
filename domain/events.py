"""What every event and ops command carries (spec section 2).

Every event model knows its wire name (`EVENT`), so workflow code asks for events by type
(`next_event(RemoteFixResult)`) and the contract, the starter and the tests share one name."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from domain.base import Instant, StrictModel

# Free text from people and integrations is bounded, so no field can bloat a case's state.
MAX_TEXT = 4000
MAX_REASON = 2000


class Event(StrictModel):
    """Base of every integration event: `event_id` makes retries safe (a repeated id is
    acknowledged and ignored); `occurred_at` and `actor` are for the record. Through the
    gateway, `actor` is the verified integration's name and what the sender called itself
    is kept as `actor_note` (spec 6.1)."""

    EVENT: ClassVar[str] = ""

    event_id: str = Field(min_length=1, max_length=200)
    occurred_at: Instant | None = None
    actor: str | None = Field(default=None, max_length=200)
    actor_note: str | None = Field(default=None, max_length=200)


class OpsCommand(Event):
    """Base of the ops commands: their `event_id` is optional (the starter derives one)."""

    event_id: str = Field(default="", max_length=200)


class CancelCase(OpsCommand):
    """Ops: close the case now with outcome `cancelled`."""

    EVENT = "cancel_case"
    reason: str = Field(min_length=1, max_length=MAX_REASON)


class Escalate(OpsCommand):
    """Ops: hand the case to a person or the manual track."""

    EVENT = "escalate"
    reason: str = Field(min_length=1, max_length=MAX_REASON)


class AddNote(OpsCommand):
    """Ops: attach a note to the case."""

    EVENT = "add_note"
    text: str = Field(min_length=1, max_length=MAX_TEXT)


OPS_COMMANDS: dict[str, type[OpsCommand]] = {m.EVENT: m for m in (CancelCase, Escalate, AddNote)}

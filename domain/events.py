"""What every event and ops command carries (spec section 2)."""

from __future__ import annotations

from pydantic import Field

from domain.base import Instant, StrictModel


class Event(StrictModel):
    """Base of every integration event: `event_id` makes retries safe (a repeated id is
    acknowledged and ignored); `occurred_at` and `actor` are for the record."""

    event_id: str = Field(min_length=1, max_length=200)
    occurred_at: Instant | None = None
    actor: str | None = Field(default=None, max_length=200)


class CancelCase(Event):
    """Ops: close the case now with outcome `cancelled`."""

    event_id: str = Field(default="", max_length=200)
    reason: str = Field(min_length=1, max_length=2000)


class Escalate(Event):
    """Ops: hand the case to a person or the manual track."""

    event_id: str = Field(default="", max_length=200)
    reason: str = Field(min_length=1, max_length=2000)


class AddNote(Event):
    """Ops: attach a note to the case."""

    event_id: str = Field(default="", max_length=200)
    text: str = Field(min_length=1, max_length=4000)

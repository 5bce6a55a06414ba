"""The policy every case carries, whatever its process (spec 2, 2.1): when a homeowner may be
texted or called, which days are not business days, and when a long run hands over to a fresh
history. A process's policy extends it."""

from __future__ import annotations

from datetime import date

from pydantic import Field

from domain.base import StrictModel
from domain.rules.contact_hours import ContactHours


class CasePolicy(StrictModel):
    """Contact hours, the holiday calendar and the history limit of a case."""

    contact_hours: ContactHours = Field(default_factory=ContactHours)
    # None: resolved once by an activity when business days are first needed, then kept.
    holidays: list[date] | None = None
    # Continue as new (same workflow, same case) once a run's history reaches this many events;
    # None: when the server suggests it (about 10,000 events).
    continue_as_new_after_events: int | None = Field(default=None, ge=20)

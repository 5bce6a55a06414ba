"""The policy every case carries, whatever its process (spec 2, 2.1): when a homeowner may be
texted or called, which days are not business days, and when a long run hands over to a fresh
history. A process's policy extends it."""

from __future__ import annotations

from datetime import date, timedelta

from pydantic import Field, model_validator

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

    @model_validator(mode="after")
    def _durations_are_positive(self) -> CasePolicy:
        # A zero or negative wait or interval (`overrun_reminder_interval: 0`, `-PT1H`) would
        # be accepted here and then fail the workflow task for ever (spec 2.1): refused at the
        # start, naming the field.
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, timedelta) and value <= timedelta(0):
                raise ValueError(f"{name} must be a positive duration, not "
                                 f"{value.total_seconds():g} s")
        return self

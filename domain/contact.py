"""The policy every process that contacts a homeowner carries: contact hours and the holiday
calendar of business days (spec 2, 2.1)."""

from __future__ import annotations

from datetime import date

from pydantic import Field

from domain.base import StrictModel
from domain.rules.contact_hours import ContactHours


class ContactPolicy(StrictModel):
    """When a homeowner may be texted or called, and which days are not business days."""

    contact_hours: ContactHours = Field(default_factory=ContactHours)
    # None: resolved once by an activity when business days are first needed, then kept.
    holidays: list[date] | None = None

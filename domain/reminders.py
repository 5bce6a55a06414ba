"""Durable reminder series (spec 2.1): the count and the next due instant of every repeating
reminder or e-mail live in the case state, so they survive continue-as-new, a second round of
the same wait and a worker restart, and idempotency keys come from the stored count.

`Cadence` says how often a series repeats (days or business days); `next_due` is the pure rule
that moves a due instant one step on."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, date, datetime, timedelta

from pydantic import Field, model_validator

from domain.base import Instant, StrictModel
from domain.rules.business_days import add_business_days
from domain.rules.zones import calendar_zone


class Cadence(StrictModel):
    """Every `every` (a duration), or every `business_days` business days at the local time of
    day of the previous due instant; exactly one of the two."""

    every: timedelta | None = None
    business_days: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _one(self) -> Cadence:
        if (self.every is None) == (self.business_days is None):
            raise ValueError("a cadence has either `every` or `business_days`")
        if self.every is not None and self.every <= timedelta(0):
            raise ValueError("a cadence's `every` must be positive")
        return self

    def describe(self) -> str:
        """How operators read the cadence in summaries."""
        if self.business_days is not None:
            n = self.business_days
            return f"every {n} business day" + ("s" if n > 1 else "")
        assert self.every is not None
        days = self.every / timedelta(days=1)
        if days == int(days):
            return "weekly" if days == 7 else f"every {int(days)} days"
        return f"every {self.every.total_seconds() / 3600:g} h"


def next_due(previous: datetime, cadence: Cadence, time_zone: str | None,
             holidays: Collection[date]) -> datetime:
    """The due instant one cadence step after `previous` (UTC)."""
    if cadence.every is not None:
        return previous + cadence.every
    assert cadence.business_days is not None
    tz = calendar_zone(time_zone)
    local = previous.astimezone(tz)
    day = add_business_days(local.date(), cadence.business_days, holidays)
    return datetime.combine(day, local.time().replace(tzinfo=None), tzinfo=tz).astimezone(UTC)


class ReminderSeries(StrictModel):
    """One repeating reminder of a case: how many were sent, when the next is due (None: no
    round is running), and whether it is paused (with the time that was left)."""

    count: int = 0
    next_due: Instant | None = None
    paused: bool = False
    left_when_paused: timedelta | None = None

    @property
    def running(self) -> bool:
        """Whether a round of this series is under way (due, or paused)."""
        return self.next_due is not None or self.paused


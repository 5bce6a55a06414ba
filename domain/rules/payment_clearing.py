"""When a reactivation's payment has cleared (spec 3.6): a number of business days after the
payment date (weekends and the case's holiday list skipped), at a set local time of day."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, date, datetime, time

from domain.rules.business_days import add_business_days
from domain.rules.zones import calendar_zone


def payment_clears_on(payment_date: date, business_days: int,
                      holidays: Collection[date]) -> date:
    """The business day the payment has cleared by: `business_days` after the payment date."""
    return add_business_days(payment_date, business_days, holidays)


def payment_clears_at(clears_on: date, check_time: time, time_zone: str | None) -> datetime:
    """The instant (UTC) the case goes on: `check_time` in the homeowner's zone on the day the
    payment clears."""
    return datetime.combine(clears_on, check_time, tzinfo=calendar_zone(time_zone)).astimezone(UTC)

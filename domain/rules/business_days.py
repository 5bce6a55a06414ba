"""Business days: Monday to Friday minus a holiday list.

The holiday list is data that changes with the `holidays` library's releases, so workflows never
compute it: an activity resolves it once (`us_federal_holidays`) and the result is kept in the
case, so a replay after a library upgrade sees the same calendar."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import UTC, date, datetime, time, timedelta, tzinfo

import holidays as holidays_lib


def us_federal_holidays(years: Iterable[int]) -> list[date]:
    """The observed US federal holidays of the given years, sorted (activity-side only)."""
    us = holidays_lib.country_holidays("US", years=list(years), observed=True)
    return sorted(us.keys())


def is_business_day(day: date, holidays: Collection[date]) -> bool:
    """Monday to Friday and not a holiday."""
    return day.weekday() < 5 and day not in holidays


def add_business_days(start: date, count: int, holidays: Collection[date]) -> date:
    """The date `count` business days after `start` (`start` itself never counts)."""
    if count < 0:
        raise ValueError("count must not be negative")
    day = start
    remaining = count
    while remaining:
        day += timedelta(days=1)
        if is_business_day(day, holidays):
            remaining -= 1
    return day


def next_business_day(start: date, holidays: Collection[date]) -> date:
    """The first business day strictly after `start`."""
    return add_business_days(start, 1, holidays)


def end_of_business_days(at: datetime, count: int, time_zone: tzinfo,
                         holidays: Collection[date]) -> datetime:
    """The end (local midnight) of the `count`-th business day after `at`'s local date: "an
    answer within 3 business days" of a Monday-afternoon dispatch is due by Thursday night."""
    last = add_business_days(at.astimezone(time_zone).date(), count, holidays)
    return datetime.combine(last + timedelta(days=1), time(0), tzinfo=time_zone).astimezone(UTC)

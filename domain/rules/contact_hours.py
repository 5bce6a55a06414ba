"""Contact hours: texts and calls reach a homeowner only inside a daily window of their own
local time (08:00-20:00 by default). An attempt that falls outside waits for the next opening.
When the homeowner's zone is unknown (spec 2.1: no default zone), the window is the hours that
lie inside it in every zone the company serves (08:00-20:00 from Hawaii to Puerto Rico:
18:00-00:00 UTC)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from domain.rules.business_days import add_business_days, is_business_day, next_business_day
from domain.rules.zones import SERVED_ZONES, calendar_zone, zone

# Rounds of moving an instant into every served zone's window before giving up (two suffice
# when a common hour exists).
_ROUNDS = 6
# The served zone whose day starts last (the fallback when no hour is common to all).
LAST_ZONE = "Pacific/Honolulu"


class ContactHours(BaseModel):
    """A daily window [start, end) in the homeowner's local time; `end` 00:00 means midnight
    (start 00:00, end 00:00: any time of day)."""

    model_config = ConfigDict(extra="forbid")

    start: time = time(8, 0)
    end: time = time(20, 0)

    @field_validator("start", "end")
    @classmethod
    def _local(cls, value: time) -> time:
        # Contact hours are the homeowner's local wall-clock time; an offset ("08:00Z") would
        # say otherwise (found by fuzzing the gateway: it crashed the ordering check).
        if value.tzinfo is not None:
            raise ValueError("a local time of day without an offset (e.g. 08:00)")
        return value

    @model_validator(mode="after")
    def _ordered(self) -> ContactHours:
        if self.start >= self.end and self.end != time(0):
            raise ValueError("contact_hours.start must be before contact_hours.end")
        return self

    def closing(self, day: date, tz: tzinfo) -> datetime:
        """When the window of local `day` closes."""
        if self.end == time(0):
            return datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
        return datetime.combine(day, self.end, tzinfo=tz)


def _next_in(at: datetime, time_zone: str, hours: ContactHours) -> datetime:
    """`next_contact_instant` in one known zone."""
    tz = zone(time_zone)
    local = at.astimezone(tz)
    opening = datetime.combine(local.date(), hours.start, tzinfo=tz)
    closing = hours.closing(local.date(), tz)
    if local < opening:
        candidate = opening
    elif local < closing:
        return at.astimezone(UTC)
    else:
        candidate = datetime.combine(local.date() + timedelta(days=1), hours.start, tzinfo=tz)
    return candidate.astimezone(UTC)


def _next_in_every_zone(at: datetime, hours: ContactHours) -> datetime:
    """The first instant at or after `at` inside contact hours in every served zone."""
    t = at.astimezone(UTC)
    for _ in range(_ROUNDS):
        moved = False
        for name in SERVED_ZONES:
            later = _next_in(t, name, hours)
            if later != t:
                t, moved = later, True
        if not moved:
            return t
    # Contact hours narrower than the served zones' spread leave no common hour: the opening
    # in the zone whose day starts last, so nobody is reached before their window opens.
    return _next_in(at, LAST_ZONE, hours)


def next_contact_instant(at: datetime, time_zone: str | None, hours: ContactHours) -> datetime:
    """The first instant at or after `at` that lies inside contact hours in `time_zone`, in UTC;
    with no zone (spec 2.1: unknown), inside them in every zone the company serves.

    Local wall times are resolved with the zone's rules, so a window opening on a daylight-saving
    change day still opens at the local wall-clock time."""
    if at.tzinfo is None:
        raise ValueError("at must be timezone-aware")
    if time_zone is None:
        return _next_in_every_zone(at, hours)
    return _next_in(at, time_zone, hours)


def _within(at: datetime, time_zone: str, hours: ContactHours) -> bool:
    return _next_in(at, time_zone, hours) == at


def is_within_contact_hours(at: datetime, time_zone: str | None, hours: ContactHours) -> bool:
    """Whether `at` lies inside contact hours in `time_zone` (every served zone when None)."""
    if time_zone is None:
        return all(_within(at, name, hours) for name in SERVED_ZONES)
    return _within(at, time_zone, hours)


def _send_by_in(at: datetime, time_zone: str, hours: ContactHours) -> datetime:
    tz = zone(time_zone)
    local = at.astimezone(tz)
    day = local.date()
    if local.time() < hours.start:  # a window that runs past midnight (end 00:00)
        day -= timedelta(days=1)
    return hours.closing(day, tz).astimezone(UTC)


def send_by(at: datetime, time_zone: str | None, hours: ContactHours) -> datetime:
    """The send-by instant of an attempt made at `at` (spec 2.1): the end of the contact-hours
    opening `at` lies in (UTC; with no zone, the first zone's closing). An attempt not
    delivered by then waits for the next opening."""
    if not is_within_contact_hours(at, time_zone, hours):
        raise ValueError("at must lie inside contact hours")
    if time_zone is None:
        return min(_send_by_in(at, name, hours) for name in SERVED_ZONES)
    return _send_by_in(at, time_zone, hours)


def _opening_of(day: date, time_zone: str | None, hours: ContactHours) -> datetime:
    """When contact hours open on calendar `day` of the case (UTC)."""
    if time_zone is None:
        return _next_in_every_zone(datetime.combine(day, time(0), tzinfo=UTC), hours)
    return datetime.combine(day, hours.start, tzinfo=zone(time_zone)).astimezone(UTC)


def opening_after_days(at: datetime, days: int, time_zone: str | None,
                       hours: ContactHours) -> datetime:
    """The opening of contact hours `days` calendar days after `at`'s local date (UTC): the
    cadence of a hazardous case's calls, one a day, weekends and holidays included."""
    day = at.astimezone(calendar_zone(time_zone)).date() + timedelta(days=days)
    return _opening_of(day, time_zone, hours)


def next_business_contact_instant(
    at: datetime, time_zone: str | None, hours: ContactHours, holidays: Collection[date]
) -> datetime:
    """The first instant at or after `at` inside contact hours on a local business day (UTC).

    Outbound calls use it: a dialer task for a Saturday evening waits for Monday morning."""
    candidate = next_contact_instant(at, time_zone, hours)
    local_day = candidate.astimezone(calendar_zone(time_zone)).date()
    if is_business_day(local_day, holidays):
        return candidate
    return _opening_of(next_business_day(local_day, holidays), time_zone, hours)


def opening_after_business_days(
    at: datetime, days: int, time_zone: str | None, hours: ContactHours,
    holidays: Collection[date]
) -> datetime:
    """The opening of contact hours `days` business days after `at`'s local date (UTC)."""
    day = add_business_days(at.astimezone(calendar_zone(time_zone)).date(), days, holidays)
    return _opening_of(day, time_zone, hours)


def next_call_instant(
    now: datetime, last_call: datetime | None, time_zone: str | None, hours: ContactHours,
    holidays: Collection[date], *, hazardous: bool, spacing_business_days: int,
    hazard_spacing_days: int,
) -> datetime:
    """When the next outbound call may be placed (UTC).

    Routine cases call inside contact hours on business days, `spacing_business_days` apart
    (spec 3.2: one a business day). A hazardous case calls every `hazard_spacing_days` calendar
    days inside contact hours, the first one at once when inside them (spec 2.1)."""
    if hazardous:
        candidate = next_contact_instant(now, time_zone, hours)
        if last_call is not None:
            candidate = max(candidate, opening_after_days(last_call, hazard_spacing_days,
                                                          time_zone, hours))
        return candidate
    candidate = next_business_contact_instant(now, time_zone, hours, holidays)
    if last_call is not None:
        candidate = max(candidate, opening_after_business_days(
            last_call, spacing_business_days, time_zone, hours, holidays))
    return candidate

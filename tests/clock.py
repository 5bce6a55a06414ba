"""Moving a test server's clock to a known local time: real contact hours and the production
calendar make a case's first steps depend on the hour and the day, so a test states where it
starts (a weekday morning by default; an evening, the night or a weekend where it says so)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from temporalio.testing import WorkflowEnvironment

from domain.rules.business_days import us_federal_holidays
from domain.rules.zones import zone

# The test homeowner's zone (the harness's homeowner lives at a San Francisco address).
HOME_ZONE = "America/Los_Angeles"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def next_local(now: datetime, weekday: str, at: time, tz: str = HOME_ZONE, *,
               business_day: bool | None = None) -> datetime:
    """The first instant after `now` that is `weekday` at local time `at` in `tz` (UTC); with
    `business_day` True (False), one that is (is not) a federal holiday's opposite."""
    local_zone = zone(tz)
    day = now.astimezone(local_zone).date()
    holidays = set(us_federal_holidays([day.year, day.year + 1]))
    for _ in range(400):
        candidate = datetime.combine(day, at, tzinfo=local_zone)
        fits = (WEEKDAYS[day.weekday()] == weekday and candidate > now + timedelta(minutes=1)
                and (business_day is None or (day not in holidays) == business_day))
        if fits:
            return candidate.astimezone(UTC)
        day += timedelta(days=1)
    raise AssertionError(f"no {weekday} {at} after {now}")  # pragma: no cover


async def move_to(env: WorkflowEnvironment, weekday: str, at: time, tz: str = HOME_ZONE,
                  *, business_day: bool | None = None) -> datetime:
    """Skip the test server's clock forward to the next `weekday` at local `at` in `tz`;
    returns that instant (UTC)."""
    now = await env.get_current_time()
    target = next_local(now, weekday, at, tz, business_day=business_day)
    await env.sleep(target - now)
    return target

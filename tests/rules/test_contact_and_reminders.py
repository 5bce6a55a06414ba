"""Plain and property-based tests of the rules spec 2.1 added: the homeowner's zone from the
ZIP code, the send-by instant, the call cadence (routine and hazardous) and reminder cadences."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.reminders import Cadence, next_due
from domain.rules.business_days import is_business_day, us_federal_holidays
from domain.rules.contact_hours import (
    ContactHours,
    is_within_contact_hours,
    next_call_instant,
    next_contact_instant,
    send_by,
)
from domain.rules.zones import MARKET_ZONES, SERVED_ZONES, homeowner_zone, zip_in_address, zone

HOLIDAYS = us_federal_holidays([2026, 2027])
HOURS = ContactHours()
instants = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 1),
                        timezones=st.just(UTC))
zones = st.sampled_from(sorted(set(MARKET_ZONES.values())))


@pytest.mark.parametrize(("explicit", "market", "zip_code", "address", "expected", "source"), [
    (None, "TX", "79901", None, "America/Denver", "zip"),  # El Paso: Mountain, not Central
    (None, "FL", "32501", None, "America/Chicago", "zip"),  # Pensacola: Central, not Eastern
    (None, "CA", "94103", None, "America/Los_Angeles", "zip"),
    (None, "TX", "00000", None, "America/Chicago", "market"),  # unknown ZIP: the market's
    ("America/New_York", "TX", "79901", None, "America/New_York", "homeowner"),
    # No ZIP field: the one ending the address (spec 2.1), before the market.
    (None, "CA", None, "350 5th Ave, New York, NY 10118", "America/New_York", "address"),
    (None, None, None, "1 Main St, New York, NY 10001", "America/New_York", "address"),
    # Nothing known: no default zone.
    (None, None, None, None, None, "unknown"),
    (None, None, None, "somewhere without a ZIP", None, "unknown"),
])
def test_homeowner_zone(explicit: str | None, market: str | None, zip_code: str | None,
                        address: str | None, expected: str | None, source: str) -> None:
    found = homeowner_zone(explicit, market, zip_code, address)
    assert (found.zone, found.source) == (expected, source)


@pytest.mark.parametrize(("address", "zip_code"), [
    ("1 Main St, New York, NY 10001", "10001"),
    ("1 Main St, New York, NY 10001-1234", "10001"),  # ZIP+4
    ("1 Main St, New York, NY 10001, USA", "10001"),  # the country after it
    ("1 Main St\nEl Paso TX 79901.", "79901"),  # a line break, a full stop
    ("  500 Elm St, Pensacola, FL 32501   ", "32501"),  # spaces around
    ("PO Box 12345, Springfield", None),  # a box number is not at the end
    ("10001 Main St, Austin, TX", None),  # a house number is not at the end
    ("Apt 123456", None),  # six digits are not a ZIP
    ("Unit A-10001", None),  # part of a word
    ("", None),
])
def test_the_zip_at_the_end_of_an_address(address: str, zip_code: str | None) -> None:
    assert zip_in_address(address) == zip_code


@given(instants)
def test_with_no_zone_contact_hours_are_inside_the_window_in_every_served_zone(
        at: datetime) -> None:
    attempt = next_contact_instant(at, None, HOURS)
    assert attempt >= at
    for name in SERVED_ZONES:
        assert is_within_contact_hours(attempt, name, HOURS), (attempt, name)
    # The earliest such instant: a minute before, some zone was outside its window (or the
    # attempt is `at` itself).
    before = attempt - timedelta(minutes=1)
    assert attempt == at or before < at or not is_within_contact_hours(before, None, HOURS)
    deadline = send_by(attempt, None, HOURS)
    assert all(is_within_contact_hours(deadline - timedelta(seconds=1), n, HOURS)
               for n in SERVED_ZONES)
    assert not is_within_contact_hours(deadline, None, HOURS)


def test_with_no_zone_the_window_is_hawaii_to_puerto_rico() -> None:
    """Spec 2.1: with 08:00-20:00, from Hawaii to Puerto Rico: 18:00-00:00 UTC."""
    evening = datetime(2026, 11, 30, 4, 0, tzinfo=UTC)  # 23:00 in New York
    assert next_contact_instant(evening, None, HOURS) == datetime(2026, 11, 30, 18, 0, tzinfo=UTC)
    assert send_by(datetime(2026, 11, 30, 19, 0, tzinfo=UTC), None, HOURS) == datetime(
        2026, 12, 1, 0, 0, tzinfo=UTC)
    assert "Pacific/Guam" not in SERVED_ZONES


@given(instants, zones)
def test_send_by_closes_the_opening_the_attempt_is_in(at: datetime, tz: str) -> None:
    attempt = next_contact_instant(at, tz, HOURS)
    deadline = send_by(attempt, tz, HOURS)
    assert deadline > attempt
    assert deadline - attempt <= timedelta(hours=12)
    assert is_within_contact_hours(deadline - timedelta(seconds=1), tz, HOURS)
    assert not is_within_contact_hours(deadline, tz, HOURS)


def test_send_by_refuses_an_instant_outside_contact_hours() -> None:
    night = datetime(2026, 11, 20, 5, 0, tzinfo=UTC)  # 21:00 in Los Angeles
    with pytest.raises(ValueError, match="inside contact hours"):
        send_by(night, "America/Los_Angeles", HOURS)


@given(instants, zones, st.booleans(), st.one_of(st.none(), instants))
def test_every_call_is_inside_contact_hours(now: datetime, tz: str, hazardous: bool,
                                            last: datetime | None) -> None:
    last = min(last, now) if last else None
    at = next_call_instant(now, last, tz, HOURS, HOLIDAYS, hazardous=hazardous,
                           spacing_business_days=1, hazard_spacing_days=1)
    assert at >= now and is_within_contact_hours(at, tz, HOURS)
    local_day = at.astimezone(zone(tz)).date()
    if not hazardous:
        assert is_business_day(local_day, HOLIDAYS)
    if last is not None:
        assert local_day > last.astimezone(zone(tz)).date()


@given(instants, zones)
def test_a_hazard_is_called_no_later_than_a_routine_case(now: datetime, tz: str) -> None:
    routine = next_call_instant(now, None, tz, HOURS, HOLIDAYS, hazardous=False,
                                spacing_business_days=1, hazard_spacing_days=1)
    hazard = next_call_instant(now, None, tz, HOURS, HOLIDAYS, hazardous=True,
                               spacing_business_days=1, hazard_spacing_days=1)
    assert hazard <= routine
    if is_within_contact_hours(now, tz, HOURS):
        assert hazard == now  # the first call at once when inside contact hours


def test_friday_night_hazard_before_a_monday_holiday_is_called_saturday() -> None:
    friday_night = datetime(2027, 1, 16, 4, 0, tzinfo=UTC)  # Fri 23:00 New York; MLK Mon 18th
    tz = "America/New_York"
    hazard = next_call_instant(friday_night, None, tz, HOURS, HOLIDAYS, hazardous=True,
                               spacing_business_days=1, hazard_spacing_days=1)
    routine = next_call_instant(friday_night, None, tz, HOURS, HOLIDAYS, hazardous=False,
                                spacing_business_days=1, hazard_spacing_days=1)
    assert hazard.astimezone(zone(tz)).date() == date(2027, 1, 16)  # Saturday 08:00
    assert routine.astimezone(zone(tz)).date() == date(2027, 1, 19)  # Tuesday


@given(instants, st.integers(min_value=1, max_value=10), zones)
def test_a_business_day_cadence_lands_on_a_business_day_n_later(at: datetime, n: int,
                                                                tz: str) -> None:
    due = next_due(at, Cadence(business_days=n), tz, HOLIDAYS)
    local_from, local_due = at.astimezone(zone(tz)), due.astimezone(zone(tz))
    assert is_business_day(local_due.date(), HOLIDAYS)
    between = [local_from.date() + timedelta(days=d)
               for d in range(1, (local_due.date() - local_from.date()).days + 1)]
    assert sum(is_business_day(d, HOLIDAYS) for d in between) == n


def test_a_cadence_has_exactly_one_unit() -> None:
    with pytest.raises(ValueError, match="either"):
        Cadence(every=timedelta(days=7), business_days=2)
    with pytest.raises(ValueError, match="either"):
        Cadence()
    assert Cadence(every=timedelta(days=7)).describe() == "weekly"
    assert Cadence(business_days=2).describe() == "every 2 business days"


def test_contact_hours_with_an_offset_are_refused_naming_the_field() -> None:
    """Found by fuzzing the gateway: "00:00:00Z" crashed the ordering check (a 500)."""
    import pytest
    from pydantic import ValidationError

    from domain.rules.contact_hours import ContactHours

    with pytest.raises(ValidationError, match="end"):
        ContactHours.model_validate({"end": "00:00:00Z"})

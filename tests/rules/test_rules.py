"""Plain and property-based tests of the pure rules."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from domain.homeowner import Homeowner
from domain.om import IssueReport, OmPolicy
from domain.rules.business_days import (
    add_business_days,
    end_of_business_days,
    is_business_day,
    us_federal_holidays,
)
from domain.rules.contact_hours import (
    ContactHours,
    is_within_contact_hours,
    next_business_contact_instant,
    next_contact_instant,
)
from domain.rules.eligibility import intake_decision
from domain.rules.hazard import HazardFacts, is_hazardous
from domain.rules.zones import MARKET_ZONES, zone_for_market
from tests.workflows.harness import om_input

HOLIDAYS = us_federal_holidays([2026, 2027])
instants = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 1),
                        timezones=st.just(UTC))
zones = st.sampled_from(sorted(set(MARKET_ZONES.values())))


def test_eligible_report_takes_the_simplified_track() -> None:
    d = intake_decision(om_input().report(), OmPolicy())
    assert (d.track, d.reasons, d.hazardous) == ("simplified", [], False)


def test_a_referred_hazard_with_unknown_facts_goes_manual_saying_what_is_unknown() -> None:
    """Spec 2.3: a claim or an inquiry hands over what it knows; what it does not know is a
    reason for the manual track, never an invented value."""
    report = IssueReport(system_id="SYS-1", case_reason="hazardous_situation",
                         source="customer", market="CA", homeowner=Homeowner(name="A"),
                         referred_by="damage-SYS-1-C1")
    d = intake_decision(report, OmPolicy())
    assert d.track == "manual" and d.hazardous
    assert d.reasons == [
        "installer, or whether it takes service work, unknown (hazard handed over by another "
        "case)",
        "ZIP unknown (hazard handed over by another case)",
        "agreement type unknown (hazard handed over by another case)",
    ]


@pytest.mark.parametrize("missing", ["installer", "installer_accepting_service_work",
                                     "agreement_type", "zip"])
def test_a_report_not_handed_over_must_name_its_facts(missing: str) -> None:
    data = om_input().report().model_dump()
    del data[missing]
    with pytest.raises(ValidationError, match=f"{missing}: field required"):
        IssueReport.model_validate(data)


def test_each_ineligibility_reason_is_named() -> None:
    report = om_input(installer="partner", installer_accepting_service_work=False,
                      market="ND", agreement_type="customer_owned",
                      acquisition_channel="new_homes").report()
    d = intake_decision(report, OmPolicy())
    assert d.track == "manual"
    assert d.reasons == [
        "installer not accepting service work (the install partner)",
        "out of market: ZIP not in the O&M service territory",
        "customer-owned without Protection Plus",
        "acquisition channel not eligible: new_homes",
    ]


def test_power_loss_is_hazardous_only_with_all_conditions() -> None:
    assert not is_hazardous(HazardFacts(power_loss=True))
    assert not is_hazardous(HazardFacts(power_loss=True, serviced_or_pto_within_30_days=True,
                                        without_hvac=True, utility_outage=True))
    assert is_hazardous(HazardFacts(power_loss=True, serviced_or_pto_within_30_days=True,
                                    without_hvac=True))
    assert is_hazardous(HazardFacts(battery_swelling=True))


def test_thanksgiving_is_not_a_business_day() -> None:
    assert not is_business_day(date(2026, 11, 26), HOLIDAYS)
    assert add_business_days(date(2026, 11, 25), 1, HOLIDAYS) == date(2026, 11, 27)
    assert add_business_days(date(2026, 11, 27), 1, HOLIDAYS) == date(2026, 11, 30)


def test_partner_deadline_is_the_end_of_the_third_business_day() -> None:
    la = ZoneInfo("America/Los_Angeles")
    monday_afternoon = datetime(2026, 11, 23, 16, 0, tzinfo=la)
    # Thanksgiving (Thu) does not count: Tue, Wed, Fri; due at the end of Friday, LA time.
    due = end_of_business_days(monday_afternoon, 3, la, HOLIDAYS)
    assert due == datetime(2026, 11, 28, 0, 0, tzinfo=la)


@given(instants, zones, st.integers(min_value=1, max_value=10))
def test_end_of_business_days_leaves_exactly_n_whole_business_days(at: datetime, tz: str,
                                                                   n: int) -> None:
    z = ZoneInfo(tz)
    due = end_of_business_days(at, n, z, HOLIDAYS).astimezone(z)
    assert due.time() == time(0)
    start = at.astimezone(z).date()
    whole = [start + timedelta(days=i) for i in range(1, (due.date() - start).days)]
    assert sum(is_business_day(d, HOLIDAYS) for d in whole) == n


def test_market_zone() -> None:
    assert zone_for_market("hi") == "Pacific/Honolulu"


@given(st.dates(min_value=date(2026, 1, 1), max_value=date(2027, 6, 1)),
       st.integers(min_value=0, max_value=30))
def test_add_business_days_lands_on_a_business_day_after_exactly_n(start: date, n: int) -> None:
    end = add_business_days(start, n, HOLIDAYS)
    counted = sum(is_business_day(start + timedelta(days=i), HOLIDAYS)
                  for i in range(1, (end - start).days + 1))
    assert counted == n
    assert n == 0 or is_business_day(end, HOLIDAYS)


@given(instants, zones)
def test_next_contact_instant_is_the_first_allowed_instant(at: datetime, tz: str) -> None:
    hours = ContactHours()
    nxt = next_contact_instant(at, tz, hours)
    assert nxt >= at and is_within_contact_hours(nxt, tz, hours)
    if is_within_contact_hours(at, tz, hours):
        assert nxt == at
    else:  # nothing allowed in between: it is the window's opening
        assert nxt - at <= timedelta(hours=13)
        assert not is_within_contact_hours(nxt - timedelta(minutes=1), tz, hours)


@given(instants, zones)
def test_business_contact_instant_is_on_a_business_day(at: datetime, tz: str) -> None:
    from domain.rules.zones import zone

    hours = ContactHours(start=time(9), end=time(17))
    nxt = next_business_contact_instant(at, tz, hours, HOLIDAYS)
    assert nxt >= at and is_within_contact_hours(nxt, tz, hours)
    assert is_business_day(nxt.astimezone(zone(tz)).date(), HOLIDAYS)

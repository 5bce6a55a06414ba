"""The pure rules of the support procedures (spec 3.6-3.8): when a payment has cleared, whom a
follow-up e-mails, how an inquiry is routed, and the named templates."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.followup import FollowUpPolicy, FollowUpRequest
from domain.homeowner import Homeowner
from domain.inquiry import SupportInquiryInput
from domain.rules.business_days import is_business_day
from domain.rules.followup_routing import followup_route
from domain.rules.inquiry_routing import INQUIRY_TYPES, route_inquiry, routing_table
from domain.rules.payment_clearing import payment_clears_at, payment_clears_on
from domain.templates import PERSONAL_PLACEHOLDERS, TEMPLATES, render

THANKSGIVING = date(2026, 11, 26)


# ---- payment clearing ---------------------------------------------------------------------------


def test_ten_business_days_skip_weekends_and_thanksgiving() -> None:
    # Mon 16 Nov + 10 business days, Thanksgiving skipped: Tue 1 Dec.
    assert payment_clears_on(date(2026, 11, 16), 10, [THANKSGIVING]) == date(2026, 12, 1)
    assert payment_clears_on(date(2026, 11, 16), 10, []) == date(2026, 11, 30)


def test_the_case_goes_on_at_nine_in_the_homeowners_zone() -> None:
    day = payment_clears_on(date(2026, 11, 16), 10, [THANKSGIVING])
    at = payment_clears_at(day, time(9), "America/Denver")
    assert at == datetime(2026, 12, 1, 16, 0, tzinfo=UTC)


@given(st.dates(min_value=date(2026, 1, 1), max_value=date(2030, 12, 31)),
       st.integers(min_value=1, max_value=30),
       st.lists(st.dates(min_value=date(2026, 1, 1), max_value=date(2031, 3, 31)),
                max_size=15))
def test_clearing_counts_exactly_n_business_days(paid: date, n: int,
                                                 holidays: list[date]) -> None:
    cleared = payment_clears_on(paid, n, holidays)
    days = [paid + timedelta(days=k) for k in range(1, (cleared - paid).days + 1)]
    assert sum(is_business_day(d, holidays) for d in days) == n
    assert is_business_day(cleared, holidays)


# ---- follow-up routing ---------------------------------------------------------------------------


def _request(**changes: object) -> FollowUpRequest:
    data: dict[str, object] = {
        "case_id": "CS-1", "party": "installer", "party_email": "svc@installer.example",
        "concern": "never connected", "homeowner": {"name": "Ana", "email": "ana@example.com"}}
    data.update(changes)
    return FollowUpRequest.model_validate(data)


def test_installer_is_emailed_with_the_homeowner_in_cc() -> None:
    route = followup_route(_request(), FollowUpPolicy())
    assert (route.party, route.template, route.cc_homeowner, route.commitments) == (
        "installer", "unresponsive_install", True, "none")


def test_no_cc_when_the_homeowner_has_no_email() -> None:
    req = _request(homeowner=Homeowner(name="Ana", phone="+14155550100"))
    assert not followup_route(req, FollowUpPolicy()).cc_homeowner


@pytest.mark.parametrize("changes", [{"concert_beam": True}, {"party": "gtr"},
                                     {"party": "omnidian", "concert_beam": True}])
def test_concert_beam_goes_to_gtr_never_cc_weekly_commitments(changes: dict[str, object]) -> None:
    route = followup_route(_request(**changes), FollowUpPolicy())
    assert route.party == "gtr" and route.to_email == "Risk@greentechrenewables.com"
    assert route.template == "unresponsive_beam" and not route.cc_homeowner
    assert route.commitments == "weekly" and route.commitment_template == "unresponsive_beam_ho"


def test_no_commitments_to_a_homeowner_who_cannot_be_reached() -> None:
    req = _request(concert_beam=True, homeowner=Homeowner(name="Ana"))
    route = followup_route(req, FollowUpPolicy())
    assert route.commitments == "none" and route.commitments_unreachable
    with_phone = followup_route(_request(concert_beam=True, homeowner=Homeowner(
        name="Ana", phone="+14155550100")), FollowUpPolicy())
    assert with_phone.commitments == "weekly" and not with_phone.commitments_unreachable


def test_service_department_no_cc_one_commitment() -> None:
    route = followup_route(_request(party="omnidian"), FollowUpPolicy())
    assert route.template == "mutual_customer" and not route.cc_homeowner
    assert route.commitments == "once"


# ---- inquiry routing ---------------------------------------------------------------------------


def test_every_combination_has_a_route_with_a_known_reply() -> None:
    table = routing_table()
    assert len(table) == len(INQUIRY_TYPES) * 8
    for *_, route in table:
        assert route.reply is None or route.reply in TEMPLATES
        assert (route.party is not None) == (route.action == "followup")


@pytest.mark.parametrize("agreement", ["ric", "ppa"])
@pytest.mark.parametrize("m3", [False, True])
def test_cleaning_is_always_refused_and_reactivation_always_starts(agreement: str,
                                                                   m3: bool) -> None:
    assert route_inquiry("cleaning", agreement, m3, False).action == "refuse"  # type: ignore[arg-type]
    assert route_inquiry("reactivation", agreement, m3, True).action == "reactivation"  # type: ignore[arg-type]


def test_before_m3_only_property_damage_gets_a_follow_up() -> None:
    for inquiry, _agreement, m3, _omni, route in routing_table():
        if m3 or inquiry in ("cleaning", "reactivation"):
            continue
        if inquiry == "personal_property_damage":
            assert route.action == "followup" and route.party == "installer"
        elif inquiry.startswith("monitoring_"):  # seed 001's sentence is about monitoring
            assert route.reply == "m3_not_approved" and route.action == "reply"
        else:
            assert route.reply == "m3_not_approved_installer" and route.action == "reply"
            assert "monitoring" not in TEMPLATES[route.reply].body


def test_after_m3_by_agreement() -> None:
    # Seed 003: RIC maintenance, production issues and outages go to the contract's warranties.
    assert route_inquiry("outage", "ric", True, False).reply == "ric_warranty_referral"
    assert route_inquiry("outage", "ppa", True, False).action == "om_case"
    assert route_inquiry("maintenance_request", "ppa", True, True).action == "om_case"
    assert route_inquiry("monitoring_access", "ric", True, True).reply == "ric_warranty_referral"
    assert route_inquiry("monitoring_access", "ppa", True, False).action == "warm_transfer"
    # Seed 001: an existing escalation with no update is followed up, never transferred back.
    for contacted in (False, True):
        omni = route_inquiry("service_department_escalation", "ppa", True, contacted)
        assert omni.action == "followup" and omni.party == "omnidian"


# ---- templates -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_every_template_renders_when_all_its_placeholders_are_given(name: str) -> None:
    t = TEMPLATES[name]
    msg = render(name, {p: f"<{p}>" for p in t.placeholders})
    assert "{" not in msg.body and "{" not in msg.subject
    with pytest.raises(ValueError, match="missing"):
        render(name, {})


def test_party_emails_carry_the_homeowners_phone_and_best_time() -> None:
    for name in ("unresponsive_install", "unresponsive_beam", "mutual_customer"):
        assert {"homeowner_phone", "best_time_to_reach", "concern"} <= TEMPLATES[name].placeholders
    assert "update_no" in TEMPLATES["unresponsive_beam_ho"].placeholders
    assert "closure_comments" in TEMPLATES["unresponsive_done"].placeholders
    assert "homeowner_phone" in PERSONAL_PLACEHOLDERS


# ---- inquiry replies and disposition notes ----------------------------------------------------


def _inquiry(**changes: object) -> SupportInquiryInput:
    data: dict[str, object] = {
        "case_id": "INQ-1", "system_id": "SYS-1", "agreement_type": "ppa", "m3_approved": True,
        "inquiry": "monitoring_data", "homeowner": {"name": "Ana"}}
    data.update(changes)
    return SupportInquiryInput.model_validate(data)


def test_reply_params_fill_every_placeholder_of_every_reply() -> None:
    from domain.inquiry import reply_params, route_of

    details = {"installer_email": "svc@installer.example", "concern": "tiles",
               "contract_id": "C-1", "payment_date": "2026-01-05", "payment_proof": "P",
               "market": "CA", "zip": "94103", "installer": "sunrun",
               "installer_accepting_service_work": True}
    for inquiry, agreement, m3, omni, route in routing_table():
        if route.reply is None:
            continue
        inq = _inquiry(inquiry=inquiry, agreement_type=agreement, m3_approved=m3,
                       already_contacted_omnidian=omni, details=details)
        assert route_of(inq) == route
        params = reply_params(inq, route)
        needed = TEMPLATES[route.reply].placeholders - PERSONAL_PLACEHOLDERS - {"agent"}
        assert needed <= set(params), (route.reply, needed - set(params))


def test_the_follow_up_reply_names_whom_we_contacted() -> None:
    from domain.inquiry import reply_params, route_of

    beam = _inquiry(inquiry="personal_property_damage", m3_approved=False,
                    details={"concern": "tiles", "concert_beam": True})
    assert reply_params(beam, route_of(beam))["party_name"] == "Green Tech Renewables"
    omni = _inquiry(inquiry="monitoring_data", already_contacted_omnidian=True,
                    details={"concern": "no answer"})
    assert reply_params(omni, route_of(omni))["party_name"] == "Omnidian"


def test_disposition_notes_say_what_was_asked_done_and_why() -> None:
    from domain.inquiry import disposition_notes, route_of

    inq = _inquiry(inquiry="outage", details={"market": "CA", "zip": "94103",
                                               "installer": "sunrun",
                                               "installer_accepting_service_work": True})
    notes = disposition_notes(inq, route_of(inq), "om-SYS-1", True, True)
    assert notes.startswith("outage (PPA, M3 approved); route: om case:")
    assert "joined open case om-SYS-1" in notes and "by the O&M case" in notes
    assert "Ana" not in notes

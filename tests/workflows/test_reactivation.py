"""`ReactivationWorkflow` on the time-skipping server (spec 3.6, 2.1): the CRM case and its
number, the wait for a recent payment to clear (exact instant, across a weekend and a holiday),
back-office verification and O&M reactivation with business-day reminders, the rejection path,
and bad or out-of-stage events."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from temporalio.testing import WorkflowEnvironment

from domain.processes import REACTIVATION
from domain.reactivation import Reactivation
from starter.client import EventRejected, InvalidEvent
from tests.workflows.harness import (
    HOMEOWNER,
    CaseDriver,
    CaseHarness,
    reactivation_input,
    stages,
)

ReDriver = CaseDriver[Reactivation]
CHICAGO = ZoneInfo("America/Chicago")


async def _open(om: CaseHarness, **changes: Any) -> ReDriver:
    case = await om.open_process(REACTIVATION, reactivation_input(**changes), Reactivation)
    return case


async def _next_monday_morning(env: WorkflowEnvironment) -> datetime:
    """Skip the clock to the coming Monday 10:00 UTC (the test's calendar is then known)."""
    now = await env.get_current_time()
    days = (7 - now.weekday()) % 7 or 7
    monday = datetime.combine(now.date() + timedelta(days=days), time(10), tzinfo=UTC)
    await env.sleep(monday - now)
    return monday


async def test_recent_payment_waits_ten_business_days_across_a_weekend_and_a_holiday(
        om: CaseHarness, env: WorkflowEnvironment) -> None:
    monday = await _next_monday_morning(env)
    paid = monday.date() - timedelta(days=5)  # the Wednesday before: 3 business days ago
    holiday = monday.date() + timedelta(days=3)  # this Thursday
    async with om.worker():
        case = await _open(om, payment_date=paid.isoformat(),
                           homeowner={**HOMEOWNER, "time_zone": "America/Chicago"},
                           policy={"holidays": [holiday.isoformat()]})
        st = await case.stage("waiting_for_payment_to_clear")
        # Wed + 10 business days: Thu, Fri, Mon, Tue, Wed, (Thu holiday), Fri, Mon, Tue, Wed,
        # Thu: the Thursday two weeks after the payment, at 09:00 in the homeowner's zone.
        clears = datetime.combine(paid + timedelta(days=15), time(9), tzinfo=CHICAGO)
        assert st.clears_at == clears
        assert stages(st) == ["case_created", "waiting_for_payment_to_clear"]
        # 04:00 in Chicago: the case is already waiting for the payment, while its two texts
        # (phone only) wait for 08:00 (spec 2.2: a message never holds a stage).
        eight = datetime.combine(monday.date(), time(8), tzinfo=CHICAGO)
        assert st.next_deadline == eight and case.notices() == []
        assert [m.template for m in st.outbox] == ["reactivation_case_created",
                                                   "reactivation_payment_clearing"]
        st = await case.fire_next_timer()
        assert st.outbox == [] and st.next_deadline == clears
        sa = await case.search_attributes()
        assert sa["CaseStage"] == "waiting_for_payment_to_clear" and sa["NextDeadline"] == clears
        notices = case.notices()
        assert [r.payload["template"] for r in notices] == ["reactivation_case_created",
                                                            "reactivation_payment_clearing"]
        assert all(eight <= datetime.fromisoformat(r.created_at) < eight + timedelta(minutes=1)
                   for r in notices)
        assert notices[1].payload["params"]["clears_on"] == (paid + timedelta(days=15)).isoformat()
        case_record = case.records("support_case")[0].payload
        assert case_record["primary_reason"] == "Billing/Payments/Collections"
        assert case_record["secondary_reason"] == "Other"
        assert case_record["request_type"] == "Reactivation Request"
        assert case_record["contact"] == "homeowner details on file"
        assert notices[0].payload["params"]["case_number"] == (
            case.records("support_case")[0].record_id)

        await env.sleep(clears - await env.get_current_time() - timedelta(minutes=1))
        assert (await case.settle()).stage == "waiting_for_payment_to_clear"
        await env.sleep(timedelta(minutes=2))
        st = await case.stage("back_office_verification")
        entered = st.stage_history[-1].entered_at
        assert clears <= entered < clears + timedelta(minutes=2)
        assert case.records("assignment")[0].payload["assignee"] == "back_office_tier2"


async def test_payment_long_ago_goes_to_the_back_office_at_once(om: CaseHarness) -> None:
    async with om.worker():
        case = await _open(om, payment_date="2026-01-05")
        st = await case.stage("back_office_verification")
        assert stages(st) == ["case_created", "back_office_verification"]
        assert [r.payload["template"] for r in case.notices()] == [
            "reactivation_case_created"]


async def test_approval_then_om_reactivation_then_the_homeowner_is_told(
        om: CaseHarness) -> None:
    async with om.worker():
        case = await _open(om)
        await case.stage("back_office_verification")
        st = await case.send("payment_verified", approved=True)
        assert st.stage == "om_reactivation" and st.payment_approved
        assert case.records("assignment")[-1].payload["assignee"] == "om"
        st = await case.send("reactivation_completed")
        assert st.outcome == "reactivated" and st.stage == "closed"
        assert case.notices()[-1].payload["template"] == "system_reactivated"
        sa = await case.search_attributes()
        assert sa["CaseOutcome"] == "reactivated" and "NextDeadline" not in sa
        # The CRM case is closed with the case.
        close = case.records("crm_close")[0].payload
        assert close["outcome"] == "reactivated"
        assert close["record_ids"] == [case.records("support_case")[0].record_id]


async def test_rejection_tells_the_homeowner_and_transfers_to_account_servicing(
        om: CaseHarness) -> None:
    async with om.worker():
        case = await _open(om)
        await case.stage("back_office_verification")
        st = await case.send("payment_verified", approved=False)
        assert st.outcome == "payment_not_verified"
        assert case.notices()[-1].payload["template"] == (
            "reactivation_payment_not_verified")
        assert case.records("assignment")[-1].payload["assignee"] == "account_servicing"


async def test_reminders_every_two_business_days(om: CaseHarness,
                                                 env: WorkflowEnvironment) -> None:
    await _next_monday_morning(env)
    async with om.worker():
        case = await _open(om)
        await case.stage("back_office_verification")
        start = await env.get_current_time()  # Monday 10:00 UTC, 02:00 in San Francisco
        assert case.notices() == []  # the case-number text waits for 08:00 there
        st = await case.fire_next_timer()
        assert [r.payload["template"] for r in case.notices()] == ["reactivation_case_created"]
        st = await case.fire_next_timer()  # Wednesday
        st = await case.fire_next_timer()  # Friday
        st = await case.fire_next_timer()  # Tuesday
        reminders = [k for k in case.keys("assignment") if "verification-reminder" in k]
        assert reminders == ["back-office/verification-reminder/1",
                             "back-office/verification-reminder/2",
                             "back-office/verification-reminder/3"]
        due = st.reminders["verification"].next_due
        assert due is not None  # Thursday of the next week, same time of day
        assert abs(due - (start + timedelta(days=10))) < timedelta(seconds=1)
        assert all(r.payload["assignee"] == "back_office_tier2"
                   for r in case.records("assignment")[1:])
        # O&M is reminded on its own series once it has the case.
        st = await case.send("payment_verified", approved=True)
        st = await case.fire_next_timer()
        assert [k for k in case.keys("assignment") if "om-reactivation-reminder" in k] == [
            "om/om-reactivation-reminder/1"]
        assert case.records("assignment")[-1].payload["assignee"] == "om"


async def test_events_out_of_stage_duplicate_and_malformed(om: CaseHarness,
                                                           env: WorkflowEnvironment) -> None:
    today = (await env.get_current_time()).date()
    async with om.worker():
        case = await _open(om, payment_date=today.isoformat())
        await case.stage("waiting_for_payment_to_clear")
        with pytest.raises(EventRejected, match="does not fit stage"):
            await case.send("reactivation_completed")
        with pytest.raises(InvalidEvent, match="approved"):
            await case.send("payment_verified", approved="maybe")
        with pytest.raises(InvalidEvent, match="unknown event"):
            await case.send("party_responded", comment="x")
        await case.signal("reactivation_completed")
        st = await case.settle(lambda s: s.rejected_total == 1)
        assert "does not fit stage" in st.rejected_events[0].reason
        assert st.stage == "waiting_for_payment_to_clear" and st.outcome is None
        await case.fire_next_timer()
        await case.stage("back_office_verification")
        await case.send("payment_verified", event_id="pv-1", approved=True)
        again = await case.send("payment_verified", event_id="pv-1", approved=False)
        assert again.stage == "om_reactivation" and again.payment_approved is True


async def test_a_verification_during_the_clearing_wait_is_taken_and_ends_it(
        om: CaseHarness, env: WorkflowEnvironment) -> None:
    """Spec 3.6: the back office may verify early; the verification is taken (not refused
    for good) and the case goes on to O&M without waiting out the 10 business days."""
    today = (await env.get_current_time()).date()
    async with om.worker():
        case = await _open(om, payment_date=today.isoformat())
        st = await case.stage("waiting_for_payment_to_clear")
        assert st.clears_at is not None and st.next_deadline == st.clears_at
        st = await case.send("payment_verified", approved=True)
        assert st.stage == "om_reactivation" and st.payment_approved is True
        assert case.keys("assignment")[-1] == "om-reactivation"
        assert "verify-payment" not in case.keys("assignment")  # no back-office task left


def test_a_bad_request_names_the_field() -> None:
    with pytest.raises(ValueError, match="payment_date"):
        reactivation_input(payment_date="last week")
    with pytest.raises(ValueError, match="payment_proof"):
        reactivation_input(payment_proof="")


async def test_ops_escalate_goes_to_the_back_office_and_a_note_is_kept(
        om: CaseHarness) -> None:
    from starter.client import run_ops

    async with om.worker():
        case = await _open(om)
        await case.stage("back_office_verification")
        await run_ops(om.client, case.case_id, "escalate", {"reason": "homeowner called twice"})
        await run_ops(om.client, case.case_id, "add_note", {"text": "receipt e-mailed"})
        st = await case.status()
        assert st.escalated and [o.command for o in st.ops] == ["escalate", "add_note"]
        assert case.records("assignment")[-1].payload["assignee"] == "back_office_tier2"
        assert (await case.search_attributes())["Escalated"] is True


async def test_a_payment_date_in_the_future_is_refused_at_the_start(
        om: CaseHarness, env: WorkflowEnvironment) -> None:
    """Spec 3.6: a typo 90 days ahead used to park the case until then, with the homeowner
    told a date months away. The opening is refused naming `payment_date`; no case starts."""
    from starter.client import InvalidRequest

    today = (await env.get_current_time()).date()
    inp = reactivation_input(payment_date=(today + timedelta(days=90)).isoformat())
    async with om.worker():
        with pytest.raises(InvalidRequest, match="payment_date: .* is in the future"):
            await om.open_process(REACTIVATION, inp, Reactivation)
        assert om.store.records(f"reactivation-{inp.contract_id}") == []
        # A date that is today somewhere on earth is taken.
        case = await _open(om, payment_date=(today + timedelta(days=1)).isoformat())
        st = await case.stage("waiting_for_payment_to_clear")
        assert st.payment_date_refused is None


async def test_a_future_payment_started_around_the_check_goes_to_the_back_office(
        om: CaseHarness, env: WorkflowEnvironment) -> None:
    """A case started without the starter (the Web UI, the Temporal CLI): nobody waits for
    March; the back office is asked to check the date, the homeowner hears no clearing date."""
    today = (await env.get_current_time()).date()
    inp = reactivation_input(payment_date=(today + timedelta(days=90)).isoformat())
    async with om.worker():
        case = await om.start("ReactivationWorkflow", inp, f"reactivation-{inp.contract_id}",
                              Reactivation)
        st = await case.stage("back_office_verification")
        assert stages(st) == ["case_created", "back_office_verification"]
        assert st.clears_at is None and "payment_date" in (st.payment_date_refused or "")
        asked = case.records("assignment")[0].payload
        assert asked["assignee"] == "back_office_tier2" and "in the future" in asked["reason"]
        st = await case.settle(lambda s: not s.outbox)
        assert [r.payload["template"] for r in case.notices()] == ["reactivation_case_created"]


async def test_last_years_holidays_count_for_a_payment_made_in_december(
        om: CaseHarness, env: WorkflowEnvironment) -> None:
    """Spec 3.6, on the production calendar (no list in the policy): a payment of 22 December
    opened on 5 January skips Christmas and New Year. The calendar used to be resolved from
    the current year only, so Christmas counted as a business day and the payment cleared a
    day early."""
    from domain.rules.business_days import add_business_days, us_federal_holidays

    now = await env.get_current_time()
    year = now.year + 1
    opened = datetime(year, 1, 5, 15, 0, tzinfo=UTC)
    await env.sleep(opened - now)
    paid = datetime(year - 1, 12, 22).date()
    expected = add_business_days(paid, 10, us_federal_holidays(range(year - 1, year + 2)))
    this_year_only = add_business_days(paid, 10, us_federal_holidays(range(year, year + 3)))
    assert expected != this_year_only  # the test can tell the two calendars apart
    async with om.worker():
        case = await _open(om, payment_date=paid.isoformat())
        st = await case.stage("waiting_for_payment_to_clear")
        assert st.holidays is not None and datetime(year - 1, 12, 25).date() in st.holidays
        la = ZoneInfo("America/Los_Angeles")  # the homeowner's zone (from the address)
        assert st.clears_at == datetime.combine(expected, time(9), tzinfo=la)
        assert [m.params.get("clears_on") for m in st.outbox][-1] == expected.isoformat()


async def test_a_second_opening_with_a_new_proof_is_recorded_in_the_case(
        om: CaseHarness) -> None:
    """Spec 2.3: a second opening of an open reactivation was joined silently and its new
    proof of payment dropped; it is recorded as a joined request and shown in the details."""
    async with om.worker():
        first = reactivation_input()
        case = await om.open_process(REACTIVATION, first, Reactivation)
        await case.stage("back_office_verification")
        await om.open_process(REACTIVATION, first, Reactivation)  # the same request again
        second = first.model_copy(update={"payment_proof": "CONF-456"})
        opened = await om.open_process(REACTIVATION, second, Reactivation)
        assert opened.case_id == case.case_id
        st = await case.settle(lambda s: s.joined_total >= 1)
        st = await case.settle()
        assert st.joined_total == 1 and st.joined_requests[0].payment_proof == "CONF-456"
        assert st.stage == "back_office_verification"
        from tests.workflows.test_ui_text import _details

        assert "proof CONF-456" in await _details(case)

"""Spec 2.1 and 2.2 the way a homeowner's week really goes: a phone-only homeowner in a real
zone, 08:00-20:00, decisions made in the evening, events at night. A message never holds a
stage, a message no longer true is dropped (and recorded), never sent; the zone comes from the
address when nothing else gives it, and there is no default zone; notices go by e-mail when
there is one, and a Remi-managed project's homeowner hears only from Remi; an Update answers
with the case as the event left it. Each test failed on the code before the outbox."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from domain.damage import DamageClaim
from domain.followup import PartnerFollowUp
from domain.processes import FOLLOWUP, REACTIVATION
from domain.reactivation import Reactivation
from domain.rr import RrProject
from starter.client import run_ops, send_event
from tests.clock import HOME_ZONE, move_to
from tests.workflows.harness import (
    WITH_EMAIL,
    CaseDriver,
    CaseHarness,
    claim_input,
    followup_input,
    om_input,
    reactivation_input,
    rr_input,
)

LA = ZoneInfo(HOME_ZONE)
NEW_YORK = ZoneInfo("America/New_York")


def _local(at: datetime | None, zone: ZoneInfo = LA) -> datetime:
    assert at is not None
    return at.astimezone(zone)


def _sent_at(record: Any) -> datetime:
    return datetime.fromisoformat(record.created_at)


async def _claim_at_liability(om: CaseHarness) -> CaseDriver[DamageClaim]:
    case = await om.open_claim(claim_input())
    await case.stage("investigation")
    await case.book()
    await case.send("field_assessment", follow_up_required=False, at_fault="company")
    await case.stage("liability_determination")
    return case


# ---- defect 1: a message never holds a stage ---------------------------------------------------


async def test_a_settlement_decided_at_nine_pm_can_be_accepted_at_once(om: CaseHarness) -> None:
    async with om.worker():
        case = await _claim_at_liability(om)
        await move_to(om.env, "tue", time(21))
        answer = await send_event(om.client, case.case_id, "liability_determined",
                                  {"event_id": "l-1", "liable_party": "company",
                                   "decision": "settle"})
        assert answer is not None and answer.stage == "settlement_quoting"
        # The acceptance at 21:05 is taken, not refused for good.
        st = await case.send("settlement_accepted")
        assert st.outcome == "settled"
        assert case.notices("liability_settle") == []
        assert [m.template for m in st.outbox] == ["liability_settle"]
        assert _local(st.next_deadline).time() == time(8)
        assert st.waiting_for == "queued messages to the homeowner"
        assert await case.run_status() == "RUNNING"  # closed, with a message still to send
        await case.fire_next_timer()
        final = await case.result()
        [notice] = case.notices("liability_settle")
        assert notice.kind == "text" and _local(_sent_at(notice)).time() < time(8, 1)
        assert final.outbox == [] and final.dropped_messages == []


async def test_a_repair_decided_at_night_creates_its_work_order_at_once(om: CaseHarness) -> None:
    async with om.worker():
        case = await _claim_at_liability(om)
        await move_to(om.env, "tue", time(22))
        answer = await send_event(om.client, case.case_id, "liability_determined",
                                  {"event_id": "l-1", "liable_party": "company",
                                   "decision": "repair", "repair_by": "internal_work"})
        assert answer is not None and answer.stage == "resolution"
        assert answer.waiting_for == "repair"
        assert case.keys("work_order") == ["claim/repair/1"]
        assert case.notices("liability_repair") == []
        st = await case.send("repair_completed")
        assert st.outcome == "repaired"


async def test_a_claim_needing_rr_at_night_starts_the_project_at_once(om: CaseHarness) -> None:
    async with om.worker():
        case = await _claim_at_liability(om)
        await move_to(om.env, "tue", time(22))
        st = await case.send("liability_determined", liable_party="company", decision="repair",
                             rr_required=True)
        assert st.stage == "project_in_progress" and st.project_id
        project = om.driver(st.project_id, RrProject)
        pst = await project.stage("removal")  # the project's first step, tonight
        assert pst.outbox and pst.outbox[0].template == "rr_started"
        assert project.notices() == []


async def test_a_project_opened_at_night_starts_its_first_step_at_once(om: CaseHarness) -> None:
    async with om.worker():
        await move_to(om.env, "tue", time(23))
        case = await om.open_project(rr_input())
        st = await case.stage("removal")
        assert [m.template for m in st.outbox] == ["rr_started"]
        assert case.keys("assignment") == ["owner"] and case.notices() == []
        st = await case.send("removal_completed")  # the crew was quick: taken at night
        assert st.stage == "roofing_work"
        st = await case.fire_next_timer()
        assert [_local(_sent_at(r)).time() < time(8, 1) for r in case.notices()] == [True]


async def test_a_reactivation_opened_at_night_goes_to_the_back_office_at_once(
        om: CaseHarness) -> None:
    """Defect 1 and 3 together: the case-number text neither holds the case nor reaches a New
    York homeowner at 21:30 New York time (no zone, market or ZIP: the address's ZIP)."""
    async with om.worker():
        await move_to(om.env, "tue", time(21, 30), "America/New_York")
        new_yorker = {"name": "Ana Ruiz", "phone": "+12125550100",
                      "address": "350 5th Ave, New York, NY 10118"}
        case = await om.open_process(REACTIVATION, reactivation_input(homeowner=new_yorker),
                                     Reactivation)
        st = await case.stage("back_office_verification")
        assert case.notices() == []  # not at 21:30 in New York
        assert (st.time_zone, st.time_zone_source) == ("America/New_York", "address")
        assert [m.template for m in st.outbox] == ["reactivation_case_created"]
        assert _local(st.next_deadline, NEW_YORK).time() == time(8)
        await case.fire_next_timer()
        [text] = case.notices()
        sent = _local(_sent_at(text), NEW_YORK)
        assert time(8) <= sent.time() < time(8, 1)


async def test_with_no_zone_known_texts_wait_for_the_hours_open_everywhere(
        om: CaseHarness) -> None:
    """Spec 2.1: no default zone. Tuesday 09:30 in San Francisco is 12:30 in New York and
    06:30 in Honolulu: the text waits for 18:00 UTC, 08:00 in Hawaii."""
    async with om.worker():
        somewhere = {"name": "Ana Ruiz", "phone": "+14155550100", "address": "1 Main St"}
        case = await om.open_process(REACTIVATION, reactivation_input(homeowner=somewhere),
                                     Reactivation)
        st = await case.stage("back_office_verification")
        assert case.notices() == []  # not at 06:30 in Honolulu
        assert (st.time_zone, st.time_zone_source) == (None, "unknown")
        assert st.next_deadline is not None
        assert (st.next_deadline.hour, st.next_deadline.minute) == (18, 0)  # UTC
        await case.fire_next_timer()
        [text] = case.notices()
        assert _local(_sent_at(text), ZoneInfo("Pacific/Honolulu")).time() < time(8, 1)


# ---- defect 2: a message no longer true is not sent --------------------------------------------


async def test_an_overrun_update_for_a_step_finished_in_the_night_is_dropped(
        om: CaseHarness) -> None:
    async with om.worker():
        # Opened at 09:30; the removal is expected to take 14 days 13.5 hours: it overruns at
        # 23:00, when the update can only be queued for the morning.
        case = await om.open_project(rr_input(policy={"removal_expected": "P14DT13H30M"}))
        await case.stage("removal")
        st = await case.fire_next_timer()
        st = await case.settle(lambda s: s.attempts.get("check_ins") == 1)
        assert time(9, 30) <= _local(st.stage_history[-1].entered_at).time() < time(9, 31)
        assert [m.template for m in st.outbox] == ["rr_status_update"]
        await om.env.sleep(timedelta(minutes=30))
        st = await case.send("removal_completed")  # 23:30
        assert st.stage == "roofing_work"
        st = await case.fire_next_timer()  # 08:00
        st = await case.settle(lambda s: s.dropped_total == 1)
        [dropped] = st.dropped_messages
        assert dropped.template == "rr_status_update"
        assert "left stage 'removal'" in dropped.reason
        assert time(8) <= _local(dropped.dropped_at).time() < time(8, 1)
        assert [r.payload["template"] for r in case.notices()] == ["rr_started"]
        assert st.outbox == []


async def test_a_commitment_for_a_case_resolved_in_the_night_is_dropped(
        om: CaseHarness) -> None:
    async with om.worker():
        await move_to(om.env, "tue", time(21))
        case = await om.open_process(FOLLOWUP, followup_input(concert_beam=True,
                                                              party_email=None),
                                     PartnerFollowUp)
        st = await case.stage("party_contacted")
        await om.env.sleep(timedelta(minutes=90))
        st = await case.send("case_resolved", comment="GTR called the homeowner")  # 22:30
        assert st.outcome == "resolved"
        await case.fire_next_timer()  # 08:00
        final = await case.result()
        # "We are still waiting", then "Unresponsive Done": only the second is still true.
        assert [r.payload["template"] for r in case.notices()] == ["unresponsive_done"]
        assert [(d.template, d.reason) for d in final.dropped_messages] == [
            ("unresponsive_beam_ho", "the case closed (resolved) before it could be sent")]


async def test_a_case_cancelled_at_night_sends_nothing_more(om: CaseHarness) -> None:
    async with om.worker():
        await move_to(om.env, "tue", time(23))
        case = await om.open_project(rr_input())
        await case.stage("removal")
        await run_ops(om.client, case.case_id, "cancel_case", {"reason": "sold the house"})
        final = await case.result()
        assert final.outcome == "cancelled" and final.outbox == []
        assert [(d.template, d.reason) for d in final.dropped_messages] == [
            ("rr_started", "the case was cancelled")]
        await om.env.sleep(timedelta(days=2))
        assert case.notices() == []


# ---- defect 4: channels and one voice ----------------------------------------------------------


async def test_an_email_only_homeowner_gets_the_overrun_updates_by_email(
        om: CaseHarness) -> None:
    async with om.worker():
        email_only = {"name": "Ana Ruiz", "email": "ana@example.com",
                      "address": "1 Main St, San Francisco, CA 94103"}
        case = await om.open_project(rr_input(homeowner=email_only))
        st = await case.stage("removal")
        assert not st.escalated and st.failures == []
        await case.fire_next_timer()
        await case.settle(lambda s: s.attempts.get("check_ins") == 1)
        assert [(r.kind, r.payload["template"]) for r in case.notices()] == [
            ("email", "rr_started"), ("email", "rr_status_update")]


async def test_a_remi_managed_homeowner_hears_only_from_remi(om: CaseHarness) -> None:
    async with om.worker():
        case = await om.open_project(rr_input(market="CA"))
        st = await case.stage("verify_removal")
        assert st.management == "remi_full_service"
        await case.fire_next_timer()  # the removal overruns: the coordinator checks in
        st = await case.settle(lambda s: s.attempts.get("check_ins") == 1)
        assert case.records("assignment")[-1].payload["assignee"] == "remi_coordinator"
        await case.send("removal_verified")
        await case.send("reinstall_verified")
        final = await case.result()
        assert final.outcome == "completed"
        assert case.notices() == [] and final.outbox == [] and final.dropped_messages == []
        assert "status_updates" not in final.attempts


# ---- defect 5: an Update answers with the case as the event left it ---------------------------


async def test_step_blocked_answers_with_the_reminders_paused(om: CaseHarness) -> None:
    async with om.worker():
        case = await om.open_project(rr_input())
        await case.stage("removal")
        answer = await send_event(om.client, case.case_id, "step_blocked",
                                  {"event_id": "b-1", "reason": "waiting for the permit"})
        assert answer is not None
        assert answer.waiting_for == "removal_completed (reminders paused)"
        assert answer.next_deadline is None


async def test_the_first_remote_fix_result_answers_with_the_first_text_sent(
        om: CaseHarness) -> None:
    async with om.worker():
        case = await om.open(om_input())
        await case.stage("problem_identified")
        answer = await send_event(om.client, case.case_id, "remote_fix_result",
                                  {"event_id": "r-1", "resolved": False})
        assert answer is not None and answer.stage == "self_scheduling_texts"
        assert answer.attempts.get("texts") == 1
        assert answer.waiting_for == "self-scheduled appointment"


# ---- e-mail on file ----------------------------------------------------------------------------


async def test_a_notice_by_email_goes_at_once_whatever_the_hour(om: CaseHarness) -> None:
    async with om.worker():
        await move_to(om.env, "tue", time(23))
        case = await om.open_claim(claim_input(entitlements=[], homeowner=WITH_EMAIL))
        final = await case.result()
        assert final.outcome == "denied"
        [notice] = case.notices()
        assert notice.kind == "email" and _local(_sent_at(notice)).time() >= time(23)


async def test_a_queued_message_survives_continue_as_new_and_goes_once(
        om: CaseHarness) -> None:
    """The outbox lives in the case state: a run that continues as new (its history limit
    reached) hands the queued notice on, and the next run sends it, once, in the morning."""
    async with om.worker():
        await move_to(om.env, "tue", time(23))
        case = await om.open_project(rr_input(policy={"continue_as_new_after_events": 20}))
        st = await case.settle(lambda s: s.runs >= 2 and s.waiting_for is not None)
        assert [m.template for m in st.outbox] == ["rr_started"] and case.notices() == []
        await case.fire_next_timer()
        st = await case.settle(lambda s: not s.outbox)
        assert case.keys("text") == ["started-notice"]
        assert _local(_sent_at(case.notices()[0])).time() < time(8, 1)

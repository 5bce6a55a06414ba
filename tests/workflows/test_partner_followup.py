"""`PartnerFollowUpWorkflow` on the time-skipping server (spec 3.7, 2.1): the CRM case, the
seed's e-mail to the party with its CC rule, resolution with closure comments, the 2-day Sales
referral, Concert/Beam's weekly commitment e-mails for 30 weeks across continue-as-new, the
service department's one commitment e-mail, and bad or late events."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from temporalio.testing import WorkflowEnvironment

from activities.effects import FieldServiceActivities
from domain.effects import EffectReceipt, PartyEmail
from domain.followup import PartnerFollowUp
from domain.processes import FOLLOWUP
from starter.client import EventRejected, InvalidEvent
from tests.workflows.harness import (
    WITH_EMAIL,
    CaseDriver,
    CaseHarness,
    followup_input,
    stages,
)

FuDriver = CaseDriver[PartnerFollowUp]
PERSONAL = ("Ana", "Ruiz", "4155550100", "ana@example.com", "1 Main St", "after 5 pm",
            "never connected")


async def _open(om: CaseHarness, **changes: Any) -> FuDriver:
    case = await om.open_process(FOLLOWUP, followup_input(**changes), PartnerFollowUp)
    await case.stage("party_contacted")
    return case


def _commitments(case: FuDriver) -> list[str]:
    """The homeowner's commitment messages (texts here: the test homeowner has no e-mail)."""
    return [k for k in case.keys() if k.startswith("commitment/")]


async def test_installer_responds_in_time(om: CaseHarness) -> None:
    async with om.worker():
        case = await _open(om, homeowner=WITH_EMAIL)  # the CC rule needs an e-mail on file
        st = await case.status()
        assert stages(st) == ["case_created", "party_contacted"]
        assert st.route is not None and st.route.template == "unresponsive_install"
        record = case.records("support_case")[0].payload
        assert record["request_type"] == "Installer Complaints"
        assert record["subtype"] == "Unresponsive Installer"
        assert record["related_party"] == "installer" and record["queue"] == "back_office"
        assert case.records("assignment")[0].payload["assignee"] == "back_office"
        email = case.records("party_email")[0].payload
        assert email["template"] == "unresponsive_install" and email["to_role"] == "installer"
        assert email["to"] == "@acme-solar.example"
        assert email["cc"] == ["homeowner (email on file)"]
        sa = await case.search_attributes()
        assert sa["ProcessType"] == "partner_followup" and sa["CaseStage"] == "party_contacted"
        assert sa["NextDeadline"] == st.next_deadline

        # Seed 004: the installer's contact alone does not close the case.
        st = await case.send("party_responded", comment="installer called, visit booked")
        assert st.stage == "awaiting_homeowner_confirmation" and st.outcome is None
        assert st.waiting_for == "the homeowner to confirm the concern is addressed"
        assert not [n for n in case.notices() if n.payload["template"] == "unresponsive_done"]
        st = await case.send("homeowner_satisfied", comment="homeowner confirmed the visit")
        assert st.outcome == "resolved" and st.resolved_by == "homeowner_satisfied"
        assert st.closure_comments == "homeowner confirmed the visit"
        assert case.notices()[-1].payload["template"] == "unresponsive_done"
        close = case.records("crm_close")[0].payload
        assert close["comments"] == "homeowner confirmed the visit"
        assert close["outcome"] == "resolved"
        assert not case.records("referral") and _commitments(case) == []
        for stored in case.records():  # nothing personal in what is stored
            assert not any(p in str(stored.payload) for p in PERSONAL), stored.payload


async def test_the_message_the_installer_gets_has_the_phone_and_best_time(
        om: CaseHarness) -> None:
    """The delivered e-mail is the seed's template, filled: the homeowner's phone and best time
    reach the installer, though the store keeps neither."""
    sent: list[dict[str, Any]] = []

    class Capture:
        async def deliver(self, record: Any, request: dict[str, Any]) -> None:
            if record.kind == "party_email":
                sent.append(request)

    om.activities = FieldServiceActivities(om.store, Capture())
    async with om.worker():
        await _open(om, homeowner=WITH_EMAIL)  # copied in: the CC rule needs an e-mail
    body = sent[0]["message"]["body"]
    assert "+14155550100" in body and "weekdays after 5 pm" in body
    assert "the inverter was never connected" in body and "{" not in body
    assert sent[0]["cc"] == ["ana@example.com"]
    assert sent[0]["to"]["email"] == "service@acme-solar.example"


async def test_homeowner_satisfied_closes_and_comments_are_required(om: CaseHarness) -> None:
    async with om.worker():
        case = await _open(om)
        with pytest.raises(InvalidEvent, match="comment"):
            await case.send("homeowner_satisfied")
        st = await case.send("homeowner_satisfied", comment="homeowner confirmed by phone")
        assert st.outcome == "resolved" and st.resolved_by == "homeowner_satisfied"
        with pytest.raises(EventRejected, match="closed"):
            await case.send("case_resolved", comment="again")


async def test_no_contact_in_two_days_refers_to_sales(om: CaseHarness) -> None:
    async with om.worker():
        case = await _open(om, account_manager="Jo AM", sales_manager="Sam SM")
        st = await case.status()
        assert st.next_deadline is not None
        st = await case.fire_next_timer()
        st = await case.stage("referred_to_sales")
        assert st.escalated
        assert stages(st) == ["case_created", "party_contacted", "referred_to_sales"]
        referral = case.records("referral")[0].payload
        assert referral["referral_reason"] == "Unresponsive Installer"
        assert referral["account_manager"] == "Jo AM" and referral["sales_manager"] == "Sam SM"
        assert referral["template"] == "sales_referral_comment"
        sales = case.records("assignment")[-1].payload
        assert sales["assignee"] == "sales" and "Unresponsive Installer" in sales["reason"]
        sa = await case.search_attributes()
        assert sa["CaseStage"] == "referred_to_sales" and sa["Escalated"] is True
        # Sales is reminded weekly until it resolves the case.
        st = await case.fire_next_timer()
        assert "referral/sales-reminder/1" in case.keys("assignment")
        assert case.records("assignment")[-1].payload["assignee"] == "sales"
        st = await case.send("case_resolved", comment="AM reached the installer")
        assert st.outcome == "resolved" and st.resolved_by == "case_resolved"


async def test_referral_deadline_is_two_days_after_the_email(om: CaseHarness,
                                                             env: WorkflowEnvironment) -> None:
    async with om.worker():
        case = await _open(om)
        st = await case.status()
        contacted = st.contacted_at
        assert contacted is not None and st.next_deadline == contacted + timedelta(days=2)
        await env.sleep(timedelta(days=2) - timedelta(minutes=5))
        assert (await case.settle()).stage == "party_contacted"
        st = await case.send("party_responded", comment="called just in time")
        assert st.stage == "awaiting_homeowner_confirmation" and not case.records("referral")
        await env.sleep(timedelta(minutes=10))  # the no-contact deadline passed: no referral
        st = await case.settle()
        assert st.stage == "awaiting_homeowner_confirmation" and not case.records("referral")


async def test_concert_beam_thirty_weeks_of_commitment_emails_across_runs(
        om: CaseHarness, env: WorkflowEnvironment) -> None:
    async with om.worker():
        case = await _open(om, concert_beam=True, party="installer", party_email=None,
                           policy={"continue_as_new_after_events": 60})
        email = case.records("party_email")[0].payload
        assert email["to_role"] == "gtr" and email["to"] == "@greentechrenewables.com"
        assert email["template"] == "unresponsive_beam" and email["cc"] == []
        st = await case.settle(lambda s: s.reminders.get("commitment") is not None
                               and s.reminders["commitment"].count == 1)
        first = st.contacted_at
        assert first is not None
        # 29 weeks and a day: the 30th e-mail (week 29) is out, the 31st not yet due.
        await env.sleep(timedelta(weeks=29, days=1))
        st = await case.settle(lambda s: s.reminders["commitment"].count == 30, seconds=60)
        assert st.runs > 1, "the case never continued as new"
        assert st.stage == "referred_to_sales" and st.escalated
        assert stages(st) == ["case_created", "party_contacted", "referred_to_sales"]
        assert st.reminders["commitment"].next_due == first + timedelta(weeks=30)
        keys = _commitments(case)
        assert keys == [f"commitment/{n}" for n in range(1, 31)]
        sent = [r for r in case.notices() if "/commitment/" in r.key]
        assert len(sent) == 30 and all(r.kind == "text" for r in sent)  # phone only
        assert all(r.payload["template"] == "unresponsive_beam_ho" for r in sent)
        assert len(case.records("party_email")) == 1  # GTR e-mailed once, never again
        assert case.records("party_email")[0].payload["cc"] == []
        st = await case.send("case_resolved", comment="GTR fixed the connection")
        assert st.outcome == "resolved"
        await env.sleep(timedelta(weeks=3))
        assert len(_commitments(case)) == 30
        assert (await case.status()).rejected_total == 0


async def test_service_department_gets_one_commitment_a_week_later(
        om: CaseHarness, env: WorkflowEnvironment) -> None:
    async with om.worker():
        case = await _open(om, party="omnidian", party_email="care@omnidian.example")
        email = case.records("party_email")[0].payload
        assert email["template"] == "mutual_customer" and email["cc"] == []
        await env.sleep(timedelta(days=6, hours=23))
        st = await case.settle()
        assert st.stage == "referred_to_sales" and _commitments(case) == []
        await env.sleep(timedelta(hours=2))
        await case.settle(lambda s: s.reminders["commitment"].count == 1)
        await env.sleep(timedelta(weeks=4))
        await case.settle()
        assert _commitments(case) == ["commitment/1"]
        assert case.notices()[0].payload["template"] == "service_department_commitment"


async def test_bad_requests_and_events(om: CaseHarness) -> None:
    with pytest.raises(ValueError, match="party_email"):
        followup_input(party="installer", party_email=None)
    with pytest.raises(ValueError, match="concern"):
        followup_input(concern="")
    async with om.worker():
        case = await _open(om)
        with pytest.raises(InvalidEvent, match="unknown event"):
            await case.send("payment_verified", approved=True)
        await case.signal("party_responded", comment="")
        st = await case.settle(lambda s: s.rejected_total == 1)
        assert "comment" in st.rejected_events[0].reason and st.outcome is None
        await case.send("party_responded", event_id="r-1", comment="called")
        again = await case.send("party_responded", event_id="r-1", comment="called")
        assert again.stage == "awaiting_homeowner_confirmation" and again.outcome is None
        assert (await case.status()).attempts.get("homeowner_not_satisfied") is None


async def test_a_party_email_that_fails_for_good_is_recorded_not_fatal(
        om: CaseHarness) -> None:
    from temporalio import activity
    from temporalio.exceptions import ApplicationError

    @activity.defn(name="email_party")
    async def refused(req: PartyEmail) -> EffectReceipt:
        raise ApplicationError("mailbox does not exist", non_retryable=True)

    async with om.worker(refused):
        case = await _open(om)
        st = await case.status()
        assert st.failures and "mailbox does not exist" in st.failures[0].reason
        assert st.stage == "party_contacted"


async def test_a_temporal_cancel_closes_the_case_and_its_crm_case(
        om: CaseHarness, env: WorkflowEnvironment) -> None:
    async with om.worker():
        case = await _open(om, concert_beam=True, party_email=None)
        await case.settle(lambda s: s.reminders["commitment"].count == 1)
        await case.handle.cancel()
        st = await case.result()
        assert st.outcome == "cancelled" and st.stage == "closed"
        assert case.records("crm_close")[0].payload["outcome"] == "cancelled"
        sa = await case.search_attributes()
        assert sa["CaseOutcome"] == "cancelled" and "NextDeadline" not in sa
        await env.sleep(timedelta(weeks=2))
        assert _commitments(case) == ["commitment/1"]  # no e-mail after the cancel


async def test_a_homeowner_without_email_or_phone_is_given_to_a_person_once(
        om: CaseHarness, env: WorkflowEnvironment) -> None:
    """Spec 2.1 and 2.2: notices that cannot reach the homeowner (the commitments, the closing
    "Unresponsive Done") are one recorded failure for a person, not one per message; the case
    goes on."""
    async with om.worker():
        case = await _open(om, concert_beam=True, party_email=None,
                           homeowner={"name": "Ana Ruiz"})
        st = await case.status()
        assert st.route is not None and st.route.commitments_unreachable
        assert [f.effect for f in st.failures] == ["homeowner notices"]
        await env.sleep(timedelta(weeks=3))
        st = await case.settle()
        assert st.stage == "referred_to_sales" and len(st.failures) == 1
        assert _commitments(case) == [] and not case.records("text")
        st = await case.send("case_resolved", comment="installer called the homeowner")
        st = await case.settle(lambda s: s.outcome is not None)
        assert st.outcome == "resolved" and len(st.failures) == 1
        assert [(d.template, d.reason) for d in st.dropped_messages] == [
            ("unresponsive_done", "no e-mail or phone on file")]


async def test_a_homeowner_not_satisfied_sends_it_back_to_the_party_with_a_new_deadline(
        om: CaseHarness, env: WorkflowEnvironment) -> None:
    async with om.worker():
        case = await _open(om)
        await env.sleep(timedelta(days=1))
        await case.send("party_responded", comment="installer says it called")
        st = await case.send("homeowner_not_satisfied", comment="nobody called me")
        assert st.stage == "party_contacted" and st.attempts["homeowner_not_satisfied"] == 1
        assert st.no_contact_since is not None
        assert st.next_deadline == st.no_contact_since + timedelta(days=2)
        assert st.contacted_at is not None and st.next_deadline > st.contacted_at + timedelta(
            days=2)
        with pytest.raises(EventRejected, match="does not fit stage 'party_contacted'"):
            await case.send("homeowner_not_satisfied", comment="again")
        st = await case.fire_next_timer()
        st = await case.stage("referred_to_sales")
        assert len(case.records("referral")) == 1


async def test_the_back_office_is_reminded_to_get_the_homeowners_answer(
        om: CaseHarness) -> None:
    """Every 2 business days (production calendar, the homeowner's zone)."""
    async with om.worker():
        case = await _open(om)
        await case.send("party_responded", comment="installer called")
        st = await case.fire_next_timer()
        assert "confirmation/confirmation-reminder/1" in case.keys("assignment")
        asked = case.records("assignment")[-1].payload
        assert asked["assignee"] == "back_office" and "confirm" in asked["reason"]
        st = await case.fire_next_timer()
        assert "confirmation/confirmation-reminder/2" in case.keys("assignment")
        st = await case.send("case_resolved", comment="closed by the back office")
        assert st.outcome == "resolved"


async def test_the_sales_referral_closes_with_the_case(om: CaseHarness) -> None:
    """Spec 2.1: the referral record was left open after the follow-up closed."""
    async with om.worker():
        case = await _open(om)
        await case.fire_next_timer()
        await case.stage("referred_to_sales")
        referral = case.records("referral")[0]
        st = await case.send("case_resolved", comment="Sales resolved it")
        assert st.outcome == "resolved"
        closed = case.records("crm_close")[0].payload
        assert referral.record_id in closed["record_ids"]


async def test_a_second_opening_is_joined_and_its_concern_recorded(om: CaseHarness) -> None:
    """Spec 2.3: a second opening of an open follow-up used to be joined silently, its new
    concern dropped. It is recorded as a joined request (the opening itself again is not)."""
    async with om.worker():
        first = followup_input(concern="the inverter was never connected")
        case = await om.open_process(FOLLOWUP, first, PartnerFollowUp)
        await case.stage("party_contacted")
        again = await om.open_process(FOLLOWUP, first, PartnerFollowUp)  # a double submit
        assert again.case_id == case.case_id
        second = first.model_copy(update={"concern": "and now the app shows no data"})
        await om.open_process(FOLLOWUP, second, PartnerFollowUp)
        await om.open_process(FOLLOWUP, second, PartnerFollowUp)  # that one retried
        st = await case.settle(lambda s: s.joined_total >= 1)
        st = await case.settle()
        assert st.joined_total == 1 and st.stage == "party_contacted"
        assert st.joined_requests[0].concern == "and now the app shows no data"
        from tests.workflows.test_ui_text import _details

        details = await _details(case)
        assert "Joined requests:** 1" in details and "no data" not in details

"""The visit-scheduling piece on its own (through the probe workflow): contact hours, texts,
calls, the booking outcomes, the appointment and the outcome event."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest_asyncio

from domain.visits import CallAttemptResult
from tests.clock import HOME_ZONE
from tests.visits.probe_models import ProbeCase, ProbeInput, VisitDone
from tests.visits.probe_workflow import PROBE_STAGES
from tests.workflows.harness import CaseDriver, CaseHarness, zone_where_local_hour_is
from workflows.case.visits import visit_event_specs

ProbeDriver = CaseDriver[ProbeCase]
S = PROBE_STAGES


class Probe:
    """Starts probe visits on the test's case harness."""

    def __init__(self, harness: CaseHarness) -> None:
        self.harness = harness
        self.env = harness.env

    async def start(self, *, time_zone: str = HOME_ZONE, phone: str | None = "+14155550100",
                    hazardous: bool = False, **policy: Any) -> ProbeDriver:
        """A visit to book for a homeowner in `time_zone` (San Francisco's by default), under
        the production policy (08:00-20:00, the holiday calendar resolved as in production)
        with the changes given."""
        inp = ProbeInput.model_validate({
            "homeowner": {"name": "Ana Ruiz", "phone": phone, "time_zone": time_zone},
            "policy": policy, "skip_texts": policy.pop("skip_texts", False),
            "hazardous": hazardous})
        return await self.harness.start("VisitProbeWorkflow", inp, f"visit-{uuid.uuid4()}",
                                        ProbeCase)


@pytest_asyncio.fixture
async def probe(om: CaseHarness) -> AsyncIterator[Probe]:
    """A worker running the probe workflow with the real activities."""
    async with om.worker():
        yield Probe(om)


async def test_contact_hours_push_a_text_to_the_next_morning(probe: Probe) -> None:
    now = await probe.env.get_current_time()
    tz = zone_where_local_hour_is(22, now)  # 22:xx at the homeowner's: after hours
    visit = await probe.start(time_zone=tz, contact_hours={"start": "08:00", "end": "20:00"})
    st = await visit.stage(S.texts)
    assert st.waiting_for == "contact hours for text 1"
    assert visit.records("text") == []
    local = now.astimezone(ZoneInfo(tz))
    next_morning = datetime.combine(local.date() + timedelta(days=1), time(8),
                                    tzinfo=ZoneInfo(tz))
    assert st.next_deadline == next_morning
    await visit.fire_next_timer()
    st = await visit.settle(lambda s: s.attempts.get("texts") == 1)
    sent = datetime.fromisoformat(visit.records("text")[0].created_at)
    assert next_morning <= sent < next_morning + timedelta(minutes=1)


async def test_booked_after_a_text_then_the_outcome_closes_the_visit(probe: Probe) -> None:
    visit = await probe.start()
    await visit.settle(lambda s: s.attempts.get("texts") == 1)
    st = await visit.book()
    assert st.stage == S.scheduled
    await visit.until(lambda s: s.stage == S.findings)
    st = await visit.send("visit_done", result="completed")
    assert st.outcome == "visit_completed"
    assert visit.keys("text") == ["visit1/text/1", "visit1/appointment-reminder/1"]
    assert [e.stage for e in st.stage_history] == [S.ready, S.texts, S.scheduled, S.findings,
                                                    "closed"]


async def test_unreachable_after_every_text_and_call(probe: Probe) -> None:
    visit = await probe.start(text_attempts=2, call_attempts=2)
    st = await visit.until(lambda s: s.outcome is not None)
    assert st.outcome == "unreachable"
    assert st.attempts == {"texts": 2, "calls": 2}
    assert visit.keys("call_task") == ["visit1/call/1", "visit1/call/2"]


async def test_reached_but_not_booked(probe: Probe) -> None:
    visit = await probe.start(skip_texts=True, call_attempts=2)
    await visit.until(lambda s: s.attempts.get("calls") == 1)
    await visit.send("call_attempt_result", reached=True, scheduled=False)
    st = await visit.until(lambda s: s.outcome is not None)
    assert st.outcome == "reached_not_booked"
    assert st.attempts["calls_reached"] == 1 and visit.records("text") == []


async def test_booked_by_phone_waits_for_the_appointment_with_reminders(
        probe: Probe) -> None:
    visit = await probe.start(skip_texts=True)
    await visit.until(lambda s: s.attempts.get("calls") == 1)
    st = await visit.send("call_attempt_result", reached=True, scheduled=True)
    st = await visit.settle(lambda s: s.waiting_for == "appointment details after phone booking")
    assert st.attempts["calls"] == 1  # no further calls once booked
    await visit.fire_next_timer()
    await visit.settle(lambda s: visit.keys("assignment") == ["visit1/booking-reminder/1"])
    st = await visit.book()
    assert st.stage == S.scheduled


async def test_no_reminder_text_after_an_opt_out(probe: Probe) -> None:
    visit = await probe.start()
    await visit.settle(lambda s: s.attempts.get("texts") == 1)
    await visit.send("text_opt_out")
    await visit.book()
    await visit.until(lambda s: s.stage == S.findings)
    assert visit.keys("text") == ["visit1/text/1"]


async def test_a_reschedule_that_keeps_the_appointment_id_is_reminded_again(
        probe: Probe) -> None:
    visit = await probe.start()
    await visit.settle(lambda s: s.attempts.get("texts") == 1)
    await visit.book("APT-1", in_hours=72)
    await visit.fire_next_timer()  # the reminder of the first window
    await visit.settle(lambda s: s.visit.reminders_sent == 1)
    st = await visit.book("APT-1", in_hours=96)  # same ID, a day later
    assert st.attempts["reschedules"] == 1 and st.waiting_for == "appointment reminder time"
    await visit.fire_next_timer()
    await visit.settle(lambda s: s.visit.reminders_sent == 2)
    assert visit.keys("text")[-2:] == ["visit1/appointment-reminder/1",
                                       "visit1/appointment-reminder/2"]


async def test_no_usable_phone_ends_the_booking_and_is_recorded(probe: Probe) -> None:
    visit = await probe.start(phone=None)
    st = await visit.result()
    assert st.outcome == "no_usable_contact"
    assert st.failures[0].reason.startswith("no usable phone")
    assert visit.records("text") == [] and visit.keys("assignment") == ["failure/1"]


def test_a_call_result_waits_for_the_call_of_its_own_visit() -> None:
    spec = {s.name: s for s in visit_event_specs(VisitDone, lambda c: c.visit)}
    case = ProbeCase(case_id="visit-x", attempts={"calls": 3})
    case.visit.visit_no = 2  # visit 1 placed three calls; visit 2 none yet
    check = spec["call_attempt_result"].check
    assert check is not None
    event = CallAttemptResult(event_id="d-1", reached=True)
    assert check(case, event) == "no call attempt has been made yet for this visit"
    case.visit.calls_placed = 1
    assert check(case, event) is None

"""The durable reminder piece alone (through the reminder probe): the count and the next due
instant live in the case state, so a series survives continue-as-new and resumes after a pause
with the time that was left; keys come from the stored count."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from domain.reminders import Cadence, next_due
from domain.rules.business_days import us_federal_holidays
from tests.visits.probe_models import ProbeCase, ReminderProbeInput
from tests.workflows.harness import CaseDriver, CaseHarness


async def _start(om: CaseHarness, **cadence: object) -> CaseDriver[ProbeCase]:
    inp = ReminderProbeInput.model_validate({"cadence": cadence})
    case = await om.start("ReminderProbeWorkflow", inp, f"reminder-{uuid.uuid4()}", ProbeCase)
    await case.settle(lambda s: s.waiting_for is not None)
    return case


async def test_a_series_keeps_its_count_and_schedule_across_continue_as_new(
        om: CaseHarness) -> None:
    async with om.worker():
        case = await _start(om, every="P7D")
        first_due = (await case.status()).reminders["probe"].next_due
        assert first_due is not None
        await case.fire_next_timer()
        await case.settle(lambda s: s.reminders["probe"].count == 1)
        await case.send("probe_restart")
        st = await case.settle(lambda s: s.runs == 2 and s.waiting_for is not None)
        assert st.reminders["probe"].count == 1
        assert st.reminders["probe"].next_due == first_due + timedelta(days=7)
        await case.fire_next_timer()
        await case.settle(lambda s: s.reminders["probe"].count == 2)
        assert case.keys("assignment") == ["probe-reminder/1", "probe-reminder/2"]
        sent = [datetime.fromisoformat(r.created_at) for r in case.records("assignment")]
        assert abs(sent[1] - sent[0] - timedelta(days=7)) < timedelta(minutes=1)


async def test_a_paused_series_resumes_with_the_time_that_was_left(om: CaseHarness) -> None:
    async with om.worker():
        case = await _start(om, every="P7D")
        await om.env.sleep(timedelta(days=2))
        st = await case.send("probe_pause")
        series = st.reminders["probe"]
        assert series.paused and series.next_due is None
        assert series.left_when_paused is not None
        assert abs(series.left_when_paused - timedelta(days=5)) < timedelta(minutes=1)
        assert st.next_deadline is None and "paused" in (st.waiting_for or "")
        await om.env.sleep(timedelta(days=30))  # blocked for a month: no reminder
        assert case.records("assignment") == []
        resumed_at = await om.env.get_current_time()
        st = await case.send("probe_resume")
        assert st.next_deadline is not None
        assert abs(st.next_deadline - resumed_at - timedelta(days=5)) < timedelta(minutes=1)
        await case.fire_next_timer()
        await case.settle(lambda s: s.reminders["probe"].count == 1)
        await case.send("probe_done")
        assert (await case.result()).outcome == "done"


async def test_a_business_day_cadence_counts_business_days(om: CaseHarness) -> None:
    async with om.worker():
        case = await _start(om, business_days=2)
        st = await case.status()
        history = await case.handle.fetch_history()
        started = history.events[0].event_time.ToDatetime(tzinfo=UTC)
        # The production calendar, as the case resolved it.
        holidays = us_federal_holidays([started.year, started.year + 1])
        expected = next_due(started, Cadence(business_days=2), "UTC", holidays)
        assert st.next_deadline is not None
        assert abs(st.next_deadline - expected) < timedelta(seconds=2)
        assert st.next_deadline.weekday() < 5

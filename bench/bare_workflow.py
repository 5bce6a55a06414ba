"""The bare arms of the lifecycle benchmark, in a module of its own so that the workflow sandbox
imports nothing but Temporal: the O&M happy path's Temporal shape and nothing else
(`BareCaseWorkflow`), and that shape with the project's Temporal features
(`FeaturedCaseWorkflow`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from temporalio import activity, workflow
from temporalio.common import RawValue, RetryPolicy

SECOND = timedelta(seconds=1)


@activity.defn(name="bare_effect")
async def bare_effect(what: str) -> str:
    """A side effect that does nothing."""
    return what


@workflow.defn(name="BareCaseWorkflow")
class BareCaseWorkflow:
    """The happy path's Temporal shape with nothing of the project in it."""

    def __init__(self) -> None:
        self.events: list[str] = []
        self.stage = "created"

    @workflow.run
    async def run(self, window_in_s: float) -> str:
        """Activities, timers and waits in the happy path's order."""
        opts: dict[str, Any] = {"start_to_close_timeout": timedelta(seconds=30),
                                "retry_policy": RetryPolicy(maximum_interval=SECOND * 10)}
        await workflow.execute_activity(bare_effect, "remote-fix", **opts)
        self.stage = "problem_identified"
        await self._wait_for("remote_fix_result", timedelta(hours=1))
        await workflow.execute_activity(bare_effect, "fs-case", **opts)
        await workflow.execute_activity(bare_effect, "text", **opts)
        await self._wait_for("appointment_scheduled", timedelta(hours=1))
        await workflow.sleep(max(window_in_s - 1, 0.5))  # the reminder time
        await workflow.execute_activity(bare_effect, "reminder", **opts)
        await workflow.sleep(1)  # the window
        await self._wait_for("appointment_outcome", timedelta(hours=1))
        await workflow.sleep(1)  # the validation period
        await workflow.execute_activity(bare_effect, "health-check", **opts)
        await workflow.execute_activity(bare_effect, "asset-update", **opts)
        await workflow.execute_activity(bare_effect, "crm-close", **opts)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return "resolved"

    async def _wait_for(self, name: str, timeout: timedelta) -> None:
        try:
            await workflow.wait_condition(lambda: name in self.events, timeout=timeout)
        except TimeoutError:
            pass

    @workflow.signal(name="issue_reported")
    def issue_reported(self, _: Any) -> None:
        """The start signal."""
        self.events.append("issue_reported")

    @workflow.update(name="event")
    async def event(self, name: str) -> str:
        """An event; answers once the flow took it."""
        self.events.append(name)
        return self.stage


# ---- the bare shape with the project's Temporal features -----------------------------------
#
# The same workflow tasks, activities, timers, Updates, patches and upserts as the project's
# happy path, with payloads of the same sizes, but no domain code, no pydantic and no
# sandboxed project modules: what the operator-facing features (search attributes, summaries,
# the closed case's record, validated inputs pinned at start) cost at the Temporal level, so
# that the project's remaining cost splits into "features" and "code".

def _sa(name: str, kind: str) -> Any:
    from temporalio.common import SearchAttributeKey

    return getattr(SearchAttributeKey, f"for_{kind}")(name)


STAGE = _sa("CaseStage", "keyword")
WAITING = _sa("WaitingOn", "keyword")
DEADLINE = _sa("NextDeadline", "datetime")
ENTERED = _sa("StageEnteredAt", "datetime")
OUTCOME = _sa("CaseOutcome", "keyword")
# The events the flow waits for; others (an operator's note) are answered at once.
FLOW_EVENTS = frozenset({"remote_fix_result", "appointment_scheduled", "appointment_outcome",
                         "system_health_reported"})


def filler(size: int) -> dict[str, str]:
    """A JSON object of about `size` bytes: a payload as large as the project's."""
    return {"pad": "x" * max(size - 10, 0)}


@activity.defn(name="featured_effect")
async def featured_effect(req: dict[str, Any]) -> dict[str, Any]:
    """A side effect that answers a receipt as large as the project's."""
    return {"key": req.get("key", ""), **filler(req.get("answer", 95))}


@workflow.defn(name="FeaturedCaseWorkflow")
class FeaturedCaseWorkflow:
    """The project's happy-path history (bench: 94 events) with nothing of the project in it."""

    def __init__(self) -> None:
        self.events: list[str] = []
        self.waits = 0  # the flow's waits entered: an Update answers after the next one

    @workflow.run
    async def run(self, inp: dict[str, Any]) -> dict[str, Any]:
        """The project's commands in the project's order."""
        workflow.patched("bench-featured-a")
        workflow.patched("bench-featured-b")
        now = workflow.now()
        workflow.upsert_search_attributes([
            STAGE.value_set("problem_identified"), WAITING.value_set("monitoring"),
            ENTERED.value_set(now), _sa("CaseId", "keyword").value_set(workflow.info().workflow_id),
            _sa("ProcessType", "keyword").value_set("om_simplified"),
            _sa("SystemId", "keyword").value_set(inp.get("system_id", "-")),
            _sa("Market", "keyword").value_set("CA"), _sa("Escalated", "bool").value_set(False),
            _sa("Hazardous", "bool").value_set(False), OUTCOME.value_unset(),
            DEADLINE.value_unset()])
        await self._effect("remote-fix", 85, "request a remote fix from monitoring")
        self._show(waiting="monitoring", deadline=timedelta(days=1))
        await self._wait_for("remote_fix_result", timedelta(days=1), "wait 24 h for the fix")
        await self._effect("fs-case", 185, "create the FS case")
        self._enter("ready_for_scheduling", "schedule")
        self._enter("self_scheduling_texts", None)
        await self._effect("text-1", 315, "text attempt 1 of 3")
        self._show(deadline=timedelta(hours=1))
        await self._wait_for("appointment_scheduled", timedelta(hours=1),
                             "wait 1 h for booking after text 1 of 3")
        self._enter("appointment_scheduled", "field_tech")
        self.waits += 1
        await workflow.sleep(max(inp["window_in_s"] - 1, 0.5),
                             summary="wait for the appointment reminder time")
        await self._effect("reminder", 315, "appointment reminder text")
        self._show(deadline=timedelta(seconds=1))
        self.waits += 1
        await workflow.sleep(1, summary="wait for the appointment window")
        self._enter("pending_appt_findings", "field_tech")
        await self._wait_for("appointment_outcome", timedelta(hours=1),
                             "wait for the appointment outcome from the field tech")
        self._enter("pending_performance_validation", "monitoring")
        await self._wait_for("system_health_reported", timedelta(hours=1),
                             "wait for production data")
        await self._effect("asset-update", 185, "create the asset update task")
        self._enter("closed", "none", outcome="resolved")
        await self._effect("close-records", 185, "close the CRM records (resolved)")
        self.waits += 1
        await workflow.wait_condition(workflow.all_handlers_finished)
        return filler(2900)

    async def _effect(self, what: str, size: int, summary: str) -> None:
        await workflow.execute_activity(
            featured_effect, {"key": f"{workflow.info().workflow_id}/{what}", **filler(size)},
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=RetryPolicy(maximum_interval=SECOND * 10), summary=summary)

    def _show(self, *, deadline: timedelta, waiting: str | None = None) -> None:
        updates = [DEADLINE.value_set(workflow.now() + deadline)]
        if waiting is not None:
            updates.append(WAITING.value_set(waiting))
        workflow.upsert_search_attributes(updates)

    def _enter(self, stage: str, waiting: str | None, outcome: str | None = None) -> None:
        updates = [STAGE.value_set(stage), ENTERED.value_set(workflow.now()),
                   DEADLINE.value_unset()]
        if waiting is not None:
            updates.append(WAITING.value_set(waiting))
        if outcome is not None:
            updates.append(OUTCOME.value_set(outcome))
        workflow.upsert_search_attributes(updates)

    async def _wait_for(self, name: str, timeout: timedelta, summary: str) -> None:
        self.waits += 1
        try:
            await workflow.wait_condition(lambda: name in self.events, timeout=timeout,
                                          timeout_summary=summary)
        except TimeoutError:
            pass

    @workflow.signal(name="issue_reported")
    def issue_reported(self, _: Any) -> None:
        """The start signal (the opening report)."""
        self.events.append("issue_reported")

    @workflow.update(dynamic=True)
    async def event(self, name: str, args: Sequence[RawValue]) -> dict[str, Any]:
        """An event; answers, as large as the project's answer, once the flow has moved on to
        its next wait (as the project answers a flow event)."""
        waits = self.waits
        self.events.append(name)
        if name in FLOW_EVENTS:
            await workflow.wait_condition(lambda: self.waits > waits)
        return filler(330)

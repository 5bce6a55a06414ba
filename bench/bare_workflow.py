"""The bare arm of the lifecycle benchmark, in a module of its own so that the workflow sandbox
imports nothing but Temporal: the O&M happy path's Temporal shape and nothing else."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import activity, workflow
from temporalio.common import RetryPolicy

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

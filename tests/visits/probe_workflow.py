"""The smallest process that schedules a visit: the scheduling piece alone on the case base,
so the piece is tested apart from any one process that uses it."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.events import Escalate
    from domain.homeowner import Homeowner
    from tests.visits.probe_models import ProbeCase, ProbeInput, VisitDone
    from workflows.case_base import CaseWorkflow
    from workflows.visit_scheduling import VisitScheduling, visit_event_specs


@workflow.defn(name="VisitProbeWorkflow")
class VisitProbeWorkflow(CaseWorkflow[ProbeCase]):
    """Book one visit, wait for its outcome, close with what happened."""

    PROCESS = "visit_probe"
    EVENTS = visit_event_specs("visit_done", VisitDone, lambda case: case.visit)

    @workflow.init
    def __init__(self, inp: ProbeInput) -> None:
        self.inp = inp
        info = workflow.info()
        self._init_base(ProbeCase(case_id=info.workflow_id, market="CA",
                                  instance=info.first_execution_run_id))

    @workflow.run
    async def run(self, inp: ProbeInput) -> ProbeCase:
        """Run the visit to its end."""
        self.initial_search_attributes()
        return await self.run_case(self._flow)

    async def _flow(self) -> None:
        visits = VisitScheduling(
            self, state=self.case.visit, policy=self.inp.policy,
            time_zone=self.inp.homeowner.time_zone or "UTC",
            holidays=list(self.inp.policy.holidays or []), outcome_event="visit_done")
        booking = await visits.book_visit(skip_texts=self.inp.skip_texts)
        if booking != "booked":
            await self.close(booking)
            return
        done: VisitDone = await visits.await_outcome()
        await self.close(f"visit_{done.result}")

    def homeowner(self) -> Homeowner:
        """The homeowner to text and call."""
        return self.inp.homeowner

    async def on_escalate(self, cmd: Escalate) -> None:
        """Not part of what the probe tests."""

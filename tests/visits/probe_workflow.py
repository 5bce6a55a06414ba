"""The smallest process that schedules a visit: the visit part alone on the case base, so the
part is tested apart from any one process that uses it (with its own stage names and an outcome
event that carries no appointment ID, as the damage claim's `field_assessment`)."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.homeowner import Homeowner
    from tests.visits.probe_models import ProbeCase, ProbeInput, VisitDone
    from workflows.case_base import CaseWorkflow, Close, Ending, events_table
    from workflows.visits import VisitScheduling, VisitStages, visit_event_specs

PROBE_STAGES = VisitStages(ready="probe_ready", texts="probe_texts", calls="probe_calls",
                           scheduled="probe_visit_booked", findings="probe_visit_findings")


@workflow.defn(name="VisitProbeWorkflow")
class VisitProbeWorkflow(CaseWorkflow[ProbeCase]):
    """Book one visit, wait for its outcome, close with what happened."""

    PROCESS = "visit_probe"
    EVENTS = events_table(*visit_event_specs(VisitDone, lambda case: case.visit, PROBE_STAGES))

    @workflow.init
    def __init__(self, inp: ProbeInput) -> None:
        self.inp = inp
        info = workflow.info()
        self._init_base(ProbeCase(case_id=info.workflow_id, market="CA",
                                  time_zone=inp.homeowner.time_zone or "UTC",
                                  holidays=list(inp.policy.holidays or []),
                                  hazardous=inp.hazardous, hazard_handled=inp.hazardous,
                                  instance=info.first_execution_run_id),
                        inp.policy.contact_hours)
        self.visits = VisitScheduling(self, state=self.case.visit, policy=inp.policy,
                                      outcome=VisitDone, stages=PROBE_STAGES)

    @workflow.run
    async def run(self, inp: ProbeInput) -> ProbeCase:
        """Run the visit to its end."""
        self.start_run()
        return await self.run_case(self._flow)

    async def _flow(self) -> Ending:
        booking = await self.visits.book_visit(skip_texts=self.inp.skip_texts)
        if booking != "booked":
            return Close(booking)
        done = await self.visits.await_outcome()
        return Close(f"visit_{done.result}")

    def homeowner(self) -> Homeowner:
        """The homeowner to text and call."""
        return self.inp.homeowner

"""The smallest process that schedules a visit: the visit part alone on the case base, so the
part is tested apart from any one process that uses it (with its own stage names and an outcome
event that carries no appointment ID, as the damage claim's `field_assessment`)."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.events import Event
    from domain.homeowner import Homeowner
    from domain.om import OmCaseInput
    from domain.processes import OM
    from tests.visits.probe_models import (
        PROBE,
        ProbeCase,
        ProbeDone,
        ProbeInput,
        ProbePause,
        ProbeRestart,
        ProbeResume,
        ReminderProbeInput,
        StarterProbeInput,
        VisitDone,
    )
    from workflows.case import (
        CaseCommon,
        CaseWorkflow,
        Close,
        ContinueAs,
        Ending,
        EventSpec,
        Series,
        events_table,
        pause,
        resume,
    )
    from workflows.case.visits import VisitScheduling, VisitStages, visit_event_specs

PROBE_STAGES = VisitStages(ready="probe_ready", texts="probe_texts", calls="probe_calls",
                           scheduled="probe_visit_booked", findings="probe_visit_findings")


@workflow.defn(name="VisitProbeWorkflow")
class VisitProbeWorkflow(CaseWorkflow[ProbeCase]):
    """Book one visit, wait for its outcome, close with what happened."""

    PROCESS = "visit_probe"
    SPEC = PROBE
    inp: ProbeInput
    EVENTS = events_table(*visit_event_specs(VisitDone, lambda case: case.visit, PROBE_STAGES))

    @workflow.init
    def __init__(self, inp: ProbeInput) -> None:
        def new_case(common: CaseCommon) -> ProbeCase:
            return ProbeCase(**common, hazardous=inp.hazardous, hazard_handled=inp.hazardous)

        self.init_case(inp, new_case)
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


def _pause(case: ProbeCase, _: Event) -> None:
    pause(case.reminder("probe"))


def _resume(case: ProbeCase, _: Event) -> None:
    resume(case.reminder("probe"))


@workflow.defn(name="ReminderProbeWorkflow")
class ReminderProbeWorkflow(CaseWorkflow[ProbeCase]):
    """The durable reminder piece alone: wait for `probe_done`, reminding on a cadence; pause,
    resume, and continue-as-new in the middle of the wait."""

    PROCESS = "reminder_probe"
    SPEC = PROBE
    inp: ReminderProbeInput
    EVENTS = events_table(EventSpec(ProbeDone), EventSpec(ProbeRestart),
                          EventSpec(ProbePause, apply=_pause, flow=False),
                          EventSpec(ProbeResume, apply=_resume, flow=False))

    @workflow.init
    def __init__(self, inp: ReminderProbeInput) -> None:
        self.init_case(inp, lambda common: ProbeCase(**common))

    @workflow.run
    async def run(self, inp: ReminderProbeInput) -> ProbeCase:
        """Wait to the end."""
        self.start_run()
        return await self.run_case(self._flow)

    async def _flow(self) -> Ending:
        async def remind(n: int) -> None:
            await self.effects.assign(self.key("probe-reminder", n), "case_manager",
                                      "still waiting", summary=f"probe reminder {n}")

        def restart_asked() -> bool:
            return any(p.name == ProbeRestart.EVENT for p in self.case.pending)

        got = await self.wait_for(ProbeDone, waiting_for="probe_done", waiting_on="case_manager",
                                  stop=restart_asked,
                                  reminders=[Series("probe", self.inp.cadence, remind)])
        if got is None:
            self.case.pending = [p for p in self.case.pending if p.name != ProbeRestart.EVENT]
            return ContinueAs("ReminderProbeWorkflow", reason="fresh history",
                              outcome="continued", drain_pending=False, escalate=False)
        return Close("done")


@workflow.defn(name="StarterProbeWorkflow")
class StarterProbeWorkflow(CaseWorkflow[ProbeCase]):
    """Starts an O&M case by its ID through the base (as a claim starts its R&R project) and
    closes at once: the started case outlives it."""

    PROCESS = "starter_probe"
    SPEC = PROBE
    inp: StarterProbeInput
    EVENTS = events_table()

    @workflow.init
    def __init__(self, inp: StarterProbeInput) -> None:
        self.init_case(inp, lambda common: ProbeCase(**common))

    @workflow.run
    async def run(self, inp: StarterProbeInput) -> ProbeCase:
        """Start the case (twice, when asked) and close."""
        self.start_run()
        return await self.run_case(self._flow)

    async def _flow(self) -> Ending:
        if self.inp.unbuildable:
            om = self.inp.om

            def too_long() -> OmCaseInput:
                return OmCaseInput.model_validate(om.model_dump() | {"system_id":
                                                                     om.system_id * 20})

            return Close(f"started {await self.links.start_case(OM, too_long)}")
        started = await self.links.start_case(OM, self.inp.om)
        if self.inp.twice:
            await self.links.start_case(OM, self.inp.om.model_copy(
                update={"description": "a second report"}))
        return Close(f"started {started}")

    def homeowner(self) -> Homeowner:
        """Not contacted."""
        return Homeowner(name="nobody")

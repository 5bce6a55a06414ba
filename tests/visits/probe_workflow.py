"""The smallest process that schedules a visit: the visit part alone on the case base, so the
part is tested apart from any one process that uses it (with its own stage names and an outcome
event that carries no appointment ID, as the damage claim's `field_assessment`)."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel

    from domain.events import Event
    from domain.homeowner import Homeowner
    from domain.processes import OM
    from domain.rules.contact_hours import ContactHours
    from tests.visits.probe_models import (
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
    from workflows.case_base import (
        CaseWorkflow,
        Close,
        ContinueAs,
        Ending,
        EventSpec,
        events_table,
    )
    from workflows.reminders import pause, resume, wait_with_reminders
    from workflows.visits import VisitScheduling, VisitStages, visit_event_specs

PROBE_STAGES = VisitStages(ready="probe_ready", texts="probe_texts", calls="probe_calls",
                           scheduled="probe_visit_booked", findings="probe_visit_findings")


@workflow.defn(name="VisitProbeWorkflow")
class VisitProbeWorkflow(CaseWorkflow[ProbeCase]):
    """Book one visit, wait for its outcome, close with what happened."""

    PROCESS = "visit_probe"
    inp: ProbeInput
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


def _pause(case: ProbeCase, _: Event) -> None:
    pause(case.reminder("probe"))


def _resume(case: ProbeCase, _: Event) -> None:
    resume(case.reminder("probe"))


@workflow.defn(name="ReminderProbeWorkflow")
class ReminderProbeWorkflow(CaseWorkflow[ProbeCase]):
    """The durable reminder piece alone: wait for `probe_done`, reminding on a cadence; pause,
    resume, and continue-as-new in the middle of the wait."""

    PROCESS = "reminder_probe"
    inp: ReminderProbeInput
    EVENTS = events_table(EventSpec(ProbeDone), EventSpec(ProbeRestart),
                          EventSpec(ProbePause, apply=_pause, flow=False),
                          EventSpec(ProbeResume, apply=_resume, flow=False))

    @workflow.init
    def __init__(self, inp: ReminderProbeInput) -> None:
        self.inp = inp
        info = workflow.info()
        if inp.carried_case is not None:
            case = inp.carried_case.model_copy(deep=True)
            case.runs += 1
            case.outcome = None
        else:
            case = ProbeCase(case_id=info.workflow_id, process=self.PROCESS, market="CA",
                             time_zone="UTC", holidays=list(inp.holidays),
                             instance=info.first_execution_run_id)
        self._init_base(case, ContactHours())

    @workflow.run
    async def run(self, inp: ReminderProbeInput) -> ProbeCase:
        """Wait to the end."""
        self.start_run()
        return await self.run_case(self._flow)

    async def _flow(self) -> Ending:
        async def remind(n: int) -> None:
            await self.assign(self.key("probe-reminder", n), "case_manager", "still waiting",
                              summary=f"probe reminder {n}")

        def restart_asked() -> bool:
            return any(p.name == ProbeRestart.EVENT for p in self.case.pending)

        got = await wait_with_reminders(self, ProbeDone, series="probe",
                                        cadence=self.inp.cadence, waiting_for="probe_done",
                                        remind=remind, until=restart_asked)
        if got is None:
            self.case.pending = [p for p in self.case.pending if p.name != ProbeRestart.EVENT]
            return ContinueAs("ReminderProbeWorkflow", reason="fresh history",
                              outcome="continued", drain_pending=False, escalate=False)
        return Close("done")

    def carry_input(self) -> BaseModel:
        """The case, carried whole."""
        return self.inp.model_copy(update={"carried_case": self.case})

    def homeowner(self) -> Homeowner:
        """Not contacted."""
        return Homeowner(name="nobody")


@workflow.defn(name="StarterProbeWorkflow")
class StarterProbeWorkflow(CaseWorkflow[ProbeCase]):
    """Starts an O&M case by its ID through the base (as a claim starts its R&R project) and
    closes at once: the started case outlives it."""

    PROCESS = "starter_probe"
    inp: StarterProbeInput
    EVENTS = events_table()

    @workflow.init
    def __init__(self, inp: StarterProbeInput) -> None:
        self.inp = inp
        info = workflow.info()
        self._init_base(ProbeCase(case_id=info.workflow_id, process=self.PROCESS,
                                  instance=info.first_execution_run_id), ContactHours())

    @workflow.run
    async def run(self, inp: StarterProbeInput) -> ProbeCase:
        """Start the case (twice, when asked) and close."""
        self.start_run()
        return await self.run_case(self._flow)

    async def _flow(self) -> Ending:
        started = await self.start_case(OM, self.inp.om)
        if self.inp.twice:
            await self.start_case(OM, self.inp.om.model_copy(
                update={"description": "a second report"}))
        return Close(f"started {started}")

    def homeowner(self) -> Homeowner:
        """Not contacted."""
        return Homeowner(name="nobody")

"""What both O&M workflows share: building the case from the input (or the case carried from
the simplified track), intake decisions, the holiday calendar, `issue_reported` joining."""

from __future__ import annotations

from datetime import date

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.effects import HolidayCalendar, HolidayRequest
    from domain.homeowner import Homeowner
    from domain.om import IssueReported, OmCase, OmCaseInput, report_fingerprint
    from domain.rules.eligibility import intake_decision
    from domain.rules.zones import homeowner_zone
    from workflows.case_base import CaseWorkflow, EventSpec

CASE_MANAGER = "case_manager"
HOLIDAY_YEARS_AHEAD = 2


def _join_report(case: OmCase, event: IssueReported) -> None:
    # The report that opened the case also arrives as the start signal: it is not a second report.
    if not case.opening_report_seen and report_fingerprint(event.report) == case.opening_report:
        case.opening_report_seen = True
        return
    case.related_reports += 1


ISSUE_REPORTED = {"issue_reported": EventSpec(IssueReported, apply=_join_report, flow=False)}


class OmCaseWorkflow(CaseWorkflow[OmCase]):
    """Base of `OmSimplifiedWorkflow` and `OmManualWorkflow`."""

    inp: OmCaseInput

    def _setup(self, inp: OmCaseInput) -> None:
        self.inp = inp
        if inp.carried_case is not None:
            case = inp.carried_case.model_copy(deep=True)
            case.runs += 1
            case.outcome = None
            case.process = self.PROCESS
        else:
            decision = intake_decision(inp.report(), inp.policy)
            case = OmCase(
                case_id=workflow.info().workflow_id, process=self.PROCESS,
                system_id=inp.system_id, market=inp.market, hazardous=decision.hazardous,
                eligibility=decision, opening_report=report_fingerprint(inp.report()),
                time_zone=homeowner_zone(inp.homeowner.time_zone, inp.market),
                instance=workflow.info().first_execution_run_id,
            )
            case.stage_history = []
        self._init_base(case)

    def start_run(self) -> None:
        """First steps of every run: search attributes and details."""
        self.initial_search_attributes()
        workflow.logger.info("case run started", extra={"case_id": self.case.case_id,
                                                       "process_type": self.PROCESS})

    async def ensure_holidays(self) -> list[date]:
        """The holiday calendar of this case: from the policy, the carried case, or resolved
        once by an activity (so replays never depend on the installed `holidays` library)."""
        if self.inp.policy.holidays is not None:
            self.case.holidays = list(self.inp.policy.holidays)
        elif not self.case.holidays:
            year = workflow.now().year
            cal: HolidayCalendar = await self._execute(
                "resolve_holidays",
                HolidayRequest(years=list(range(year, year + HOLIDAY_YEARS_AHEAD + 1))),
                HolidayCalendar, "resolve the US federal holiday calendar")
            self.case.holidays = cal.holidays
        return self.case.holidays

    def homeowner(self) -> Homeowner:
        """The homeowner of the report (for notifications only)."""
        return self.inp.homeowner

    def detail_lines(self) -> list[str]:
        """O&M lines of the UI details: system, market, track, visit (no personal data)."""
        c = self.case
        lines = [f"**System:** {c.system_id} ({c.market}) — **track:** {self.PROCESS}"]
        if c.visit.appointment:
            a = c.visit.appointment
            lines.append(f"**Appointment:** {a.appointment_id} "
                         f"{a.window_start.isoformat(timespec='minutes')}")
        if c.escalation_reason:
            lines.append(f"**Escalated because:** {c.escalation_reason}")
        if c.related_reports:
            lines.append(f"**Further reports joined:** {c.related_reports}")
        return lines

    def carry_input(self) -> OmCaseInput:
        """The input of the next run, carrying this case whole."""
        policy = self.inp.policy.model_copy(update={"holidays": self.case.holidays})
        return self.inp.model_copy(update={"policy": policy, "carried_case": self.case})


def static_summary(system_id: str, market: str, process: str) -> str:
    """The one-line UI summary at start (no personal data)."""
    return f"{process} case for system {system_id} in {market}"




"""What both O&M workflows share: building the case from the input (or the case carried from
the simplified track), the intake decision, `issue_reported` joining (a hazardous report makes
the case hazardous from then on), the UI lines."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():

    from domain.om import IssueReported, OmCase, OmCaseInput, report_fingerprint
    from domain.processes import OM
    from domain.rules.eligibility import intake_decision, report_hazard
    from workflows.case import CaseCommon, CaseWorkflow, EventSpec


def _join_report(case: OmCase, event: IssueReported) -> None:
    report = event.report()
    # The report that opened the case also arrives as the start signal: not a second report.
    if not case.opening_report_seen and report_fingerprint(report) == case.opening_report:
        case.opening_report_seen = True
        return
    case.related_reports += 1
    if report.referred_by and report.referred_by not in case.hazard_referrals:
        case.hazard_referrals.append(report.referred_by)
    reasons = report_hazard(report)
    if reasons and not case.hazardous:
        # Spec 2.1: a hazardous report makes an open case hazardous from then on; the case's
        # next wait sends the safety notice and the P1 dispatch, texting stops, calls start.
        case.hazardous = True
        case.hazard_reasons = reasons


ISSUE_REPORTED = EventSpec(IssueReported, apply=_join_report, flow=False)


class OmCaseWorkflow(CaseWorkflow[OmCase]):
    """Base of `OmSimplifiedWorkflow` and `OmManualWorkflow`."""

    SPEC = OM
    OWNS_HAZARDS = True
    inp: OmCaseInput

    def _setup(self, inp: OmCaseInput) -> None:
        def new_case(common: CaseCommon) -> OmCase:
            decision = intake_decision(inp.report(), inp.policy)
            return OmCase(**common, system_id=inp.system_id, hazardous=decision.hazardous,
                          hazard_reasons=decision.hazard_reasons, eligibility=decision,
                          opening_report=report_fingerprint(inp.report()),
                          hazard_referrals=[inp.referred_by] if inp.referred_by else [])

        self.init_case(inp, new_case)

    def dispatch_fields(self) -> dict[str, str]:
        """Dispatches name the system."""
        return {"system_id": self.case.system_id}

    def detail_lines(self) -> list[str]:
        """O&M lines of the UI details: system, market, track, visit (no personal data)."""
        c = self.case
        lines = [f"**System:** {c.system_id} ({c.market}, {c.time_zone or 'zone unknown'}) — "
                 f"**track:** {self.PROCESS}"]
        if c.visit.appointment:
            a = c.visit.appointment
            lines.append(f"**Appointment:** {a.appointment_id} "
                         f"{a.window_start.isoformat(timespec='minutes')}")
        if c.escalation_reason:
            lines.append(f"**Escalated because:** {c.escalation_reason}")
        if c.hazard_reasons:
            lines.append(f"**Hazard:** {'; '.join(c.hazard_reasons)}")
        if c.hazard_referrals:
            lines.append(f"**Hazard reported through:** {', '.join(c.hazard_referrals)}")
        if c.related_reports:
            lines.append(f"**Further reports joined:** {c.related_reports}")
        return lines

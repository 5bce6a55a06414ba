"""Simplified-track eligibility (spec 3.1): a case runs the automated simplified track only when
every condition holds; otherwise a case manager runs it on the manual track."""

from __future__ import annotations

from domain.om import Eligibility, IssueReport, OmPolicy
from domain.rules.hazard import hazard_reasons


def simplified_track_eligibility(report: IssueReport, policy: OmPolicy) -> Eligibility:
    """The track for a report and every reason it is not simplified (empty when it is)."""
    reasons: list[str] = []
    if report.installer is None or report.installer_accepting_service_work is None:
        reasons.append("installer, or whether it takes service work, unknown (hazard handed "
                       "over by another case)")
    elif not report.installer_accepting_service_work:
        who = "the company" if report.installer == "sunrun" else "the install partner"
        reasons.append(f"installer not accepting service work ({who})")
    territory = policy.service_territory
    if report.market not in territory.markets or report.zip in territory.excluded_zips:
        reasons.append("out of market: ZIP not in the O&M service territory")
    elif report.zip is None:
        reasons.append("ZIP unknown (hazard handed over by another case)")
    if report.agreement_type is None:
        reasons.append("agreement type unknown (hazard handed over by another case)")
    if report.agreement_type == "customer_owned" and not report.protection_plus:
        reasons.append("customer-owned without Protection Plus")
    if report.acquisition_channel in policy.ineligible_channels:
        reasons.append(f"acquisition channel not eligible: {report.acquisition_channel}")
    return Eligibility(track="manual" if reasons else "simplified", reasons=reasons)


class IntakeDecision(Eligibility):
    """Eligibility plus the hazard classification of a report (spec 3.1, 4.1)."""

    hazardous: bool = False
    hazard_reasons: list[str] = []


def intake_decision(report: IssueReport, policy: OmPolicy) -> IntakeDecision:
    """The intake of a report: its track, why, and whether it is hazardous.

    A report is hazardous when its facts meet rule 4.1, or when intake already classified it
    with the case reason `hazardous_situation` (decision: the reporter's classification is not
    second-guessed by the absence of facts)."""
    eligibility = simplified_track_eligibility(report, policy)
    reasons = report_hazard(report)
    return IntakeDecision(track=eligibility.track, reasons=eligibility.reasons,
                          hazardous=bool(reasons), hazard_reasons=reasons)


def report_hazard(report: IssueReport) -> list[str]:
    """Why a report is hazardous (empty when it is not): rule 4.1 on its facts, or the case
    reason `hazardous_situation` given at intake."""
    reasons = hazard_reasons(report.hazard)
    if not reasons and report.case_reason == "hazardous_situation":
        reasons = ["reported as a hazardous situation"]
    return reasons

"""Warranties and the claim intake tree (spec 3.4, 4.3; seed 000 "Roof Leak Response -
Intake"): whether an entitlement covers a claim on its report date, and what intake decides."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from domain.damage import DamageReport, Entitlement, EntitlementKind, IntakeResult

# A roof leak is covered by the roof-penetration warranty (seals within 3 inches of a
# penetration) or the workmanship warranty (installer error); decision: either one counts.
ROOF_LEAK_COVER: frozenset[EntitlementKind] = frozenset({"roof_penetration", "workmanship"})


def covering_entitlements(entitlements: Iterable[Entitlement], on: date,
                          kinds: Iterable[EntitlementKind] = ROOF_LEAK_COVER) -> list[Entitlement]:
    """The entitlements of `kinds` active on `on` (inclusive at both ends)."""
    wanted = set(kinds)
    return [e for e in entitlements if e.kind in wanted and e.active_until >= on
            and (e.active_from is None or e.active_from <= on)]


def under_warranty(entitlements: Iterable[Entitlement], on: date) -> bool:
    """Whether an active entitlement covers a roof leak reported on `on` (spec 4.3)."""
    return bool(covering_entitlements(entitlements, on))


def claim_intake(report: DamageReport) -> IntakeResult:
    """The intake decision for a damage report.

    Roof leak (seed tree): company-installed: under warranty creates the claim, else denied.
    Partner-installed: a partner accepting work takes the claim (partner assignment); else
    the company as warrantor creates the claim; else denied. Not a roof leak: the claim is
    created with no roof-penetration warranty check (spec 3.4). Damage found in an R&R project
    is the company's own work: the claim is created and investigated by the company."""
    if report.project_id is not None:
        return IntakeResult(decision="create_claim", recommendation="company",
                            reason=f"damage found during R&R project {report.project_id}")
    if not report.roof_leak:
        return IntakeResult(decision="create_claim",
                            recommendation=report.assignment_recommendation or "company",
                            reason="damage not related to a roof leak")
    if report.installer == "sunrun":
        covered = under_warranty(report.entitlements, report.reported_on)
        if covered:
            return IntakeResult(decision="create_claim", under_warranty=True,
                                recommendation=report.assignment_recommendation or "company",
                                reason="company-installed, under warranty on the report date")
        return IntakeResult(decision="denied", under_warranty=False,
                            reason="company-installed, no workmanship or roof-penetration "
                                   f"warranty active on {report.reported_on.isoformat()}")
    if report.installer_accepting_service_work:
        return IntakeResult(decision="create_claim",
                            recommendation=report.assignment_recommendation or "partner",
                            reason="partner-installed, the partner accepts the work")
    if report.company_is_warrantor:
        return IntakeResult(decision="create_claim",
                            recommendation=report.assignment_recommendation or "company",
                            reason="partner-installed, the company is the warrantor")
    return IntakeResult(decision="denied",
                        reason="partner-installed, the partner does not accept the work and "
                               "the company is not the warrantor")

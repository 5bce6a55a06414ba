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


# Damage that is not a roof leak is covered by the workmanship warranty only (seed 000:
# "Property Damage Intake: Under warranty?"; spec 3.4: no roof-penetration check).
NON_LEAK_COVER: frozenset[EntitlementKind] = frozenset({"workmanship"})


def claim_intake(report: DamageReport, *, non_leak_warranty: bool = True) -> IntakeResult:
    """The intake decision for a damage report (spec 3.4).

    Company-installed: an active entitlement on the report date creates the claim, else
    denied (a roof leak: roof-penetration or workmanship; other damage: workmanship only).
    Partner-installed: a partner accepting work takes the claim (partner assignment); else
    the company as warrantor creates the claim; else denied. Damage found in the company's
    own R&R project (`project_id`, set only when the project started the claim) is the
    company's work: the claim is created and investigated by the company.
    `non_leak_warranty=False` is the rule of claims recorded before non-leak damage was
    checked against the workmanship warranty (they created the claim unchecked)."""
    if report.project_id is not None:
        return IntakeResult(decision="create_claim", recommendation="company",
                            reason=f"damage found during R&R project {report.project_id}")
    if not report.roof_leak and not non_leak_warranty:
        return IntakeResult(decision="create_claim",
                            recommendation=report.assignment_recommendation or "company",
                            reason="damage not related to a roof leak")
    kinds = ROOF_LEAK_COVER if report.roof_leak else NON_LEAK_COVER
    warranties = ("workmanship or roof-penetration warranty" if report.roof_leak
                  else "workmanship warranty (damage that is not a roof leak)")
    if report.installer == "sunrun":
        if covering_entitlements(report.entitlements, report.reported_on, kinds):
            return IntakeResult(decision="create_claim", under_warranty=True,
                                recommendation=report.assignment_recommendation or "company",
                                reason="company-installed, under warranty on the report date")
        return IntakeResult(decision="denied", under_warranty=False,
                            reason=f"company-installed, no {warranties} active on "
                                   f"{report.reported_on.isoformat()}")
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

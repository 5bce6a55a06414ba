"""How one process's case starts another's (spec 3.3-3.5, 3.8): the input a claim or an O&M
repair gives the R&R project it needs, the claim an R&R project opens for damage found on the
job, and the O&M case, follow-up or reactivation a support inquiry starts.
Pure functions of the parent's data, so a replay builds the same child input."""

from __future__ import annotations

import hashlib
from datetime import date

from domain.base import MAX_KEY
from domain.damage import ClaimPolicy, DamageClaimInput
from domain.effects import PartyRole
from domain.followup import FollowUpInput, FollowUpPolicy
from domain.homeowner import Homeowner
from domain.inquiry import SupportInquiryInput
from domain.om import OmCaseInput, OmPolicy
from domain.reactivation import ReactivationInput, ReactivationPolicy
from domain.rr import DamageReported, RemovalReinstallInput, RrPolicy
from domain.rules.contact_hours import ContactHours


def _rr_policy(hours: ContactHours, holidays: list[date] | None) -> RrPolicy:
    return RrPolicy(contact_hours=hours, holidays=list(holidays) if holidays is not None else None)


def _with_zone(homeowner: Homeowner, time_zone: str | None) -> Homeowner:
    """The homeowner with the zone the parent case settled on, so the child texts in the same
    hours."""
    if homeowner.time_zone or not time_zone:
        return homeowner
    return homeowner.model_copy(update={"time_zone": time_zone})


def rr_request_for_claim(claim: DamageClaimInput, claim_case_id: str, time_zone: str | None,
                         holidays: list[date] | None) -> RemovalReinstallInput:
    """The damage R&R a claim needs: project number = claim number, parent = the claim."""
    return RemovalReinstallInput(
        system_id=claim.system_id, project_no=claim.claim_no, variant="damage",
        market=claim.market, zip=claim.zip, reason=f"damage claim {claim.claim_no}",
        homeowner=_with_zone(claim.homeowner, time_zone), parent_claim_id=claim_case_id,
        policy=_rr_policy(claim.policy.contact_hours, holidays))


def rr_request_for_om(case: OmCaseInput, om_case_id: str, instance: str, time_zone: str | None,
                      holidays: list[date] | None) -> RemovalReinstallInput:
    """The damage R&R an O&M repair needs. One O&M workflow ID serves a system for years, so
    the project number names the case instance (`om` + its first run ID's start)."""
    return RemovalReinstallInput(
        system_id=case.system_id, project_no=f"om{instance.replace('-', '')[:8]}",
        variant="damage", market=case.market, zip=case.zip,
        reason="O&M repair needs the system removed",
        homeowner=_with_zone(case.homeowner, time_zone), parent_claim_id=om_case_id,
        policy=_rr_policy(case.policy.contact_hours, holidays))


def damage_claim_no(project_no: str, n: int) -> str:
    """`{project_no}-D{n}`, the claim number of a project's `n`th damage report; a project
    number too long for that (claim numbers are business keys of at most 64 characters) is
    cut and given a digest of the whole, so the number is valid and still unique: an input
    built inside a workflow must never fail validation (spec 2.1)."""
    suffix = f"-D{n}"
    claim_no = f"{project_no}{suffix}"
    if len(claim_no) <= MAX_KEY:
        return claim_no
    digest = hashlib.sha256(project_no.encode()).hexdigest()[:10]
    return f"{project_no[:MAX_KEY - len(suffix) - len(digest) - 1]}-{digest}{suffix}"


def claim_for_damage_found(project: RemovalReinstallInput, project_case_id: str, n: int,
                           found: DamageReported, reported_on: date, time_zone: str | None,
                           holidays: list[date] | None) -> DamageClaimInput:
    """The claim for the `n`th damage report of a project: claim number `{project_no}-D{n}`,
    company-installed, linked to the project (intake: the company's own work)."""
    return DamageClaimInput(
        system_id=project.system_id, claim_no=damage_claim_no(project.project_no, n),
        roof_leak=found.roof_leak, hazard=found.hazard, installer="sunrun", reported_on=reported_on,
        market=project.market, zip=project.zip,
        homeowner=_with_zone(project.homeowner, time_zone),
        description=found.description, project_id=project_case_id,
        policy=ClaimPolicy(contact_hours=project.policy.contact_hours,
                           holidays=list(holidays) if holidays is not None else None))


# ---- a hazard handed to the system's O&M case (spec 2.3) --------------------------------------


def _om_policy(hours: ContactHours, holidays: list[date] | None) -> OmPolicy:
    return OmPolicy(contact_hours=hours, holidays=list(holidays) if holidays is not None else None)


def hazard_report_for_claim(claim: DamageClaimInput, claim_case_id: str,
                            time_zone: str | None, holidays: list[date] | None) -> OmCaseInput:
    """The report that opens (or joins) the system's O&M case with a claim's hazard: what the
    claim knows of the installation; the agreement is not a claim's fact, so the O&M case
    goes to its manual track."""
    return OmCaseInput(
        system_id=claim.system_id, case_reason="hazardous_situation", source="customer",
        installer=claim.installer,
        installer_accepting_service_work=claim.installer_accepting_service_work,
        zip=claim.zip, market=claim.market, homeowner=_with_zone(claim.homeowner, time_zone),
        description=claim.description, hazard=claim.hazard, referred_by=claim_case_id,
        policy=_om_policy(claim.policy.contact_hours, holidays))


def hazard_report_for_inquiry(inq: SupportInquiryInput, inquiry_case_id: str) -> OmCaseInput:
    """The report that opens (or joins) the system's O&M case with an inquiry's hazard, from
    whatever the agent gathered (the inquiry's validator requires the market)."""
    d = inq.details
    assert d.market is not None  # the inquiry's validator checks
    return OmCaseInput(
        system_id=inq.system_id, case_reason="hazardous_situation", source="customer",
        installer=d.installer, installer_accepting_service_work=d.installer_accepting_service_work,
        agreement_type=inq.agreement_type, protection_plus=d.protection_plus,
        acquisition_channel=d.acquisition_channel, zip=d.zip, market=d.market,
        homeowner=inq.homeowner, description=d.description, hazard=d.hazard,
        referred_by=inquiry_case_id,
        policy=_om_policy(inq.policy.contact_hours, inq.policy.holidays))


# ---- a support inquiry's cases (spec 3.8) --------------------------------------------------


def om_report_for_inquiry(inq: SupportInquiryInput,
                          referred_by: str | None = None) -> OmCaseInput:
    """The O&M case a maintenance request or an outage opens (or joins): reported by the
    customer, about the inquiry's system; `referred_by` names the inquiry when the report
    carries its hazard."""
    d = inq.details
    reason = d.case_reason or ("system_failure" if inq.inquiry == "outage"
                               else "system_under_performance")
    assert d.zip and d.market and d.installer is not None  # the inquiry's validator checks
    return OmCaseInput(
        system_id=inq.system_id, case_reason=reason, source="customer", installer=d.installer,
        installer_accepting_service_work=bool(d.installer_accepting_service_work),
        agreement_type=inq.agreement_type, protection_plus=d.protection_plus,
        acquisition_channel=d.acquisition_channel, zip=d.zip, market=d.market,
        homeowner=inq.homeowner, description=d.description, hazard=d.hazard,
        referred_by=referred_by,
        policy=OmPolicy(contact_hours=inq.policy.contact_hours,
                        holidays=inq.policy.holidays))


def followup_for_inquiry(inq: SupportInquiryInput, party: PartyRole) -> FollowUpInput:
    """The follow-up an inquiry starts with the installer or the service department, under
    the inquiry's own CRM case ID."""
    d = inq.details
    email = d.installer_email if party == "installer" else inq.policy.service_department_email
    return FollowUpInput(
        case_id=inq.case_id, party=party, party_email=email,
        concern=d.concern or d.description, homeowner=inq.homeowner,
        best_time_to_reach=d.best_time_to_reach, concert_beam=d.concert_beam,
        party_name=d.installer_name if party == "installer" else inq.policy.service_department,
        system_id=inq.system_id, market=d.market, zip=d.zip,
        account_manager=d.account_manager, sales_manager=d.sales_manager,
        complaint_subtype=("Property Damage" if inq.inquiry == "personal_property_damage"
                           else "Unresponsive Installer"),
        policy=FollowUpPolicy(contact_hours=inq.policy.contact_hours,
                              holidays=inq.policy.holidays))


def reactivation_for_inquiry(inq: SupportInquiryInput) -> ReactivationInput:
    """The reactivation an inquiry starts, by the contract in its details."""
    d = inq.details
    assert d.contract_id and d.payment_date and d.payment_proof  # the validator checks
    return ReactivationInput(
        contract_id=d.contract_id, homeowner=inq.homeowner, payment_date=d.payment_date,
        payment_proof=d.payment_proof, system_id=inq.system_id, market=d.market, zip=d.zip,
        policy=ReactivationPolicy(contact_hours=inq.policy.contact_hours,
                                  holidays=inq.policy.holidays))

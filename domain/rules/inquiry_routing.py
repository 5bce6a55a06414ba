"""Support inquiry routing (spec 3.8; seeds 001, 002, 003): what the support team does with an
inquiry, by its type, the agreement (RIC or PPA) and whether M3 (the final milestone) is
approved. One row per case of the table; `ROUTING_TABLE` lists them for the docs and tests.

Decisions where the spec and seeds leave it open (docs/decisions.md):
- Cleaning is refused and a reactivation starts its process whatever the milestone.
- Before M3 the installer is responsible: monitoring questions get seed 001's reply ("...
  system production monitoring is currently unavailable ..."), other inquiries the installer
  reply without the monitoring sentence; personal property damage a follow-up with the
  installer.
- After M3, RIC: seed 003 refers maintenance, production issues and outages to the warranties
  of the contract package (no O&M case); property damage is a follow-up with the installer.
- After M3, PPA: maintenance requests and outages open or join an O&M case; an existing
  service-department escalation (seed 001) and "already spoke with Omnidian and heard nothing"
  are a follow-up with Omnidian, never a warm transfer back to it; the rest is a warm
  transfer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

InquiryType = Literal[
    "monitoring_access", "monitoring_data", "maintenance_request", "damage_report", "outage",
    "reactivation", "cleaning", "service_department_escalation", "personal_property_damage",
]
InquiryAgreement = Literal["ric", "ppa"]
Action = Literal["reply", "refuse", "om_case", "followup", "reactivation", "warm_transfer"]

MONITORING: frozenset[str] = frozenset({"monitoring_access", "monitoring_data"})

INQUIRY_TYPES: tuple[InquiryType, ...] = (
    "monitoring_access", "monitoring_data", "maintenance_request", "damage_report", "outage",
    "reactivation", "cleaning", "service_department_escalation", "personal_property_damage",
)


@dataclass(frozen=True)
class InquiryRoute:
    """What to do: the action, the standard reply (a template name, or None when the started
    process talks to the homeowner itself), the party of a follow-up, the outcome the inquiry
    closes with, and why (for the disposition notes)."""

    action: Action
    reply: str | None
    outcome: str
    why: str
    party: Literal["installer", "omnidian"] | None = None


def route_inquiry(inquiry: InquiryType, agreement: InquiryAgreement, m3_approved: bool,
                  already_contacted_omnidian: bool) -> InquiryRoute:
    """The route of one inquiry."""
    if inquiry == "cleaning":
        return InquiryRoute("refuse", "cleaning_not_provided", "refused",
                            "cleaning is not part of maintenance services")
    if inquiry == "reactivation":
        return InquiryRoute("reactivation", None, "reactivation_started",
                            "reactivation after non-payment (spec 3.6)")
    if not m3_approved:
        if inquiry == "personal_property_damage":
            return InquiryRoute("followup", "followup_started", "followup_started",
                                "personal property damage before M3: the installer is "
                                "responsible", party="installer")
        if inquiry in MONITORING:
            return InquiryRoute("reply", "m3_not_approved", "referred_to_installer",
                                "M3 not approved: monitoring is unavailable, the installer "
                                "is responsible")
        return InquiryRoute("reply", "m3_not_approved_installer", "referred_to_installer",
                            "M3 not approved: the installer is responsible")
    if agreement == "ric":
        if inquiry == "personal_property_damage":
            return InquiryRoute("followup", "followup_started", "followup_started",
                                "RIC property damage: follow-up with the installer",
                                party="installer")
        return InquiryRoute("reply", "ric_warranty_referral", "referred_to_warranty",
                            "RIC after M3: the contract package's warranties apply")
    if inquiry in ("maintenance_request", "outage"):
        return InquiryRoute("om_case", "inquiry_case_opened", "om_case",
                            f"PPA {inquiry.replace('_', ' ')} after M3: O&M case")
    if inquiry == "service_department_escalation":
        return InquiryRoute("followup", "followup_started", "followup_started",
                            "PPA after M3, an existing service-department escalation with no "
                            "update: follow-up with Omnidian", party="omnidian")
    if already_contacted_omnidian:
        return InquiryRoute("followup", "followup_started", "followup_started",
                            "PPA after M3, the service department has not answered: follow-up"
                            " with Omnidian", party="omnidian")
    return InquiryRoute("warm_transfer", "service_department_referral",
                        "transferred_to_service_department",
                        "PPA after M3: the service department (Omnidian) takes it")


def route_inquiry_v1(inquiry: InquiryType, agreement: InquiryAgreement, m3_approved: bool,
                     already_contacted_omnidian: bool) -> InquiryRoute:
    """The routing of inquiries recorded before the seeds' reading of issue 18 (RIC
    maintenance and outages opened an O&M case; a service-department escalation was a warm
    transfer; every pre-M3 reply spoke of monitoring): kept for their replays."""
    if inquiry == "cleaning":
        return InquiryRoute("refuse", "cleaning_not_provided", "refused",
                            "cleaning is not part of maintenance services")
    if inquiry == "reactivation":
        return InquiryRoute("reactivation", None, "reactivation_started",
                            "reactivation after non-payment (spec 3.6)")
    if not m3_approved:
        if inquiry == "personal_property_damage":
            return InquiryRoute("followup", "followup_started", "followup_started",
                                "personal property damage before M3: the installer is "
                                "responsible", party="installer")
        return InquiryRoute("reply", "m3_not_approved", "referred_to_installer",
                            "M3 not approved: the installer is responsible")
    if inquiry in ("maintenance_request", "outage"):
        return InquiryRoute("om_case", "inquiry_case_opened", "om_case",
                            f"{inquiry.replace('_', ' ')} after M3: O&M case")
    if agreement == "ric":
        if inquiry == "personal_property_damage":
            return InquiryRoute("followup", "followup_started", "followup_started",
                                "RIC property damage: follow-up with the installer",
                                party="installer")
        return InquiryRoute("reply", "ric_warranty_referral", "referred_to_warranty",
                            "RIC after M3: the contract package's warranties apply")
    if already_contacted_omnidian:
        return InquiryRoute("followup", "followup_started", "followup_started",
                            "PPA after M3, the service department has not answered: follow-up"
                            " with Omnidian", party="omnidian")
    return InquiryRoute("warm_transfer", "service_department_referral",
                        "transferred_to_service_department",
                        "PPA after M3: the service department (Omnidian) takes it")


def routing_table() -> list[tuple[InquiryType, InquiryAgreement, bool, bool, InquiryRoute]]:
    """Every combination of the inputs and its route (the docs' table; the tests' rows)."""
    return [(i, a, m3, omni, route_inquiry(i, a, m3, omni))
            for i in INQUIRY_TYPES for a in ("ric", "ppa") for m3 in (False, True)
            for omni in (False, True)]
